"""``microexp protocol``: check a session plan, run it (headless video or a window), list labels,
write the synthetic demonstration clips for review."""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
from pathlib import Path

from microexp.errors import ConfigError, OutputExistsError
from microexp.protocol.clock import FakeClock, MonotonicClock
from microexp.protocol.engine import ProtocolEngine, prelude_steps, segment_steps
from microexp.protocol.events import (
    ProtocolError,
    SessionInfo,
    read_events_jsonl,
    write_events_jsonl,
)
from microexp.protocol.labels import segments_from_events
from microexp.protocol.plan import find_plan, load_plan
from microexp.protocol.player import (
    InstructionPlayer,
    PygameWindow,
    VideoFileDisplay,
    make_renderer,
)
from microexp.protocol.progress import ProgressStore
from microexp.protocol.sound import PygameAudio, WavTrack

log = logging.getLogger(__name__)
KEYS = {"p": "pause", "r": "resume", "d": "redo", "s": "skip", "a": "abort"}
HELP = "check, run (headless video + events JSONL, or a window) and label session plans"

__all__ = ["HELP", "configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="protocol_command", metavar="ACTION", required=True)
    c = sub.add_parser("check", help="validate a plan and print its segments and duration")
    c.add_argument("plan", type=Path, help="plan YAML, or a name under config/protocol")

    r = sub.add_parser("run", help="play a session plan")
    r.add_argument("--plan", type=Path, required=True, help="plan YAML, or a name (e.g. paper)")
    r.add_argument("--headless", action="store_true", help="render to a video file (-o)")
    r.add_argument("-o", "--output", type=Path, help="video file (.mp4 mp4v, .avi MJPG)")
    r.add_argument("--events", type=Path, help="events JSONL (default: <output>.events.jsonl)")
    r.add_argument("--wav", type=Path, help="sound track WAV (default: <output>.wav)")
    r.add_argument("--subject", default="S00")
    r.add_argument("--session", default="session-0")
    r.add_argument("--consent", action="store_true", help="the subject consented (required)")
    r.add_argument("--fps", type=int, default=30)
    r.add_argument("--size", default="640x360", help="WIDTHxHEIGHT")
    r.add_argument("--progress", type=Path, help="progress file (resume after a crash)")
    r.add_argument(
        "--command",
        action="append",
        default=[],
        metavar="T:NAME",
        help="headless: operator command at T seconds, e.g. 7.5:redo (repeatable)",
    )
    r.add_argument("--force", action="store_true", help="overwrite outputs")

    d = sub.add_parser(
        "demos",
        help="write the synthetic demonstration clips (the simulator's face) for review",
    )
    d.add_argument("-o", "--output", type=Path, required=True, help="directory for the clips")
    d.add_argument("--labels", choices=["paper", "report", "all"], default="all",
                   help="the paper's 21 AUs, the report's 7 movements, or both (default)")  # fmt: skip
    d.add_argument("--size", default="640x360", help="WIDTHxHEIGHT (the window's size)")
    d.add_argument("--fps", type=float, default=30.0)
    d.add_argument("--duration", type=float, default=2.0, help="seconds (a plan's demo_clip_s)")
    d.add_argument("--force", action="store_true", help="overwrite existing clips")

    lab = sub.add_parser("labels", help="labelled segments of an events JSONL file")
    lab.add_argument("events", type=Path)
    lab.add_argument("--json", action="store_true", help="one JSON object per segment")


def run(args: argparse.Namespace) -> int:
    if args.protocol_command == "check":
        return _check(args.plan)
    if args.protocol_command == "labels":
        return _labels(args.events, as_json=args.json)
    if args.protocol_command == "demos":
        return _demos(args)
    return _run(args)


def _demos(args: argparse.Namespace) -> int:
    import cv2

    from microexp.aus import MOVEMENT_CODES, PAPER_AU_CODES
    from microexp.sim.demonstration import demonstration_frames

    width, height = _parse_size(args.size)
    codes = {"paper": PAPER_AU_CODES, "report": MOVEMENT_CODES}.get(
        args.labels, (*PAPER_AU_CODES, *MOVEMENT_CODES)
    )
    out: Path = args.output
    targets = [out / f"{code}.mp4" for code in codes]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not args.force:
        raise OutputExistsError(f"{existing[0]}: exists (use --force to overwrite)")
    out.mkdir(parents=True, exist_ok=True)
    for code, path in zip(codes, targets, strict=True):
        frames = demonstration_frames(
            code, width=width, height=height, duration_s=args.duration, fps=args.fps
        )
        tmp = path.with_name(f".{path.stem}.partial.mp4")
        w = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"mp4v"), args.fps, (width, height))
        if not w.isOpened():
            raise ConfigError(f"{path}: OpenCV cannot write mp4v video here")
        for f in frames:
            w.write(f)
        w.release()
        tmp.replace(path)
        print(f"{path}: {code}, {len(frames)} frames at {args.fps:g} fps ({width}x{height})")
    print(
        f"{len(targets)} synthetic demonstration clips in {out} (tagged 'synthetic' in each frame)"
    )
    return 0


