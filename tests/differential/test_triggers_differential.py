"""Differential tests of the triggers against the real APScheduler 3.11.3.

Thousands of cases are generated deterministically (``_generate.py``, fixed
seeds) and evaluated twice with the same code (``_diffcore.py``):

* by the reference: ``reference_runner.py`` running under the reference
  interpreter, fed every selected case as JSON on stdin (a couple of
  subprocesses in parallel, started once per pytest session);
* by ours: in-process, with whatever ``apscheduler`` this interpreter imports.

For each case the results must agree exactly: every fire time (``str(dt)``,
tzinfo type and key, ``fold`` and the UTC instant), ``str()`` and ``repr()`` of
the trigger, a few public attributes, the shape of ``__getstate__()`` (keys,
version, value types), the same again after ``pickle.loads(pickle.dumps(t))``,
and for invalid input the exception type name and message.  In addition, the
reference's pickles of about a quarter of the cases are loaded by our package
(``test_reference_pickles_load``) and must behave like the reference's own
round-trip.  The other way round, our triggers of about an eighth of the cases
(``APSCHEDULER_DIFF_OUR_PICKLE_SHARE``, default 0.12) are pickled in-process
with protocol 2 and the highest protocol and sent along to the reference, which
loads them and must get the same results as from its own pickles of the same
trigger and protocol (``test_our_pickles_load_in_reference``): job stores must
survive switching back to APScheduler.  How long each side takes is recorded
but never compared.

The reference interpreter is ``<repo>/.venv-ref/bin/python`` unless
``APSCHEDULER_REF_PYTHON`` names another one.  Without it the tests are
skipped, or fail when the ``CI`` environment variable is set.

Re-running cases
----------------
Every case has an id such as ``cron-s2-0137`` (``<group>-<index>``); failure
messages list the differing ones.  To look at one case in detail (case
description, both results and their differences)::

    .venv/bin/python tests/differential/replay.py cron-s2-0137

To run only some cases through pytest::

    APSCHEDULER_DIFF_CASE=cron-s2-0137,interval-s0-0005 \\
        .venv/bin/python -m pytest tests/differential -k "cron_expressions or interval"

``-k cron-s2`` selects one group.  Every case named in ``APSCHEDULER_DIFF_CASE``
also has its pickles checked by ``test_our_pickles_load_in_reference``, sampled
or not.  If our package hangs, the process is ended
after ``APSCHEDULER_DIFF_OURS_TIMEOUT`` seconds (default 240) per test and the
traceback dump names the case (``File "<differential case ...>"``).
"""

from __future__ import annotations

import faulthandler
import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _diffcore  # noqa: E402
import _generate  # noqa: E402
import _harness  # noqa: E402

OURS_TIMEOUT = float(os.environ.get("APSCHEDULER_DIFF_OURS_TIMEOUT", "240"))


def _groups(*kinds: str) -> list:
    return [name for name in _generate.group_names() if name.rsplit("-s", 1)[0] in kinds]


def _cases(group: str) -> list:
    cases = _generate.generate_group(group)
    wanted = _harness.selected_ids()
    if wanted is not None:
        cases = [c for c in cases if c["id"] in wanted]
    return cases


class Reference:
    """Reference results of every case selected in this pytest session.

    ``our_pickles`` maps the id of every case whose trigger ours pickled for
    the reference to load to what ``_harness.dump_ours`` returned.
    """

    def __init__(self, meta: dict, results: dict, elapsed: float,
                 our_pickles: dict | None = None, dump_elapsed: float = 0.0):
        self.meta = meta
        self.results = results
        self.elapsed = elapsed
        self.our_pickles = our_pickles or {}
        self.dump_elapsed = dump_elapsed


def _attach_our_pickles(cases: list, groups: set) -> tuple[dict, float]:
    """Pickles the triggers of the sampled cases of ``groups`` with ours and
    attaches them to the cases (``load_pickles``) for the reference to load."""
    wanted = _harness.selected_ids()
    have_pytz = _harness.pytz_available()
    dumped = {}
    started = time.perf_counter()
    faulthandler.dump_traceback_later(OURS_TIMEOUT, exit=True)
    try:
        for case in cases:
            if case["id"].rsplit("-", 1)[0] not in groups:
                continue
            if not _harness.our_pickle_sampled(case, selected=wanted is not None):
                continue
            if not have_pytz and _diffcore.uses_pytz(case):
                continue
            blobs = _harness.dump_ours(case)
            dumped[case["id"]] = blobs
            if blobs:
                case["load_pickles"] = {p: b if isinstance(b, str) else None
                                        for p, b in blobs.items()}
    finally:
        faulthandler.cancel_dump_traceback_later()
    return dumped, time.perf_counter() - started


@pytest.fixture(scope="session")
def reference(request) -> Reference:
    try:
        _harness.reference_python()
    except _harness.ReferenceMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"reference interpreter missing on CI: {exc}")
        pytest.skip(str(exc))

    groups = []
    pickle_groups = set()
    this_file = Path(__file__).resolve()
    for item in request.session.items:
        if Path(str(item.fspath)).resolve() != this_file:
            continue
        group = getattr(item, "callspec", None) and item.callspec.params.get("group")
        if group and group not in groups:
            groups.append(group)
        if group and item.originalname == test_our_pickles_load_in_reference.__name__:
            pickle_groups.add(group)
    cases = [case for group in groups for case in _cases(group)]
    our_pickles, dump_elapsed = _attach_our_pickles(cases, pickle_groups)
    started = time.perf_counter()
    meta, results = _harness.run_reference(cases)
    return Reference(meta, results, time.perf_counter() - started, our_pickles, dump_elapsed)


