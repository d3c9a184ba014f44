"""The protocol node live: real processes and DDS on loopback; operator console -> services."""

from __future__ import annotations

import importlib.util
import itertools
import json
import subprocess
import time
from pathlib import Path

import cv2
import pytest

from microexp.protocol.events import EventKind, Phase, ProtocolEvent
from microexp.protocol.labels import segments_from_events

from .conftest import INSTALL, RosLauncher, RosProc

pytestmark = [
    pytest.mark.ros,
    pytest.mark.skipif(
        importlib.util.find_spec("std_srvs") is None,
        reason="std_srvs is not installed (ros-jazzy-std-srvs, tools/setup_ros.sh)",
    ),
]

S = 1_000_000_000
PLAN = """\
name: live_2au
labels: [AU12, AU45]
order: fixed
repetitions: 1
timing: {demo_repetitions: 1, demo_clip_s: 0.3, countdown_s: 0.4, neutral_s: 0.0,
         perform_s: 0.8, rest_s: 0.3}
demo_run: {labels: []}
sync:
  pattern: {flashes: 1, on_s: 0.1, off_s: 0.1}
  at_start: true
  per_segment: false
"""
NOMINAL = {Phase.DEMO: 0.3, Phase.COUNTDOWN: 0.4, Phase.PERFORM: 0.8, Phase.REST: 0.3}


def _node(ros: RosLauncher, plan: Path, *params: str) -> RosProc:
    args = [f"plan:={plan}", "subject_id:=S07", "session_id:=live-1", "width:=160", "height:=90",
            "fps:=30", "lux:=420.0", "lighting:=daylight", *params]  # fmt: skip
    return ros.node("protocol_node", "protocol_node", *[x for a in args for x in ("-p", a)])


def _operator(ros: RosLauncher) -> tuple[RosProc, subprocess.Popen[bytes]]:
    log = ros.logdir / "operator.log"
    with log.open("wb") as fh:
        popen = subprocess.Popen([INSTALL / "microexp" / "lib" / "microexp" / "operator"],
                                 env=ros.env, stdin=subprocess.PIPE, stdout=fh,
                                 stderr=subprocess.STDOUT, cwd=ros.logdir)  # fmt: skip
    proc = RosProc("operator", popen, log)
    ros.procs.append(proc)
    return proc, popen


def _events(listener: RosProc) -> list[ProtocolEvent]:
    return [ProtocolEvent.from_dict(json.loads(line[6:]))
            for line in listener.output().splitlines() if line.startswith("event ")]  # fmt: skip