def _check(name: Path) -> int:
    path = find_plan(str(name))
    plan = load_plan(path)
    seg_ns = sum(s.duration_ns for s in segment_steps(plan))
    pre_ns = sum(s.duration_ns for s in prelude_steps(plan))
    total = pre_ns + seg_ns * len(plan.segments)
    print(
        f"{path}: plan {plan.name!r} OK — {len(plan.segments)} segments "
        f"({len(plan.demo_labels)} demo run), {seg_ns / 1e9:.2f} s each, "
        f"{total / 1e9:.1f} s in all without redos"
    )
    for s in plan.segments:
        clip = plan.clips.get(s.label)
        print(
            f"  {s.index:3d} {s.run:4s} {s.label:18s} AU{list(s.au_numbers)}"
            f"{'  clip ' + str(clip) if clip else ''}"
        )
    return 0


def _labels(path: Path, *, as_json: bool) -> int:
    for s in segments_from_events(read_events_jsonl(path)):
        if as_json:
            print(json.dumps({k: getattr(s, k) for k in s.__dataclass_fields__}))
        else:
            perform = (
                (s.perform_end_ns - s.perform_start_ns) / 1e9 if s.perform_end_ns >= 0 else math.nan
            )
            print(
                f"{s.segment_index:3d}/{s.attempt} {s.run:4s} {s.label:18s} "
                f"start {s.start_ns / 1e9:9.3f} s perform {perform:5.2f} s "
                f"{'valid' if s.valid else 'INVALID (' + s.reason + ')'}"
            )
    return 0


def _parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)x(\d+)", text)
    if not m:
        raise ConfigError(f"--size: expected WIDTHxHEIGHT, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def _parse_commands(items: list[str]) -> list[tuple[int, str]]:
    out = []
    for item in items:
        m = re.fullmatch(r"([0-9.]+):(pause|resume|redo|skip|abort)", item)
        if not m:
            raise ConfigError(
                f"--command: expected SECONDS:NAME (pause|resume|redo|skip|abort), got {item!r}"
            )
        out.append((round(float(m.group(1)) * 1e9), m.group(2)))
    return out


def _run(args: argparse.Namespace) -> int:
    plan = load_plan(find_plan(str(args.plan)))
    width, height = _parse_size(args.size)
    session = SessionInfo(
        subject_id=args.subject, session_id=args.session, consent=args.consent, plan_name=plan.name
    )
    store = ProgressStore(args.progress) if args.progress else None
    renderer = make_renderer(plan, width=width, height=height)
    if not args.headless:
        live_clock = MonotonicClock()
        engine = ProtocolEngine(plan, session, clock=live_clock, progress=store)

        def on_key(key: str) -> None:
            if key in KEYS:
                try:
                    engine.command(KEYS[key])
                except ProtocolError as err:
                    log.warning("%s", err)

        window = PygameWindow(clock=live_clock, width=width, height=height, on_key=on_key)
        audio = PygameAudio()
        try:
            events = InstructionPlayer(
                engine, renderer=renderer, display=window, fps=args.fps, audio=audio
            ).run_live(live_clock)
        finally:
            audio.close()
            window.close()
        if args.events:
            write_events_jsonl(args.events, events)
        return 0
    if args.output is None:
        raise ConfigError("--headless needs -o VIDEO")
    events_path = args.events or args.output.with_suffix(".events.jsonl")
    wav_path = args.wav or args.output.with_suffix(".wav")
    for p in (events_path, wav_path):
        if p.exists() and not args.force:
            raise OutputExistsError(f"{p}: exists (use --force to overwrite)")
    clock = FakeClock(0)
    engine = ProtocolEngine(plan, session, clock=clock, progress=store)
    display = VideoFileDisplay(
        args.output, fps=args.fps, width=width, height=height, overwrite=args.force
    )
    track = WavTrack(start_ns=0)
    player = InstructionPlayer(
        engine, renderer=renderer, display=display, fps=args.fps, audio=track
    )
    try:
        events = player.run_offline(
            clock, max_frames=args.fps * 24 * 3600, commands=_parse_commands(args.command)
        )
    finally:
        display.close()
    track.pad_to(clock.now_ns() + 1_000_000_000 // args.fps)
    track.write(wav_path)
    n = write_events_jsonl(events_path, events)
    segs = segments_from_events(events)
    print(
        f"{args.output}: {player.frames_shown} frames at {args.fps} fps "
        f"({player.frames_shown / args.fps:.1f} s); {events_path}: {n} events; "
        f"{sum(s.valid for s in segs)}/{len(segs)} valid attempts; sound {wav_path}"
    )
    return 0
