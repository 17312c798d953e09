"""Re-runs differential cases by id and shows both results side by side.

Usage (with the interpreter whose ``apscheduler`` is to be checked)::

    .venv/bin/python tests/differential/replay.py cron-s2-0137 [more ids] [--full]

Prints the case description, the differences between the reference and ours
(including the reference's pickle loaded by ours and our pickles loaded by the
reference) and, with ``--full``, both complete results.  Exit status 1 if any
differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _generate  # noqa: E402
import _harness  # noqa: E402


def main(argv: list) -> int:
    full = "--full" in argv
    ids = [a for a in argv if not a.startswith("--")]
    if not ids:
        print(__doc__)
        return 2
    cases = [_generate.find_case(case_id) for case_id in ids]
    # our pickles of every case go along for the reference to load
    our_pickles = {}
    sent = []
    for case in cases:
        case = dict(case)
        if case.get("pickle", True):
            our_pickles[case["id"]] = blobs = _harness.dump_ours(case)
            if blobs:
                case["load_pickles"] = {p: b if isinstance(b, str) else None
                                        for p, b in blobs.items()}
        sent.append(case)
    meta, ref_results = _harness.run_reference(sent, workers=1)
    for note in _harness.environment_notes(meta):
        print(note)
    print(f"ours: {_harness.ours_location()}")
    status = 0
    for case in cases:
        ref = ref_results[case["id"]]
        ours = _harness.evaluate_ours(case)
        print(f"=== {case['id']}")
        print(json.dumps({k: v for k, v in case.items() if k != "id"}, indent=2,
                         sort_keys=True))
        differences = _harness.diff(ref, ours, limit=50)
        if ref.get("_pickle_b64"):
            loaded = _harness.load_ours(ref["_pickle_b64"], case)
            differences += [("<reference pickle loaded by ours>." + p, r, o)
                            for p, r, o in _harness.diff(ref.get("pickled"), loaded, limit=20)]
        if our_pickles.get(case["id"]) and "error" not in ref:
            differences += [
                ("<our pickle loaded by the reference>." + p, r, o)
                for p, r, o in _harness.our_pickle_differences(
                    ref, our_pickles[case["id"]], limit=20)]
        if full:
            # "_loaded_pickles" (our pickles loaded by the reference) is compared
            # with "_own_pickles" (its own round trip with the same protocol)
            print("--- reference")
            print(json.dumps({k: v for k, v in ref.items() if k != "_pickle_b64"}, indent=2))
            print("--- ours")
            print(json.dumps(ours, indent=2))
        if differences:
            status = 1
            print("--- differences")
            for path, r, o in differences:
                print(f"{path or '<result>'}:\n    reference: {r!r}\n    ours:      {o!r}")
        else:
            print("--- identical")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
