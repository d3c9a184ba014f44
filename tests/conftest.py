"""Fixtures shared across test packages: the real recordings (golden tests; skipped when absent)
and a tiny real session plan (YAML text parsed by the protocol package) so that simulated
sessions stay short.

The real recordings live in ``tests/data/real/`` (ignored by git), put there by
``tools/fetch_test_data.sh`` (pinned upstream commits, sha256-checked; ``tools/test.sh`` runs it).
Tests that use them (the ``real_bag`` / ``sample_aedat4`` fixtures, directly or through other
fixtures) are golden tests; the terminal summary says how many ran and how many were skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

# Before anything loads OpenMP (torch, numba): idle OpenMP threads sleep instead of spinning. With
# the default (spin) policy a tiny conv2d took ~40 ms instead of ~1 ms whenever live ROS nodes or
# other jobs share the 2 cores; measured on the tuning replay test: 27.6 s -> 3.9 s.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest

from microexp.protocol.plan import SessionPlan, parse_plan

REAL_DATA = Path(__file__).resolve().parent / "data" / "real"
TEST_EVENTS_1 = REAL_DATA / "event_camera_py_test_events_1"
SAMPLE_AEDAT4 = REAL_DATA / "tonic_sample_aedat4" / "sample.aedat4"
GOLDEN_FIXTURES = ("real_bag", "sample_aedat4")
_GOLDEN = pytest.StashKey[dict[str, set[str]]]()

TINY_PLAN = """\
name: sim_tiny
description: "a demo-run AU12, then AU12 and AU4; short windows, one sync flash"
labels: [AU12, AU4]
order: fixed
repetitions: 1
timing:
  demo_repetitions: 1
  demo_clip_s: 0.2
  countdown_s: 0.3
  neutral_s: 0.0
  perform_s: 1.0
  rest_s: 0.3
demo_run:
  labels: [AU12]
sync:
  pattern: {flashes: 1, on_s: 0.1, off_s: 0.1}
  at_start: true
  per_segment: false
"""


@pytest.fixture(scope="session")
def real_bag() -> Path:
    """event_camera_py's test_events_1 (sqlite3, 517 EventPacket messages)."""
    if not (TEST_EVENTS_1 / "test_events_1.db3").is_file():
        pytest.skip(f"real data absent: {TEST_EVENTS_1} (run tools/fetch_test_data.sh)")
    return TEST_EVENTS_1


@pytest.fixture(scope="session")
def sample_aedat4() -> Path:
    """tonic's DVXplorer sample recording (AEDAT4, 111,954 events)."""
    if not SAMPLE_AEDAT4.is_file():
        pytest.skip(f"real data absent: {SAMPLE_AEDAT4} (run tools/fetch_test_data.sh)")
    return SAMPLE_AEDAT4


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_GOLDEN] = {"items": set(), "passed": set(), "failed": set(), "skipped": set()}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    golden = config.stash[_GOLDEN]["items"]
    for item in items:
        if any(f in getattr(item, "fixturenames", ()) for f in GOLDEN_FIXTURES):
            golden.add(item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    state = item.config.stash[_GOLDEN]
    if item.nodeid in state["items"]:
        if report.skipped:
            state["skipped"].add(item.nodeid)
        elif report.failed:
            state["failed"].add(item.nodeid)
        elif report.when == "call":
            state["passed"].add(item.nodeid)
    return report


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    state = config.stash[_GOLDEN]
    if not state["items"]:
        return
    passed = len(state["passed"] - state["failed"])
    skipped = len(state["skipped"])
    line = (
        f"golden tests on real recordings: {passed} passed, {len(state['failed'])} failed, "
        f"{skipped} skipped, of {len(state['items'])} selected"
    )
    if skipped:
        line += f" (data absent from {REAL_DATA}: run tools/fetch_test_data.sh)"
    terminalreporter.write_sep("-", line)


@pytest.fixture(scope="session")
def tiny_plan() -> SessionPlan:
    return parse_plan(TINY_PLAN, source="sim_tiny.yaml")


@pytest.fixture(scope="session")
def tiny_plan_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plans") / "sim_tiny.yaml"
    path.write_text(TINY_PLAN)
    return path