@pytest.mark.slow  # ~9 s: a whole (short) session in real time
def test_session_with_a_redo_from_the_operator_console(ros: RosLauncher, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    listener = ros.script("listener", "protocol_listener.py")
    listener.wait_for("ready")
    operator, stdin = _operator(ros)
    operator.wait_for("keys: p pause")
    video = tmp_path / "shown.avi"
    node = _node(ros, plan, "consent:=true", "shutdown_on_end:=true", "wait_for_subscribers:=1",
                 f"video_out:={video}")  # fmt: skip
    node.wait_for(r"PHASE PERFORM seg=1 att=1", timeout_s=30)
    assert stdin.stdin is not None
    stdin.stdin.write(b"d\n")  # redo the attempt being performed
    stdin.stdin.flush()
    operator.wait_for(r"redo ok: redo queued")
    node.wait_for(r"PHASE DEMO seg=1 att=2")
    stdin.stdin.write(b"r\n")  # resume while not paused: refused with the reason
    stdin.stdin.flush()
    operator.wait_for(r"resume refused: resume: not paused")
    node.popen.wait(30)
    assert node.popen.returncode == 0, node.output()
    listener.wait_for(r'"kind": 1,')  # SESSION_END
    events = _events(listener)
    assert events[0].kind == EventKind.SESSION_START and events[-1].kind == EventKind.SESSION_END
    assert all(e.session_id == "live-1" and e.subject_id == "S07" for e in events)
    wall = time.time_ns()
    assert 0 < wall - events[0].stamp_ns < 60 * S  # ROS time (system clock), not a monotonic one
    invalid = [e for e in events if e.kind == EventKind.ATTEMPT_INVALID]
    assert [(e.segment_index, e.attempt, e.detail, e.valid) for e in invalid] == [
        (1, 1, "redo", False)
    ]
    segs = segments_from_events(events)
    assert [(s.label, s.attempt, s.valid, s.reason) for s in segs] == [
        ("AU12", 1, True, ""), ("AU45", 1, False, "redo"), ("AU45", 2, True, ""),
    ]  # fmt: skip
    assert [s.au_numbers for s in segs] == [(12,), (45,), (45,)]
    # every phase is shown for its nominal duration to the nearest frame (±16.7 ms at 30 fps),
    # give or take the timer jitter of a loaded 2-core machine
    phases = [e for e in events if e.kind == EventKind.PHASE and e.attempt]
    for a, b in itertools.pairwise(phases):
        if (a.segment_index, a.attempt) == (b.segment_index, b.attempt) and a.phase in NOMINAL:
            shown_s = (b.stamp_ns - a.stamp_ns) / S
            assert abs(shown_s - NOMINAL[a.phase]) < 0.1, (a, b)
    # the frames the node showed (headless: written to video_out), one per timer tick
    cap = cv2.VideoCapture(str(video))
    n_frames = 0
    while cap.read()[0]:
        n_frames += 1
    session_s = (events[-1].stamp_ns - events[0].stamp_ns) / S
    assert abs(n_frames - session_s * 30) < 0.2 * session_s * 30, (n_frames, session_s)
    first = listener.wait_for(r"session (\{.*\})")
    info = json.loads(first.group(1))
    assert (info["subject_id"], info["session_id"], info["plan_name"]) == (
        "S07",
        "live-1",
        "live_2au",
    )
    assert (info["consent"], info["lighting"], info["lux"]) == (True, "daylight", 420.0)


def test_session_info_is_latched(ros: RosLauncher, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    node = ros.node("protocol_node", "protocol_node", "-p", "plan:=demo_3au",  # a plan name
                    "-p", "subject_id:=S07", "-p", "session_id:=s", "-p", "consent:=true",
                    "-p", "start_delay_s:=60.0", "-p", "glasses:=true")  # fmt: skip
    node.wait_for(r"plan 'demo_3au': 4 segments")
    late = ros.script("late_listener", "protocol_listener.py")  # joins after the publication
    info = json.loads(late.wait_for(r"session (\{.*\})").group(1))
    assert (info["subject_id"], info["glasses"], info["consent"]) == ("S07", True, True)
    consent = json.loads(late.wait_for(r"consent (\{.*\})").group(1))  # latched too
    # consent:=true is study-only consent for every modality, nothing shared or published
    assert (consent["version"], consent["subject_id"], consent["session_id"]) == (1, "S07", "s")
    assert consent["study_modalities"] == ["events", "grey", "rgb"]
    assert consent["sharing_modalities"] == consent["publication_modalities"] == []
    assert "event " not in late.output()  # nothing starts before start_delay_s
    assert node.interrupt() == 0


def test_node_refuses_to_start_without_consent(ros: RosLauncher, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    node = _node(ros, plan)  # consent defaults to false
    node.wait_for(r"no consent recorded", timeout_s=30)
    assert node.popen.wait(30) == 1


CONSENT = """\
version: 1
subject_id: S07
form: lab form v2
given_on: 2026-01-10
valid_until: 2099-01-10
on_expiry: review
study: [events, grey]
sharing: [events]
publication: []
"""


def test_consent_file_scope_is_published_and_enforced(ros: RosLauncher, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    consent = tmp_path / "S07.yaml"
    consent.write_text(CONSENT, encoding="utf-8")
    listener = ros.script("listener", "protocol_listener.py")
    listener.wait_for("ready")
    # the launch records the webcam, the subject did not consent to RGB video: refused
    refused = _node(ros, plan, f"consent_file:={consent}",
                    "camera_modalities:=['davis:events', 'davis:grey', 'webcam:rgb']")  # fmt: skip
    refused.wait_for(r"camera webcam records rgb: remove it from cameras:=", timeout_s=30)
    assert refused.popen.wait(30) == 1
    assert "no consent for RGB video (study)" in refused.output()
    node = _node(ros, plan, f"consent_file:={consent}", "start_delay_s:=60.0",
                 "camera_modalities:=['davis:events', 'davis:grey']")  # fmt: skip
    got = json.loads(listener.wait_for(r"consent (\{.*\})", timeout_s=30).group(1))
    assert (got["subject_id"], got["session_id"], got["form"]) == ("S07", "live-1", "lab form v2")
    assert (got["given_on"], got["valid_until"], got["on_expiry"]) == ("2026-01-10",
                                                                     "2099-01-10", 0)  # fmt: skip
    assert (got["study_modalities"], got["sharing_modalities"]) == (["events", "grey"], ["events"])
    # nothing of the refused node reached the graph: one session, one consent message
    listener.wait_for(r"session \{")
    assert listener.output().count("consent {") == 1
    assert listener.output().count("session {") == 1
    assert node.interrupt() == 0


def test_node_names_a_bad_plan_file_and_line(ros: RosLauncher, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.replace("perform_s: 0.8", "perform_s: -0.8"), encoding="utf-8")
    node = _node(ros, plan, "consent:=true")
    node.wait_for(r"plan\.yaml:6: timing\.perform_s: negative duration", timeout_s=30)
    assert node.popen.wait(30) == 1
