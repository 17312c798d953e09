"""Evaluates differential cases with the reference APScheduler.

Run under the reference interpreter (``.venv-ref/bin/python -I``).  Reads
``{"cases": [...], "export_pickles": bool, "case_timeout": seconds}`` as JSON
from stdin and writes ``{"meta": {...}, "results": {case_id: result}}`` as JSON
to stdout.  A case that takes longer than ``case_timeout`` seconds is
interrupted and reported as ``{"timeout": true}``.

A case may carry ``"load_pickles": {protocol: base64 text or null}``: pickles
of its trigger written by the package under test (null where it could not write
one).  Each is loaded and evaluated (``_diffcore.evaluate_pickle_blob``), and
the reference's own round trip with every protocol is evaluated too
(``_diffcore.evaluate_roundtrip``), each with a timeout of its own.  They are
reported in the case's result as ``"_loaded_pickles"`` and ``"_own_pickles"``,
both ``{protocol: result or {"timeout": true}}``.
"""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _diffcore  # noqa: E402


class CaseTimeout(BaseException):
    pass


def _on_alarm(signum, frame):
    raise CaseTimeout()


def main() -> int:
    request = json.load(sys.stdin)
    import apscheduler

    try:
        import importlib.metadata as md

        version = md.version("APScheduler")
    except Exception:  # noqa: BLE001
        version = None

    meta = dict(_diffcore.environment_info())
    meta["apscheduler_file"] = apscheduler.__file__
    meta["apscheduler_version"] = version

    timeout = float(request.get("case_timeout", 30))
    export = bool(request.get("export_pickles"))
    signal.signal(signal.SIGALRM, _on_alarm)

    def timed(func):
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return func()
        except CaseTimeout:
            return {"timeout": True}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    results = {}
    for case in request["cases"]:
        result = timed(lambda: _diffcore.evaluate_case(case, export_pickle=export))
        results[case["id"]] = result
        foreign = case.get("load_pickles")
        if foreign and not result.get("timeout"):
            result["_loaded_pickles"] = {
                protocol: timed(lambda: _diffcore.evaluate_pickle_blob(blob, case))
                for protocol, blob in foreign.items() if blob is not None
            }
            result["_own_pickles"] = {
                protocol: timed(lambda: _diffcore.evaluate_roundtrip(case, int(protocol)))
                for protocol in foreign
            }

    json.dump({"meta": meta, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
