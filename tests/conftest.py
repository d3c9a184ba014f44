"""Fixtures shared across test packages: the real recordings of the shared data (skipped when
absent) and a tiny real session plan (YAML text parsed by the protocol package) so that
simulated sessions stay short."""

from __future__ import annotations

from pathlib import Path

import pytest

from microexp.protocol.plan import SessionPlan, parse_plan

REAL_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
TEST_EVENTS_1 = REAL_DATA / "event_camera_py_test_events_1"
SAMPLE_AEDAT4 = REAL_DATA / "tonic_sample_aedat4" / "sample.aedat4"

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
    if not TEST_EVENTS_1.is_dir():
        pytest.skip(f"shared real data absent: {TEST_EVENTS_1}")
    return TEST_EVENTS_1


@pytest.fixture(scope="session")
def sample_aedat4() -> Path:
    """tonic's DVXplorer sample recording (AEDAT4, 111,954 events)."""
    if not SAMPLE_AEDAT4.is_file():
        pytest.skip(f"shared real data absent: {SAMPLE_AEDAT4}")
    return SAMPLE_AEDAT4


@pytest.fixture(scope="session")
def tiny_plan() -> SessionPlan:
    return parse_plan(TINY_PLAN, source="sim_tiny.yaml")


@pytest.fixture(scope="session")
def tiny_plan_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plans") / "sim_tiny.yaml"
    path.write_text(TINY_PLAN)
    return path
