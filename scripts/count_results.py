#!/usr/bin/env python3
"""Print one line totalling the tests run by scripts/test.sh.

Adds up `cargo test`'s result lines, a pytest JUnit XML report and the gating files
of scripts/run_reference_tests.py's JSON summary, and prints
"tests: N passed, N failed, N skipped".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

CARGO_RESULT = re.compile(
    r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", re.MULTILINE
)


def count_cargo(path: Path) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for match in CARGO_RESULT.finditer(path.read_text(errors="replace")):
        passed += int(match[1])
        failed += int(match[2])
        skipped += int(match[3])
    return passed, failed, skipped


def count_junit(path: Path) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for case in ET.parse(path).getroot().iter("testcase"):
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            failed += 1
        elif "skipped" in tags:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def count_reference(path: Path) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for result in json.loads(path.read_text()):
        if result["gating"]:
            passed += result["passed"]
            failed += result["failed"] + result["error"]
            skipped += result["skipped"]
    return passed, failed, skipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cargo-log", type=Path)
    parser.add_argument("--junit", type=Path)
    parser.add_argument("--reference-json", type=Path)
    args = parser.parse_args()

    totals = [0, 0, 0]
    sources = [
        (args.cargo_log, count_cargo),
        (args.junit, count_junit),
        (args.reference_json, count_reference),
    ]
    for path, count in sources:
        if path is None:
            continue
        try:
            counts = count(path)
        except (OSError, ValueError, KeyError, ET.ParseError) as exc:
            print(f"count_results: cannot read {path}: {exc}", file=sys.stderr)
            continue
        totals = [a + b for a, b in zip(totals, counts)]
    print(f"tests: {totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
