#!/usr/bin/env python3
"""Run APScheduler 3.11.3's own test suite against the installed ``apscheduler``.

The tests come from the reference sdist unpacked by scripts/bootstrap.sh
(.cache/apscheduler-3.11.3/tests).  They are copied into a temporary directory as the
package ``tests`` (some tests refer to themselves as ``tests.test_util:...``) and run
from there, so the sdist's src/ is never importable: ``import apscheduler`` finds the
package installed in the interpreter that runs this script (normally .venv's, with
this project built into it by scripts/build.sh).

Every test file runs in its own pytest process with a per-test timeout (pytest-timeout)
and a per-file time limit; the gating and the other files each have a total time
budget too, so a hanging engine cannot stall the run.  Files in GATING must pass
completely, otherwise the exit status is 1.  The other files are run and reported as
"not yet gating" and never fail the run; a file that passes completely is flagged so
that it can be moved into GATING.  Per-file pytest output and JUnit XML reports are
kept in target/test-reports/reference/.

Usage (from the repository root):
    .venv/bin/python scripts/run_reference_tests.py [--gating-only] [-v]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REF_VERSION = "3.11.3"
DEFAULT_SDIST = ROOT / ".cache" / f"apscheduler-{REF_VERSION}"
REPORT_DIR = ROOT / "target" / "test-reports" / "reference"
SERVERS_PLUGIN = ROOT / "scripts" / "reference_servers.py"

# Test files (relative to the sdist root) that must pass completely.
GATING = [
    "tests/triggers/test_calendarinterval.py",
    "tests/triggers/test_combining.py",
    "tests/triggers/test_cron.py",
    "tests/triggers/test_date.py",
    "tests/triggers/test_interval.py",
    "tests/test_expressions.py",
    "tests/test_util.py",
    "tests/test_job.py",
    "tests/test_jobstores.py",
    "tests/test_schedulers.py",
    "tests/test_executors.py",
]

# Tests of a gating file that belong to parts not built yet, deselected by pytest -k
# so that the rest of the file still gates. Each entry says what it waits for.
NOT_YET: dict[str, str] = {}


@dataclass
class FileResult:
    path: str
    gating: bool
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    error: int = 0
    exit_code: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    log: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.exit_code == 0
            and self.failed == 0
            and self.error == 0
            and self.passed > 0
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--gating-only", action="store_true", help="run only the gating test files"
    )
    parser.add_argument(
        "--sdist",
        type=Path,
        default=DEFAULT_SDIST,
        help="unpacked reference sdist (default: %(default)s)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter whose installed apscheduler is tested "
        "(default: the one running this script)",
    )
    parser.add_argument(
        "--test-timeout",
        type=float,
        default=30,
        help="pytest-timeout limit for one test, in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--file-timeout",
        type=float,
        default=120,
        help="limit for one test file's pytest run, in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--gating-budget",
        type=float,
        default=300,
        help="total time for all gating files, in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--non-gating-budget",
        type=float,
        default=240,
        help="total time for all non-gating files, in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--summary-json",
        type=Path,
        help="also write the per-file results to this JSON file",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print every file's pytest output, not just failing gating files'",
    )
    parser.add_argument(
        "files",
        nargs="*",
        help="run only these test files (paths relative to the sdist, e.g. "
        "tests/test_job.py)",
    )
    return parser.parse_args(argv)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    # Nothing but the interpreter's own site-packages may provide apscheduler.
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # QtScheduler's tests create a QCoreApplication; no display is needed or wanted.
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def prepare_workdir(sdist: Path, workdir: Path) -> None:
    """Copy the sdist's tests/ folder and its pytest configuration into workdir."""
    shutil.copytree(
        sdist / "tests",
        workdir / "tests",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    # The reference's [tool.pytest.ini_options] (addopts, filterwarnings, markers)
    # lives in its pyproject.toml; pytest reads it from there when given -c.
    shutil.copy2(sdist / "pyproject.toml", workdir / "pyproject.toml")
    # Skips the tests whose database server is not running (loaded with -p).
    shutil.copy2(SERVERS_PLUGIN, workdir / SERVERS_PLUGIN.name)


def locate_apscheduler(python: str, workdir: Path, sdist: Path) -> tuple[bool, str]:
    """Check which apscheduler the test processes will import."""
    code = (
        "import importlib.metadata as md, apscheduler\n"
        "dists = md.packages_distributions().get('apscheduler', ['?'])\n"
        "print(apscheduler.__file__)\n"
        "print(', '.join(f'{d} {md.version(d)}' for d in dists))\n"
    )
    proc = subprocess.run(
        [python, "-c", code],
        cwd=workdir,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        return False, "cannot import apscheduler:\n" + proc.stderr.strip()
    location, dists = proc.stdout.strip().splitlines()[-2:]
    try:
        Path(location).resolve().relative_to(sdist.resolve())
    except ValueError:
        return True, f"{location} ({dists})"
    return False, f"apscheduler was imported from the reference sdist: {location}"


def count_junit(xml_path: Path, result: FileResult) -> None:
    root = ET.parse(xml_path).getroot()
    for case in root.iter("testcase"):
        tags = {child.tag for child in case}
        if "failure" in tags:
            result.failed += 1
        elif "error" in tags:
            result.error += 1
        elif "skipped" in tags:
            result.skipped += 1
        else:
            result.passed += 1
        for child in case:
            if child.tag == "error" and "collection failure" in (
                child.get("message") or ""
            ):
                result.notes.append("collection error")


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_file(
    args: argparse.Namespace,
    workdir: Path,
    rel: str,
    gating: bool,
    time_limit: float,
) -> FileResult:
    result = FileResult(path=rel, gating=gating)
    slug = rel.replace("/", "_").removesuffix(".py")
    xml_path = REPORT_DIR / f"{slug}.xml"
    log_path = REPORT_DIR / f"{slug}.log"
    xml_path.unlink(missing_ok=True)
    cmd = [
        args.python,
        "-m",
        "pytest",
        "-c",
        str(workdir / "pyproject.toml"),
        "--rootdir",
        str(workdir),
        "-p",
        "timeout",
        "--timeout",
        str(args.test_timeout),
        "-p",
        "no:cacheprovider",
        "-p",
        SERVERS_PLUGIN.stem,
        "--junitxml",
        str(xml_path),
        "-o",
        "junit_logging=no",
        "-q",
        rel,
    ]
    if gating and rel in NOT_YET:
        cmd += ["-k", NOT_YET[rel]]
    start = time.monotonic()
    # own session, so that a time-out also ends the processes the tests started
    proc = subprocess.Popen(
        cmd,
        cwd=workdir,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        result.log, _ = proc.communicate(timeout=time_limit)
        result.exit_code = proc.returncode
    except subprocess.TimeoutExpired:
        kill_group(proc)
        result.log, _ = proc.communicate()
        result.notes.append(f"killed after {time_limit:.0f}s")
    finally:
        kill_group(proc)  # leftovers of a finished run, if any
    result.seconds = time.monotonic() - start
    log_path.write_text(result.log)

    if xml_path.exists():
        try:
            count_junit(xml_path, result)
        except ET.ParseError as exc:
            result.notes.append(f"unreadable report: {exc}")
            result.error += 1
    elif result.exit_code is not None:
        # pytest stopped before writing a report (e.g. conftest.py failed to import)
        result.error += 1
        result.notes.append(f"pytest exited with {result.exit_code} and no report")
    else:
        result.error += 1
    if result.exit_code == 5:
        result.notes.append("no tests collected")
    result.notes = list(dict.fromkeys(result.notes))
    return result


def status_of(result: FileResult) -> str:
    if result.gating:
        status = "ok" if result.ok else "FAILED"
    elif result.ok:
        status = "not yet gating, passes: can be made gating"
    else:
        status = "not yet gating"
    if result.notes:
        status += " (" + "; ".join(result.notes) + ")"
    return status


def print_table(results: list[FileResult]) -> None:
    width = max([len(r.path) for r in results] + [len("file")])
    header = (
        f"{'file':<{width}}  {'passed':>6} {'failed':>6} {'skipped':>7} "
        f"{'error':>5} {'time':>6}  status"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.path:<{width}}  {r.passed:>6} {r.failed:>6} {r.skipped:>7} "
            f"{r.error:>5} {r.seconds:>5.1f}s  {status_of(r)}"
        )
    print("-" * len(header))


def tail(text: str, lines: int = 60) -> str:
    parts = text.rstrip().splitlines()
    if len(parts) > lines:
        parts = [f"... ({len(parts) - lines} lines omitted)"] + parts[-lines:]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.sep in args.python:
        # the test processes run elsewhere; keep the venv's own path (no resolve())
        args.python = os.path.abspath(args.python)
    sdist = args.sdist.resolve()
    if not (sdist / "tests").is_dir():
        print(
            f"error: {sdist}/tests not found; run scripts/bootstrap.sh first",
            file=sys.stderr,
        )
        return 2

    all_files = sorted(
        p.relative_to(sdist).as_posix() for p in (sdist / "tests").rglob("test_*.py")
    )
    missing = [f for f in GATING if f not in all_files]
    if missing:
        print(f"error: gating files missing from the sdist: {missing}", file=sys.stderr)
        return 2
    if args.files:
        unknown = [f for f in args.files if f not in all_files]
        if unknown:
            print(f"error: unknown test files: {unknown}", file=sys.stderr)
            return 2
        selected = [f for f in all_files if f in args.files]
    elif args.gating_only:
        selected = list(GATING)
    else:
        # gating files first, so their verdict does not wait for slow engine tests
        selected = list(GATING) + [f for f in all_files if f not in GATING]

    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    results: list[FileResult] = []
    with tempfile.TemporaryDirectory(prefix="apscheduler-reference-tests-") as tmp:
        workdir = Path(tmp)
        prepare_workdir(sdist, workdir)
        found, where = locate_apscheduler(args.python, workdir, sdist)
        print(f"reference test suite: APScheduler {REF_VERSION} from {sdist}")
        print(f"testing apscheduler: {where}")
        if not found:
            return 1
        print(flush=True)

        # Each file gets at most --file-timeout, and each group at most its budget;
        # files left when a budget is used up are reported as not run.
        budgets = {True: args.gating_budget, False: args.non_gating_budget}
        deadlines: dict[bool, float] = {}
        for rel in selected:
            gating = rel in GATING
            deadline = deadlines.setdefault(gating, time.monotonic() + budgets[gating])
            limit = min(args.file_timeout, deadline - time.monotonic())
            if limit < 5:
                # a gating file that could not run counts as one error
                not_run = FileResult(path=rel, gating=gating, error=int(gating))
                not_run.notes.append("not run: out of time")
                results.append(not_run)
                print(f"  {rel}: not run (time budget used up)", flush=True)
                continue
            result = run_file(args, workdir, rel, gating, limit)
            results.append(result)
            print(
                f"  {rel}: {result.passed} passed, {result.failed} failed, "
                f"{result.skipped} skipped, {result.error} error "
                f"in {result.seconds:.1f}s",
                flush=True,
            )
            if args.verbose or (gating and not result.ok):
                print(tail(result.log) if not args.verbose else result.log.rstrip())
                print(flush=True)

    print()
    print_table(results)
    gating_results = [r for r in results if r.gating]
    failed_gating = [r.path for r in gating_results if not r.ok]
    if args.summary_json:
        args.summary_json.parent.mkdir(parents=True, exist_ok=True)
        args.summary_json.write_text(
            json.dumps(
                [
                    {k: v for k, v in asdict(r).items() if k != "log"} | {"ok": r.ok}
                    for r in results
                ],
                indent=2,
            )
        )
    print(f"pytest output of each file: {REPORT_DIR.relative_to(ROOT)}/")
    if failed_gating:
        print("gating files not passing: " + ", ".join(failed_gating))
    if gating_results:
        # a gating file that failed without a failing test (no tests, crash,
        # time limit) still counts as one failure
        failed = sum(max(r.failed + r.error, 0 if r.ok else 1) for r in gating_results)
        passed = sum(r.passed for r in gating_results)
        skipped = sum(r.skipped for r in gating_results)
        print(f"gating: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed_gating else 0


if __name__ == "__main__":
    sys.exit(main())
