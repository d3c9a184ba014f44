"""The instruction player: headless video, phase-change latency, demonstration clips, sounds.

How latency is measured: every rendered frame carries a phase marker (a flat grey square whose
level encodes the phase it shows). The test decodes the *written video* with OpenCV, finds the
frames where the marker changes, takes their display times (frame i of a file at ``fps`` is shown
at ``i / fps``) and compares them with the stamps of the events in the JSONL — an end-to-end
check that does not trust the engine's bookkeeping. With a display that shows frames late (a
seeded jitter), the stamp of every change must equal the reported display time of the first
frame showing it, and that frame must be the one nearest the change's due time (at most half a
frame period off, plus the display's own lateness).
"""

from __future__ import annotations

import itertools
import wave
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import yaml

from microexp.cli.main import main
from microexp.protocol.clock import FakeClock
from microexp.protocol.engine import ProtocolEngine
from microexp.protocol.events import (
    EventKind,
    Phase,
    ProtocolEvent,
    SessionInfo,
    read_events_jsonl,
)
from microexp.protocol.labels import segments_from_events
from microexp.protocol.overlays import marker_code, read_marker
from microexp.protocol.plan import load_plan
from microexp.protocol.player import (
    InstructionPlayer,
    NullDisplay,
    demonstration_clips,
    frame_due_ns,
    make_renderer,
)

from .conftest import PLANS, S, expected_timeline, ns

SESSION = SessionInfo(subject_id="S07", session_id="sess-1", consent=True)


def _read_video(path: Path) -> list[npt.NDArray[np.uint8]]:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened()
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    cap.release()
    return frames


def _changes_shown_by(events: list[ProtocolEvent]) -> dict[int, int]:
    """Display time -> marker code that the events say the screen shows from then on (the last
    event of a stamp wins: PHASE SYNC then SYNC_FLASH at one stamp shows a flash)."""
    out: dict[int, int] = {}
    for e in events:
        if e.kind == EventKind.SYNC_FLASH:
            out[e.stamp_ns] = 8
        elif e.kind == EventKind.PHASE:
            out[e.stamp_ns] = int(e.phase)
        elif e.kind == EventKind.SESSION_END:
            out[e.stamp_ns] = int(Phase.NONE)
    return out


