"""Evaluates differential cases with the reference APScheduler.

Run under the reference interpreter (``.venv-ref/bin/python -I``).  Reads
``{"cases": [...], "export_pickles": bool, "case_timeout": seconds}`` as JSON
from stdin and writes ``{"meta": {...}, "results": {case_id: result}}`` as JSON
to stdout.  A case that takes longer than ``case_timeout`` seconds is
interrupted and reported as ``{"timeout": true}``.
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
    results = {}
    for case in request["cases"]:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            results[case["id"]] = _diffcore.evaluate_case(case, export_pickle=export)
        except CaseTimeout:
            results[case["id"]] = {"timeout": True}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    json.dump({"meta": meta, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
