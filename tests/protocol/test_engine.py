"""The protocol engine on a FakeClock: whole plans against an independent timeline, operator
commands, consent, crash-resume."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml

from microexp.protocol.clock import FakeClock
from microexp.protocol.engine import ProtocolEngine
from microexp.protocol.events import EventKind, Phase, ProtocolError, ProtocolEvent, SessionInfo
from microexp.protocol.labels import segments_from_events
from microexp.protocol.plan import load_plan
from microexp.protocol.progress import ProgressStore

from .conftest import PLANS, S, au_numbers, expected_timeline, ns

SESSION = SessionInfo(subject_id="S07", session_id="sess-1", consent=True)


def _key(ev: ProtocolEvent) -> tuple[str, str, int, int, str, int]:
    return (ev.kind.name, ev.phase.name, ev.segment_index, ev.attempt, ev.label, ev.stamp_ns)


def _engine(name: str, **kw: object) -> tuple[ProtocolEngine, FakeClock]:
    clock = FakeClock(0)
    return ProtocolEngine(load_plan(PLANS / name), SESSION, clock=clock, **kw), clock  # type: ignore[arg-type]


def _frames(engine: ProtocolEngine, fps: int, *, until_done: bool = True) -> list[ProtocolEvent]:
    """Frame mode with a perfect display: frame i is shown at i / fps."""
    out: list[ProtocolEvent] = []
    i = 0
    while not engine.finished:
        t = i * S // fps
        engine.prepare_frame(t)
        out += engine.on_frame_shown(t)
        i += 1
    return out


@pytest.mark.parametrize("name", ["paper.yaml", "report.yaml", "demo_3au.yaml"])
def test_whole_plan_matches_independent_timeline(name: str) -> None:
    raw = yaml.safe_load((PLANS / name).read_text(encoding="utf-8"))
    expected = expected_timeline(raw)
    # time mode, driven once and driven in 7 ms ticks: same events, same stamps
    engine, _ = _engine(name)
    got = engine.advance_to(0) + engine.advance_to(10**15)
    assert engine.finished
    assert [_key(e) for e in got] == expected
    engine2, clock = _engine(name)
    ticked: list[ProtocolEvent] = []
    while not engine2.finished:
        ticked += engine2.tick()
        clock.advance(7_000_000)
    assert ticked == got
    # frame mode at 30 fps: every duration in these plans is a whole number of frames, so the
    # display-time stamps equal the nominal ones
    engine3, _ = _engine(name)
    assert [_key(e) for e in _frames(engine3, 30)] == expected
    for ev in got:
        assert ev.session_id == "sess-1" and ev.subject_id == "S07"
        if ev.attempt:
            assert ev.au_numbers == au_numbers(ev.label)
    segs = segments_from_events(got)
    tm = raw["timing"]
    assert len(segs) == len(raw["labels"]) * raw["repetitions"] + len(raw["demo_run"]["labels"])
    assert all(s.valid and s.reason == "" for s in segs)
    assert {s.perform_end_ns - s.perform_start_ns for s in segs} == {ns(tm["perform_s"])}
    assert [s.run for s in segs].count("demo") == len(raw["demo_run"]["labels"])


def test_report_cue_at_5s_end_at_10s_after_recording_start() -> None:
    """The report: recording starts when the 2 s countdown ends, cue 5 s later, end at 10 s."""
    engine, _ = _engine("report.yaml")
    events = engine.advance_to(0) + engine.advance_to(10**15)
    for seg in range(7):
        phases = {
            e.phase: e.stamp_ns
            for e in events
            if e.kind == EventKind.PHASE and e.segment_index == seg and e.attempt == 1
        }
        rec = phases[Phase.NEUTRAL]
        assert rec - phases[Phase.COUNTDOWN] == 2 * S
        assert phases[Phase.PERFORM] - rec == 5 * S
        assert phases[Phase.REST] - rec == 10 * S
        flash = [e for e in events if e.kind == EventKind.SYNC_FLASH and e.segment_index == seg]
        assert len(flash) == 1 and phases[Phase.COUNTDOWN] - flash[0].stamp_ns == 1_500_000_000


def test_consent_is_required() -> None:
    plan = load_plan(PLANS / "demo_3au.yaml")
    no = SessionInfo(subject_id="S01", session_id="x", consent=False)
    with pytest.raises(ProtocolError, match=r"session 'x' of subject 'S01': no consent"):
        ProtocolEngine(plan, no, clock=FakeClock())


def _run_with(commands: dict[float, str]) -> list[ProtocolEvent]:
    """demo_3au in time mode with commands at given seconds."""
    engine, clock = _engine("demo_3au.yaml")
    events = engine.advance_to(0)
    for t_s, name in sorted(commands.items()):
        clock.set(ns(t_s))
        events += engine.tick()
        engine.command(name)
        events += engine.tick()
    events += engine.advance_to(10**15)
    return events


# demo_3au timeline: sync 0-0.4; segment k (k = 0..3) starts at 0.4 + 3.7 k:
# demo +0 (1.2 s), countdown +1.2 (1 s), perform +2.2 (1 s), rest +3.2 (0.5 s), end +3.7.
SEG1 = 0.4 + 3.7


def test_pause_resume_shifts_the_rest_of_the_session() -> None:
    events = _run_with({SEG1 + 2.5: "pause", SEG1 + 4.5: "resume"})
    cmds = [(e.detail, e.phase, e.stamp_ns) for e in events if e.kind == EventKind.COMMAND]
    assert cmds == [
        ("pause", Phase.PERFORM, ns(SEG1 + 2.5)),
        ("resume", Phase.PERFORM, ns(SEG1 + 4.5)),
    ]
    phases = [
        (e.phase, e.stamp_ns) for e in events if e.kind == EventKind.PHASE and e.segment_index == 1
    ]
    assert phases == [
        (Phase.DEMO, ns(SEG1)),
        (Phase.COUNTDOWN, ns(SEG1 + 1.2)),
        (Phase.PERFORM, ns(SEG1 + 2.2)),
        (Phase.PAUSED, ns(SEG1 + 2.5)),
        (Phase.PERFORM, ns(SEG1 + 4.5)),  # 0.7 s of perform left
        (Phase.REST, ns(SEG1 + 5.2)),
    ]
    assert events[-1].kind == EventKind.SESSION_END
    assert events[-1].stamp_ns == ns(0.4 + 4 * 3.7 + 2.0)
    seg = segments_from_events(events)[1]
    assert (seg.perform_start_ns, seg.perform_end_ns, seg.valid) == (
        ns(SEG1 + 2.2),
        ns(SEG1 + 5.2),
        True,
    )


def test_redo_marks_the_attempt_invalid_and_repeats_the_segment() -> None:
    events = _run_with({SEG1 + 2.6: "redo"})
    t = ns(SEG1 + 2.6)
    at_redo = [
        (e.kind, e.segment_index, e.attempt, e.valid, e.detail) for e in events if e.stamp_ns == t
    ]
    assert at_redo == [
        (EventKind.COMMAND, 1, 1, True, "redo"),
        (EventKind.ATTEMPT_INVALID, 1, 1, False, "redo"),
        (EventKind.SEGMENT_END, 1, 1, False, "redo"),
        (EventKind.SEGMENT_START, 1, 2, True, "main"),
        (EventKind.PHASE, 1, 2, True, "demo"),
    ]
    segs = segments_from_events(events)
    assert [(s.segment_index, s.attempt, s.valid, s.reason) for s in segs] == [
        (0, 1, True, ""), (1, 1, False, "redo"), (1, 2, True, ""), (2, 1, True, ""), (3, 1, True, ""),
    ]  # fmt: skip
    assert segs[2].perform_start_ns == t + ns(2.2)
    assert events[-1].stamp_ns == ns(0.4 + 4 * 3.7 + 2.6)


def test_skip_before_perform_is_invalid_skip_during_rest_is_valid() -> None:
    events = _run_with({SEG1 + 1.0: "skip", SEG1 + 1.0 + 3.3: "skip"})
    segs = segments_from_events(events)
    assert [(s.segment_index, s.attempt, s.valid, s.reason) for s in segs] == [
        (0, 1, True, ""), (1, 1, False, "skip"), (2, 1, True, ""), (3, 1, True, ""),
    ]  # fmt: skip
    assert segs[2].start_ns == ns(SEG1 + 1.0)
    assert segs[2].end_ns == ns(SEG1 + 1.0 + 3.3)  # skipped 0.1 s into its rest
    assert segs[3].start_ns == segs[2].end_ns


def test_abort_ends_the_session_and_refuses_further_commands() -> None:
    engine, clock = _engine("demo_3au.yaml")
    engine.advance_to(0)
    with pytest.raises(ProtocolError, match="redo: no segment has started yet"):
        engine.redo()
    with pytest.raises(ProtocolError, match="resume: not paused"):
        engine.resume()
    with pytest.raises(ProtocolError, match="unknown command 'stop'"):
        engine.command("stop")
    clock.set(ns(1.0))
    engine.abort()
    events = [e for e in engine.tick() if e.stamp_ns == ns(1.0)]
    assert [(e.kind, e.valid, e.detail) for e in events] == [
        (EventKind.COMMAND, True, "abort"),
        (EventKind.ATTEMPT_INVALID, False, "abort"),
        (EventKind.SEGMENT_END, False, "abort"),
        (EventKind.SESSION_END, True, "aborted"),
    ]
    assert engine.finished
    with pytest.raises(ProtocolError, match="pause: the session is over"):
        engine.pause()
    fresh, _ = _engine("demo_3au.yaml")
    with pytest.raises(ProtocolError, match="not started"):
        fresh.pause()


def test_crash_resume_continues_at_the_same_segment_with_a_new_attempt(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "progress.json")
    engine, _clock = _engine("demo_3au.yaml", progress=store)
    first = engine.advance_to(0) + engine.advance_to(ns(SEG1 + 3.7 + 1.5))  # in segment 2
    assert engine.position == 2
    saved = json.loads(store.path.read_text())
    assert (saved["position"], saved["attempts"], saved["state"]) == (
        2,
        {"0": 1, "1": 1, "2": 1},
        "running",
    )
    assert saved["events"] == len(first)
    assert list(tmp_path.iterdir()) == [store.path]  # no temporary file left behind
    del engine  # the process dies here

    clock2 = FakeClock(ns(100.0))
    engine2 = ProtocolEngine(
        load_plan(PLANS / "demo_3au.yaml"), SESSION, clock=clock2, progress=store
    )
    second = engine2.tick() + engine2.advance_to(10**15)
    t0 = ns(100.0)
    head = [(e.kind, e.segment_index, e.attempt, e.valid, e.detail, e.stamp_ns) for e in second[:3]]
    assert head == [
        (EventKind.SESSION_START, 0, 0, True, "plan=demo_3au resume_at=2", t0),
        (EventKind.ATTEMPT_INVALID, 2, 1, False, "interrupted", t0),
        (EventKind.PHASE, 0, 0, True, "sync", t0),  # the session sync is shown again
    ]
    starts = [
        (e.segment_index, e.attempt, e.stamp_ns)
        for e in second
        if e.kind == EventKind.SEGMENT_START
    ]
    assert starts == [(2, 2, t0 + ns(0.4)), (3, 1, t0 + ns(0.4 + 3.7))]
    segs = segments_from_events(first + second)
    assert [(s.segment_index, s.attempt, s.valid, s.reason) for s in segs] == [
        (0, 1, True, ""), (1, 1, True, ""), (2, 1, False, "interrupted"), (2, 2, True, ""), (3, 1, True, ""),
    ]  # fmt: skip
    assert json.loads(store.path.read_text())["state"] == "complete"
    with pytest.raises(ProtocolError, match="already complete"):
        ProtocolEngine(load_plan(PLANS / "demo_3au.yaml"), SESSION, clock=clock2, progress=store)
    other = SessionInfo(subject_id="S08", session_id="sess-1", consent=True)
    with pytest.raises(ProtocolError, match="not 'sess-1' / 'S08'"):
        ProtocolEngine(load_plan(PLANS / "demo_3au.yaml"), other, clock=clock2, progress=store)


def test_progress_of_another_plan_is_refused(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "p.json")
    engine, _ = _engine("demo_3au.yaml", progress=store)
    engine.advance_to(ns(2.0))
    with pytest.raises(ProtocolError, match="progress of plan 'demo_3au' with another content"):
        ProtocolEngine(load_plan(PLANS / "report.yaml"), SESSION, clock=FakeClock(), progress=store)


def test_frame_mode_quantises_to_frames_and_never_early() -> None:
    """At 25 fps (40 ms) the 0.1 s flashes of demo_3au last 3 frames (120 ms): every step ends on
    the first frame at or after its due time, never later than one frame period."""
    engine, _ = _engine("demo_3au.yaml")
    fps, period = 25, S // 25
    events = _frames(engine, fps)
    nominal = {  # duration of the step each event starts, from the YAML values
        Phase.SYNC: ns(0.1), Phase.DEMO: 3 * ns(0.4), Phase.COUNTDOWN: ns(1.0),
        Phase.PERFORM: ns(1.0), Phase.REST: ns(0.5),
    }  # fmt: skip
    changes = [e for e in events if e.kind in (EventKind.PHASE, EventKind.SYNC_FLASH)]
    changes += [e for e in events if e.kind == EventKind.SESSION_END]
    for ev in events:
        assert ev.stamp_ns % period == 0  # every stamp is a frame time
    flashes = [e.stamp_ns for e in events if e.kind == EventKind.SYNC_FLASH]
    assert flashes == [0, 6 * period]  # on 3 frames (120 ms >= 100 ms), off 3 frames
    seg_phases = [e for e in events if e.kind == EventKind.PHASE and e.attempt]
    for a, b in itertools.pairwise(seg_phases):
        if a.segment_index == b.segment_index:
            shown = b.stamp_ns - a.stamp_ns
            assert nominal[a.phase] <= shown < nominal[a.phase] + period
    assert changes


def test_events_jsonl_round_trip_and_bad_lines(tmp_path: Path) -> None:
    from microexp.errors import ConfigError
    from microexp.protocol.events import read_events_jsonl, write_events_jsonl

    engine, _ = _engine("report.yaml")
    events = engine.advance_to(0) + engine.advance_to(10**15)
    path = tmp_path / "events.jsonl"
    assert write_events_jsonl(path, events) == len(events)
    assert list(read_events_jsonl(path)) == events
    path.write_text(path.read_text().splitlines()[0] + "\n{not json\n")
    with pytest.raises(ConfigError, match=r"events\.jsonl:2: not JSON"):
        list(read_events_jsonl(path))
    path.write_text('{"kind": "SESSION_START"}\n')
    with pytest.raises(ConfigError, match=r"events\.jsonl:1: bad protocol event"):
        list(read_events_jsonl(path))


def test_an_attempt_cut_by_a_crash_is_invalid_even_without_resume() -> None:
    engine, _ = _engine("demo_3au.yaml")
    events = engine.advance_to(0) + engine.advance_to(ns(SEG1 + 2.5))  # dies while performing
    segs = segments_from_events(events)
    assert [(s.segment_index, s.valid, s.reason, s.end_ns) for s in segs] == [
        (0, True, "", ns(SEG1)),
        (1, False, "no end", -1),
    ]
    assert segs[1].perform_start_ns == ns(SEG1 + 2.2) and segs[1].perform_end_ns == -1


def test_every_step_gets_a_frame_even_when_shorter_than_one() -> None:
    from microexp.protocol.plan import parse_plan

    text = (PLANS / "demo_3au.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "{flashes: 2, on_s: 0.1, off_s: 0.1}", "{flashes: 3, on_s: 0.001, off_s: 0.001}"
    )
    engine = ProtocolEngine(parse_plan(text), SESSION, clock=FakeClock())
    period = S // 30
    stamps: list[int] = []
    i = 0
    while not engine.finished:
        engine.prepare_frame(i * period, tolerance_ns=period // 2)
        stamps += [
            e.stamp_ns for e in engine.on_frame_shown(i * period) if e.kind == EventKind.SYNC_FLASH
        ]
        i += 1
    assert stamps == [0, 2 * period, 4 * period]  # 1 ms on, 1 ms off: one frame each