def test_headless_run_writes_a_readable_video_events_and_sound(tmp_path: Path) -> None:
    out = tmp_path / "run" / "video.mp4"
    rc = main(["protocol", "run", "--plan", str(PLANS / "demo_3au.yaml"), "--headless",
               "-o", str(out), "--subject", "S07", "--session", "sess-1", "--consent",
               "--fps", "30", "--size", "320x180"])  # fmt: skip
    assert rc == 0
    raw = yaml.safe_load((PLANS / "demo_3au.yaml").read_text(encoding="utf-8"))
    timeline = expected_timeline(raw)
    total_ns = timeline[-1][5]
    frames = _read_video(out)
    assert len(frames) == total_ns * 30 // S + 1  # 15.2 s at 30 fps + the closing frame
    assert frames[0].shape == (180, 320, 3)
    events = list(read_events_jsonl(out.with_suffix(".events.jsonl")))
    assert [(e.kind.name, e.phase.name, e.segment_index, e.attempt, e.label, e.stamp_ns)
            for e in events] == timeline  # fmt: skip

    # latency, measured on the decoded video: marker changes <-> event stamps
    size = max(16, 180 // 12)
    codes = [read_marker(f, size=size) for f in frames]
    changes = [(i * S // 30, c) for i, c in enumerate(codes) if i == 0 or c != codes[i - 1]]
    shown = _changes_shown_by(events)
    # the end of a flash (white -> black, still SYNC) is a marker change with no event of its own
    for e in events:
        if e.kind == EventKind.SYNC_FLASH:
            shown[e.stamp_ns + ns(0.1)] = int(Phase.SYNC)
    assert changes == sorted(shown.items())

    # sound: tick at countdown, "go" at perform, double beep at rest -> 4 onsets per segment
    with wave.open(str(out.with_suffix(".wav"))) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32767
    assert abs(len(pcm) / rate - (total_ns / S + 1 / 30)) < 0.01
    loud = np.abs(pcm) > 0.05
    quiet_before = np.convolve(loud, np.ones(round(0.03 * rate)), "full")[: len(loud)]
    onsets = np.flatnonzero(loud[1:] & (quiet_before[:-1] == 0)) + 1
    want = []
    for _kind, phase, _seg, _att, _label, t in timeline:
        if (phase == "COUNTDOWN" and _kind == "PHASE") or phase == "PERFORM":
            want.append(t)
        elif phase == "REST":
            want += [t, t + ns(0.2)]  # second beep after 0.12 s + 0.08 s gap
    assert len(onsets) == len(want)
    assert np.all(np.abs(onsets / rate - np.array(want) / S) < 0.002)


class LateDisplay:
    """A display whose frames appear up to 0.8 frame late (seeded), like a busy compositor."""

    def __init__(self, fps: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.max_late = int(0.8 * S / fps)

    def show(self, frame: npt.NDArray[np.uint8], *, due_ns: int) -> int:
        return due_ns + int(self.rng.integers(0, self.max_late))

    def close(self) -> None:
        return None


def test_phase_stamp_is_the_display_time_of_its_first_frame() -> None:
    plan = load_plan(PLANS / "demo_3au.yaml")
    fps = 24  # 41.67 ms: no duration of the plan is a whole number of frames
    clock = FakeClock()
    engine = ProtocolEngine(plan, SESSION, clock=clock)
    display = LateDisplay(fps, seed=5)
    player = InstructionPlayer(engine, renderer=make_renderer(plan, width=96, height=64),
                               display=display, fps=fps)  # fmt: skip
    player.keep_log = True
    events = player.run_offline(clock, max_frames=10_000)
    log = player.shown_log
    # marker code of each frame and its display time, then the first frame of each change
    first_shown = [(t, marker_code(v)) for k, (t, v) in enumerate(log)
                   if k == 0 or marker_code(v) != marker_code(log[k - 1][1])]  # fmt: skip
    shown = _changes_shown_by(events)
    flash_ends = {t for t, c in first_shown if c == int(Phase.SYNC)} - set(shown)
    shown.update(dict.fromkeys(flash_ends, int(Phase.SYNC)))
    assert first_shown == sorted(shown.items())
    period = S / fps
    dur = {
        Phase.DEMO: 3 * ns(0.4),
        Phase.COUNTDOWN: ns(1.0),
        Phase.PERFORM: ns(1.0),
        Phase.REST: ns(0.5),
    }
    phases = [e for e in events if e.kind == EventKind.PHASE and e.attempt]
    lateness = []
    for a, b in itertools.pairwise(phases):
        if a.segment_index == b.segment_index:
            late = b.stamp_ns - (a.stamp_ns + dur[a.phase])
            lateness.append(late)
            # nearest frame: at most half a period early or late, plus the display's lateness
            assert -period / 2 <= late < period / 2 + display.max_late
    assert min(lateness) < 0 < max(lateness)


def test_null_display_stamps_with_the_clock_when_shown() -> None:
    plan = load_plan(PLANS / "demo_3au.yaml")
    clock = FakeClock(ns(5.0))
    engine = ProtocolEngine(plan, SESSION, clock=clock)
    player = InstructionPlayer(engine, renderer=make_renderer(plan, width=96, height=64),
                               display=NullDisplay(clock), fps=30)  # fmt: skip
    events = player.run_offline(clock, max_frames=10_000)
    assert events[0].stamp_ns == ns(5.0)
    assert events[-1].stamp_ns == ns(5.0) + ns(15.2)
    assert player.frames_shown == 457
    assert frame_due_ns(457, fps=30, start_ns=0) == 15_233_333_333


def test_demonstration_clip_is_played_in_the_demo_phase(tmp_path: Path) -> None:
    clip = tmp_path / "clips" / "au12.avi"
    clip.parent.mkdir()
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 10, (64, 36))
    for k in range(4):  # 0.4 s: blue then red halves of the clip
        w.write(np.full((36, 64, 3), (255, 0, 0) if k < 2 else (0, 0, 255), np.uint8))
    w.release()
    text = (PLANS / "demo_3au.yaml").read_text(
        encoding="utf-8"
    ) + "clips:\n  AU12: clips/au12.avi\n"
    (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")
    plan = load_plan(tmp_path / "plan.yaml")
    clock = FakeClock()
    engine = ProtocolEngine(plan, SESSION, clock=clock)
    renderer = make_renderer(plan, width=128, height=72)
    player = InstructionPlayer(engine, renderer=renderer, display=NullDisplay(clock), fps=10)
    player.keep_log = True
    player.run_offline(clock, max_frames=10_000)
    demo = [(t, v) for t, v in player.shown_log if v.phase == Phase.DEMO and v.segment]
    colours = []
    for _t, v in demo:
        img = renderer.render(v)
        b, _g, r = img[36, 64].astype(int)
        colours.append("blue" if b > 200 and r < 60 else "red" if r > 200 and b < 60 else "card")
    by_label = {}
    for (_t, v), c in zip(demo, colours, strict=True):
        by_label.setdefault(v.segment.label, []).append(c)
    # AU12 (demo run and main run): 3 repetitions x (2 blue + 2 red) frames at 10 fps
    assert by_label["AU12"] == (["blue"] * 2 + ["red"] * 2) * 6
    # the others have no clip of their own: the simulator's face performs them, tagged synthetic
    assert not renderer.clips["AU12"].synthetic
    assert renderer.clips["AU45"].synthetic and renderer.clips["AU4"].synthetic
    for _t, v in demo:
        if v.segment.label == "AU4":
            img = renderer.render(v)
            assert img[30:42, 58:70].std() > 0  # a face (no flat card, no single colour)


def test_synthetic_demonstrations_show_the_au_and_can_be_switched_off() -> None:
    plan = load_plan(PLANS / "demo_3au.yaml")
    clips = demonstration_clips(plan, width=160, height=90)
    assert set(clips) == {s.label for s in plan.segments}
    for code, clip in clips.items():
        n = round(plan.timing.demo_clip_s * clip.fps)
        assert clip.synthetic and len(clip.frames) == n, code
        assert all(f.shape == (90, 160, 3) and f.dtype == np.uint8 for f in clip.frames)
        first, apex = clip.frames[0].astype(int), clip.frames[n // 2].astype(int)
        assert np.abs(apex - first).sum() > 0, code  # the face moves
    assert demonstration_clips(plan, width=160, height=90, synthetic=False) == {}


def test_cli_commands_and_labels(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "v.avi"
    args = ["protocol", "run", "--plan", str(PLANS / "demo_3au.yaml"), "--headless", "-o", str(out),
            "--consent", "--size", "96x64", "--command", "6.9:redo", "--command", "13:abort"]  # fmt: skip
    assert main(args) == 0
    assert main(args) == 1  # refuses to overwrite
    assert "exists (use --force" in capsys.readouterr().err
    events = list(read_events_jsonl(out.with_suffix(".events.jsonl")))
    segs = segments_from_events(events)
    assert [(s.segment_index, s.attempt, s.valid, s.reason) for s in segs] == [
        (0, 1, True, ""), (1, 1, False, "redo"), (1, 2, True, ""), (2, 1, False, "abort"),
    ]  # fmt: skip
    assert events[-1].detail == "aborted" and events[-1].stamp_ns == ns(13.0)
    assert main(["protocol", "labels", str(out.with_suffix(".events.jsonl"))]) == 0
    assert "INVALID (redo)" in capsys.readouterr().out
    assert main(["protocol", "run", "--plan", str(PLANS / "demo_3au.yaml"), "--headless",
                 "-o", str(tmp_path / "n.mp4")]) == 1  # fmt: skip
    assert "no consent" in capsys.readouterr().err
    assert main(["protocol", "check", str(PLANS / "paper.yaml")]) == 0
    assert "23 segments (2 demo run)" in capsys.readouterr().out


def test_demos_command_writes_every_demonstration_clip(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from microexp.aus import MOVEMENT_CODES, PAPER_AU_CODES

    out = tmp_path / "demos"
    args = [
        "protocol",
        "demos",
        "-o",
        str(out),
        "--size",
        "128x72",
        "--fps",
        "10",
        "--duration",
        "0.3",
    ]
    assert main(args) == 0
    assert "28 synthetic demonstration clips" in capsys.readouterr().out
    assert sorted(p.stem for p in out.glob("*.mp4")) == sorted((*PAPER_AU_CODES, *MOVEMENT_CODES))
    frames = _read_video(out / "AU26.mp4")
    assert len(frames) == 3 and frames[0].shape == (72, 128, 3)
    assert main(args) == 1  # never overwrites
    assert "exists (use --force" in capsys.readouterr().err