def _compare_group(reference: Reference, group: str, loaded_pickles: bool = False):
    cases = _cases(group)
    if not cases:
        pytest.skip("no case of this group selected by APSCHEDULER_DIFF_CASE")
    have_pytz = _harness.pytz_available()
    mismatches = []
    skipped = 0
    compared = 0
    ours_elapsed = 0.0
    faulthandler.dump_traceback_later(OURS_TIMEOUT, exit=True)
    try:
        for case in cases:
            if not have_pytz and _diffcore.uses_pytz(case):
                skipped += 1
                continue
            ref = reference.results.get(case["id"])
            if ref is None:
                mismatches.append((case, [("", "<no reference result>", None)]))
                continue
            if ref.get("timeout"):
                mismatches.append((case, [("", "<reference timed out: generator bug>", None)]))
                continue
            started = time.perf_counter()
            if loaded_pickles:
                blob = ref.get("_pickle_b64")
                if blob is None:
                    continue
                ref = ref["pickled"]
                ours = _harness.load_ours(blob, case)
            else:
                ours = _harness.evaluate_ours(case)
            ours_elapsed += time.perf_counter() - started
            compared += 1
            differences = _harness.diff(ref, ours)
            if differences:
                mismatches.append((case, differences))
    finally:
        faulthandler.cancel_dump_traceback_later()

    print(f"{group}: {compared} cases compared, ours took {ours_elapsed:.2f}s "
          f"(reference session total {reference.elapsed:.2f}s)")
    if skipped:
        print(f"{group}: {skipped} cases skipped: they need pytz, which is not installed here")
    if mismatches:
        title = group + (" (reference pickles loaded by ours)" if loaded_pickles else "")
        pytest.fail(_harness.format_mismatches(title, mismatches, compared, reference.meta),
                    pytrace=False)


@pytest.mark.parametrize("group", _groups("cron"))
def test_cron_expressions(reference, group):
    _compare_group(reference, group)


@pytest.mark.parametrize("group", _groups("crondst"))
def test_cron_dst_transitions(reference, group):
    _compare_group(reference, group)


@pytest.mark.parametrize("group", _groups("crontab"))
def test_cron_from_crontab(reference, group):
    _compare_group(reference, group)


@pytest.mark.parametrize("group", _groups("never"))
def test_cron_never_matching(reference, group):
    _compare_group(reference, group)


@pytest.mark.parametrize("group", _groups("interval"))
def test_interval(reference, group):
    _compare_group(reference, group)


@pytest.mark.parametrize("group", _groups("date"))
def test_date(reference, group):
    _compare_group(reference, group)


@pytest.mark.parametrize("group", _groups("calendarinterval"))
def test_calendarinterval(reference, group):
    _compare_group(reference, group)


@pytest.mark.parametrize("group", _groups("combining"))
def test_combining(reference, group):
    _compare_group(reference, group)


@pytest.mark.parametrize("group", _groups("invalid"))
def test_invalid_input(reference, group):
    _compare_group(reference, group)


@pytest.mark.parametrize(
    "group", _groups("cron", "crondst", "crontab", "interval", "date", "calendarinterval",
                     "combining"))
def test_reference_pickles_load(reference, group):
    """Pickles written by APScheduler 3.11.3 (e.g. in a job store) load in ours."""
    _compare_group(reference, group, loaded_pickles=True)


def _compare_our_pickles(reference: Reference, group: str):
    cases = [case for case in _cases(group) if case["id"] in reference.our_pickles]
    if not cases:
        pytest.skip("no case of this group sampled or selected by APSCHEDULER_DIFF_CASE")
    mismatches = []
    compared = loads = 0
    for case in cases:
        dumped = reference.our_pickles[case["id"]]
        ref = reference.results.get(case["id"])
        if ref is None:
            mismatches.append((case, [("", "<no reference result>", None)]))
            continue
        if ref.get("timeout"):
            mismatches.append((case, [("", "<reference timed out>", None)]))
            continue
        if dumped is None or "error" in ref:
            # the trigger cannot be built: compared by the group's ordinary test
            continue
        compared += 1
        loads += sum(isinstance(blob, str) for blob in dumped.values())
        differences = _harness.our_pickle_differences(ref, dumped)
        if differences:
            mismatches.append((case, differences))

    print(f"{group}: our pickles of {compared} cases loaded by the reference "
          f"({loads} loads, protocols {', '.join(map(str, _diffcore.DUMP_PROTOCOLS))}); "
          f"ours pickled the {len(reference.our_pickles)} sampled cases of this session "
          f"in {reference.dump_elapsed:.2f}s")
    if mismatches:
        pytest.fail(_harness.format_mismatches(
            f"{group} (our pickles loaded by the reference)", mismatches, compared,
            reference.meta, labels=("reference, own pickle", "reference, our pickle")),
            pytrace=False)


@pytest.mark.parametrize(
    "group", _groups("cron", "crondst", "crontab", "interval", "date", "calendarinterval",
                     "combining"))
def test_our_pickles_load_in_reference(reference, group):
    """Pickles written by ours (protocol 2 and the highest) load in APScheduler
    3.11.3 and behave there like the reference's own pickles of the same trigger,
    so that job stores survive switching back."""
    _compare_our_pickles(reference, group)
