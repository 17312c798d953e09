"""Test-side plumbing: locating and running the reference, comparing, reporting."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _diffcore

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RUNNER = HERE / "reference_runner.py"
REFERENCE_VERSION = "3.11.3"

#: seconds a single case may take in the reference before it is reported as hung
CASE_TIMEOUT = float(os.environ.get("APSCHEDULER_DIFF_CASE_TIMEOUT", "30"))
#: seconds one reference subprocess may take altogether
PROCESS_TIMEOUT = float(os.environ.get("APSCHEDULER_DIFF_PROCESS_TIMEOUT", "900"))
#: share of the cases whose trigger is pickled by ours and loaded by the reference
OUR_PICKLE_SHARE = float(os.environ.get("APSCHEDULER_DIFF_OUR_PICKLE_SHARE", "0.12"))


class ReferenceMissing(Exception):
    pass


class ReferenceFailed(Exception):
    pass


def reference_python() -> str:
    """Path of the interpreter that has the real APScheduler installed."""
    override = os.environ.get("APSCHEDULER_REF_PYTHON")
    if override:
        if not Path(override).exists():
            raise ReferenceMissing(f"APSCHEDULER_REF_PYTHON={override} does not exist")
        return override
    for candidate in (REPO / ".venv-ref" / "bin" / "python",
                      REPO / ".venv-ref" / "Scripts" / "python.exe"):
        if candidate.exists():
            return str(candidate)
    raise ReferenceMissing(
        f"no reference interpreter: neither {REPO / '.venv-ref' / 'bin' / 'python'} "
        "exists nor APSCHEDULER_REF_PYTHON is set"
    )


def selected_ids() -> set[str] | None:
    """Case ids from ``APSCHEDULER_DIFF_CASE`` (comma separated), if set."""
    raw = os.environ.get("APSCHEDULER_DIFF_CASE", "").strip()
    if not raw:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _run_chunk(python: str, cases: list, export_pickles: bool) -> dict:
    request = json.dumps({"cases": cases, "export_pickles": export_pickles,
                          "case_timeout": CASE_TIMEOUT})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    try:
        proc = subprocess.run(
            [python, "-I", str(RUNNER)], input=request, capture_output=True, text=True,
            timeout=PROCESS_TIMEOUT, env=env, cwd=str(HERE),
        )
    except subprocess.TimeoutExpired as exc:
        raise ReferenceFailed(
            f"the reference runner did not finish within {PROCESS_TIMEOUT}s "
            f"({len(cases)} cases, first {cases[0]['id'] if cases else None})"
        ) from exc
    if proc.returncode != 0:
        raise ReferenceFailed(
            f"the reference runner exited with {proc.returncode}:\n{proc.stderr[-4000:]}"
        )
    return json.loads(proc.stdout)


def run_reference(cases: list, export_pickles: bool = True, workers: int | None = None):
    """Evaluates ``cases`` in the reference interpreter. Returns ``(meta, results)``."""
    python = reference_python()
    if not cases:
        return {}, {}
    if workers is None:
        workers = max(1, min(4, os.cpu_count() or 1))
    # round-robin split keeps the slow cases spread over the workers
    chunks = [cases[i::workers] for i in range(workers)]
    chunks = [c for c in chunks if c]
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        answers = list(pool.map(lambda c: _run_chunk(python, c, export_pickles), chunks))
    meta = answers[0]["meta"]
    results = {}
    for answer in answers:
        results.update(answer["results"])
    if meta.get("apscheduler_version") != REFERENCE_VERSION:
        raise ReferenceFailed(
            f"{python} has APScheduler {meta.get('apscheduler_version')!r} "
            f"({meta.get('apscheduler_file')}), expected {REFERENCE_VERSION}"
        )
    if str(REPO / "python") in str(meta.get("apscheduler_file")):
        raise ReferenceFailed(f"the reference interpreter imports the package under test "
                              f"({meta.get('apscheduler_file')})")
    return meta, results


# ---------------------------------------------------------------------------
# our side
# ---------------------------------------------------------------------------


def _evaluate_ours(case):
    return _diffcore.evaluate_case(case)


def _load_ours(blob, case):
    return _diffcore.evaluate_pickle_blob(blob, case)


def _labelled(func, case_id):
    """``func`` with the case id as its file name, so that a hang dumped by
    faulthandler names the case that was being evaluated."""
    code = func.__code__.replace(co_filename=f"<differential case {case_id}>")
    return types.FunctionType(code, func.__globals__, func.__name__)


def evaluate_ours(case: dict) -> dict:
    return _labelled(_evaluate_ours, case["id"])(case)


def load_ours(blob: str, case: dict) -> dict:
    return _labelled(_load_ours, case["id"])(blob, case)


def _dump_ours(case):
    return _diffcore.dump_pickles(case)


def dump_ours(case: dict):
    """Our pickles of the trigger of ``case`` (see ``_diffcore.dump_pickles``)."""
    return _labelled(_dump_ours, case["id"])(case)


def our_pickle_sampled(case: dict, selected: bool = False) -> bool:
    """Whether our pickles of ``case`` are loaded by the reference.

    A fixed, pseudo-random ``OUR_PICKLE_SHARE`` of the cases, decided per case
    id (so it does not depend on which other cases are selected); every case
    that ``APSCHEDULER_DIFF_CASE`` names explicitly (``selected``).
    """
    if not case.get("pickle", True):
        return False
    if selected:
        return True
    return random.Random(f"our-pickle:{case['id']}").random() < OUR_PICKLE_SHARE


def pytz_available() -> bool:
    try:
        import pytz  # noqa: F401
    except ImportError:
        return False
    return True


def ours_location() -> str:
    try:
        import apscheduler

        return getattr(apscheduler, "__file__", "?") or "?"
    except Exception as exc:  # noqa: BLE001
        return f"<import failed: {exc!r}>"


# ---------------------------------------------------------------------------
# comparing
# ---------------------------------------------------------------------------

MISSING = "<missing>"


def diff(ref, ours, path: str = "", out: list | None = None, limit: int = 8) -> list:
    """Differences between two result structures as ``(path, ref, ours)``."""
    if out is None:
        out = []
    if len(out) >= limit:
        return out
    if isinstance(ref, dict) and isinstance(ours, dict) and ("exc" in ref) == ("exc" in ours):
        for key in list(ref) + [k for k in ours if k not in ref]:
            if key.startswith("_"):
                continue
            sub = f"{path}.{key}" if path else key
            if key not in ours:
                out.append((sub, ref[key], MISSING))
            elif key not in ref:
                out.append((sub, MISSING, ours[key]))
            else:
                diff(ref[key], ours[key], sub, out, limit)
            if len(out) >= limit:
                break
    elif isinstance(ref, list) and isinstance(ours, list):
        for i in range(max(len(ref), len(ours))):
            sub = f"{path}[{i}]"
            if i >= len(ref):
                out.append((sub, MISSING, ours[i]))
            elif i >= len(ours):
                out.append((sub, ref[i], MISSING))
            else:
                before = len(out)
                diff(ref[i], ours[i], sub, out, limit)
                if len(out) > before and path.endswith("fires"):
                    # later fire times follow from the first wrong one
                    if len(ref) != len(ours):
                        out.append((f"{path}.length", len(ref), len(ours)))
                    break
            if len(out) >= limit:
                break
    elif ref != ours or type(ref) is not type(ours):
        out.append((path, ref, ours))
    return out


def our_pickle_differences(ref: dict, dumped: dict, limit: int = 8) -> list:
    """How the reference treats our pickles of a case differently from its own.

    ``ref`` is the reference's result for a case that carried our pickles
    (``dumped``, from ``dump_ours``) in ``load_pickles``.  The baseline for each
    protocol is the reference's own ``pickle.loads(pickle.dumps(trigger,
    protocol))`` of the same case (``_own_pickles``; not the unpickled trigger:
    below protocol 4 ``datetime`` pickles lose ``fold`` in either package).
    Paths are prefixed with the protocol.  A pickle that ours cannot write is
    compared as the exception.
    """
    loaded = ref.get("_loaded_pickles") or {}
    own = ref.get("_own_pickles") or {}
    out = []
    for protocol, blob in dumped.items():
        expected = own.get(protocol, MISSING)
        got = loaded.get(protocol, MISSING) if isinstance(blob, str) else blob
        if isinstance(expected, dict) and expected.get("timeout"):
            out.append((f"protocol {protocol}", "<timed out in the reference: generator bug>",
                        None))
            continue
        if isinstance(got, dict) and got.get("timeout"):
            out.append((f"protocol {protocol}", "<loads and evaluates in time>",
                        "<timed out in the reference>"))
            continue
        out += [(f"protocol {protocol}" + ("." + path if path else ""), r, o)
                for path, r, o in diff(expected, got, limit=limit)]
    return out[:limit]


def symptom(path: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", path)


def _short(value, width: int = 300) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def format_mismatches(title: str, mismatches: list, total: int, meta: dict,
                      shown: int = 5, labels: tuple = ("reference", "ours")) -> str:
    """``mismatches`` is a list of ``(case, differences)``; ``labels`` name the
    two sides of each difference."""
    from collections import Counter

    counts = Counter()
    for _, differences in mismatches:
        for key in {symptom(p) for p, _, _ in differences}:
            counts[key] += 1
    lines = [f"{title}: {len(mismatches)} of {total} cases differ from APScheduler "
             f"{REFERENCE_VERSION} (ours: {ours_location()})"]
    env_notes = environment_notes(meta)
    lines.extend(env_notes)
    lines.append("cases per differing item: " + ", ".join(
        f"{key} ({n})" for key, n in counts.most_common()))
    for case, differences in mismatches[:shown]:
        lines.append("")
        lines.append(f"--- {case['id']}  (re-run: python tests/differential/replay.py "
                     f"{case['id']})")
        lines.append("case: " + json.dumps({k: v for k, v in case.items() if k != "id"},
                                           sort_keys=True))
        width = max(len(label) for label in labels) + 1
        for path, ref, ours in differences:
            lines.append(f"  {path or '<result>'}:")
            lines.append(f"      {labels[0] + ':':<{width}} {_short(ref)}")
            lines.append(f"      {labels[1] + ':':<{width}} {_short(ours)}")
    if len(mismatches) > shown:
        lines.append("")
        lines.append("other differing cases: " + " ".join(c["id"] for c, _ in mismatches[shown:50])
                     + (" ..." if len(mismatches) > 50 else ""))
    return "\n".join(lines)


def environment_notes(meta: dict) -> list:
    """Differences between the two interpreters that can cause legitimate mismatches."""
    if not meta:
        return []
    ours = _diffcore.environment_info()
    notes = []
    for key in ("python", "tzdata_zi", "tzdata_pkg", "tzpath"):
        if ours.get(key) != meta.get(key):
            notes.append(f"NOTE: {key} differs: reference {meta.get(key)!r}, "
                         f"ours {ours.get(key)!r}")
    return notes
