"""The instruction video player: renders each display frame, shows it, reports its display time.

Per frame: ``view = engine.prepare_frame(due_ns)`` -> ``renderer.render(view)`` ->
``t_shown = display.show(frame, due_ns=...)`` -> ``engine.on_frame_shown(t_shown)``. The display
decides what "shown" means:

- :class:`VideoFileDisplay` (headless): frame *i* of the file is shown at ``t0 + i / fps`` on the
  file's own timeline, so the stamps of the JSONL events and the video frames agree exactly.
- :class:`NullDisplay` (headless live, e.g. the ROS node without a screen): the clock time when
  the frame was handed over.
- :class:`PygameWindow` (optional; needs ``pygame``, not a dependency of microexp; ``cv2.imshow``
  does not exist in opencv-python-headless): the clock time right after ``display.flip()``, which
  with vsync returns at the vertical blank, i.e. within one refresh of the light leaving the
  screen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from microexp.errors import ConfigError, OutputExistsError
from microexp.protocol.clock import Clock, FakeClock
from microexp.protocol.engine import FrameView, ProtocolEngine
from microexp.protocol.events import EventKind, Phase, ProtocolEvent
from microexp.protocol.overlays import Clip, FrameRenderer, load_clip
from microexp.protocol.plan import SessionPlan, seconds_to_ns
from microexp.protocol.sound import AudioSink, NullSink, double_beep, go_beep, tick
from microexp.sim.demonstration import demonstration_frames

__all__ = [
    "Display",
    "InstructionPlayer",
    "NullDisplay",
    "PygameWindow",
    "VideoFileDisplay",
    "demonstration_clips",
    "frame_due_ns",
    "make_renderer",
]

log = logging.getLogger(__name__)
Image = npt.NDArray[np.uint8]
DEMO_FPS = 15.0  # synthetic demonstrations: smooth enough for the cartoon face, half the rendering


def frame_due_ns(i: int, *, fps: int, start_ns: int = 0) -> int:
    """Display time of frame ``i`` at ``fps`` (integer ns, floor)."""
    return start_ns + i * 1_000_000_000 // fps


class Display(Protocol):
    def show(self, frame: Image, *, due_ns: int) -> int: ...

    def close(self) -> None: ...


class VideoFileDisplay:
    """Writes frames to a video file (``.mp4``: mp4v, ``.avi``: MJPG); shown at ``due_ns``."""

    FOURCC: ClassVar[dict[str, str]] = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}

    def __init__(
        self, path: Path, *, fps: int, width: int, height: int, overwrite: bool = False
    ) -> None:
        if path.exists() and not overwrite:
            raise OutputExistsError(f"{path}: exists (use --force to overwrite)")
        fourcc = self.FOURCC.get(path.suffix.lower())
        if fourcc is None:
            raise ConfigError(f"{path}: video extension must be one of {sorted(self.FOURCC)}")
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height))
        if not self._w.isOpened():
            raise ConfigError(f"{path}: OpenCV cannot write {fourcc} video here")
        self.frames = 0

    def show(self, frame: Image, *, due_ns: int) -> int:
        self._w.write(frame)
        self.frames += 1
        return due_ns

    def close(self) -> None:
        self._w.release()


class NullDisplay:
    """Shows nothing; a frame counts as shown when handed over (``clock.now_ns()``)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.last: Image | None = None

    def show(self, frame: Image, *, due_ns: int) -> int:
        self.last = frame
        return self.clock.now_ns()

    def close(self) -> None:
        return None


class PygameWindow:
    """A full-screen or windowed pygame display; import fails with a clear ConfigError."""

    def __init__(
        self,
        *,
        clock: Clock,
        width: int,
        height: int,
        fullscreen: bool = False,
        on_key: Callable[[str], None] | None = None,
    ) -> None:
        try:
            import pygame  # optional dependency
        except ImportError as err:
            raise ConfigError(
                "no window backend: install pygame (pip install pygame) or run headless"
            ) from err
        self._pg = pygame
        pygame.init()
        flags = pygame.FULLSCREEN if fullscreen else 0
        try:  # vsync: flip() returns at the vertical blank, so "after flip" is the display time
            self._screen = pygame.display.set_mode((width, height), flags, vsync=1)
        except pygame.error:
            log.warning("no vsync on this display: frame times are accurate to one refresh")
            self._screen = pygame.display.set_mode((width, height), flags)
        pygame.display.set_caption("microexp protocol")
        self.clock = clock
        self.on_key = on_key

    def show(self, frame: Image, *, due_ns: int) -> int:
        pg = self._pg
        rgb = np.ascontiguousarray(frame[:, :, ::-1].swapaxes(0, 1))
        pg.surfarray.blit_array(self._screen, rgb)
        pg.display.flip()
        t_ns = self.clock.now_ns()
        for ev in pg.event.get():  # keys typed into the window (operator commands)
            if self.on_key is None:
                continue
            if ev.type == pg.KEYDOWN and ev.unicode:
                self.on_key(ev.unicode)
            elif ev.type == pg.QUIT:
                self.on_key("a")
        return t_ns

    def close(self) -> None:
        self._pg.quit()


def demonstration_clips(
    plan: SessionPlan, *, width: int, height: int, synthetic: bool = True
) -> dict[str, Clip]:
    """The demonstration clip of every label of ``plan``: the plan's own clip (``clips:``) first;
    else, with ``synthetic``, the simulator's face performing it at the window's size, tagged as
    synthetic (:func:`microexp.sim.demonstration.demonstration_frames`). None when the plan has no
    demonstration phase."""
    clips: dict[str, Clip] = {
        code: load_clip(path, width=width, height=height) for code, path in plan.clips.items()
    }
    t = plan.timing
    if not synthetic or t.demo_repetitions <= 0 or t.demo_clip_s <= 0:
        return clips
    for code in dict.fromkeys(seg.label for seg in plan.segments):
        if code not in clips:
            frames = demonstration_frames(
                code, width=width, height=height, duration_s=t.demo_clip_s, fps=DEMO_FPS
            )
            clips[code] = Clip(frames, DEMO_FPS, synthetic=True)
    return clips


def make_renderer(
    plan: SessionPlan, *, width: int, height: int, synthetic_demonstrations: bool = True
) -> FrameRenderer:
    """A renderer with the plan's demonstration clips: its own, else synthetic ones."""
    clips = demonstration_clips(
        plan, width=width, height=height, synthetic=synthetic_demonstrations
    )
    return FrameRenderer(
        width=width,
        height=height,
        n_segments=len(plan.segments),
        clips=clips,
        demo_clip_ns=seconds_to_ns(plan.timing.demo_clip_s),
    )


class InstructionPlayer:
    """Drives an engine frame by frame; plays the beeps through ``audio`` at display times."""

    def __init__(
        self,
        engine: ProtocolEngine,
        *,
        renderer: FrameRenderer,
        display: Display,
        fps: int,
        audio: AudioSink | None = None,
    ) -> None:
        if fps <= 0:
            raise ConfigError(f"fps must be > 0, got {fps}")
        self.engine, self.renderer, self.display = engine, renderer, display
        self.fps = fps
        self.audio: AudioSink = audio if audio is not None else NullSink()
        self.frames_shown = 0
        self.shown_log: list[tuple[int, FrameView]] = []  # (t_shown_ns, view) when keep_log
        self.keep_log = False
        self._last_count: tuple[int, int, int] | None = None
        self._no_rest = engine.plan.timing.rest_s == 0
        self._half_period_ns = 1_000_000_000 // (2 * fps)  # changes land on the nearest frame

    def step(self, due_ns: int) -> list[ProtocolEvent]:
        """Render, show and commit one frame meant for ``due_ns``."""
        view = self.engine.prepare_frame(due_ns, tolerance_ns=self._half_period_ns)
        frame = self.renderer.render(view)
        shown = self.display.show(frame, due_ns=due_ns)
        events = self.engine.on_frame_shown(shown)
        self.frames_shown += 1
        if self.keep_log:
            self.shown_log.append((shown, view))
        self._sounds(view, events, shown)
        return events

    def _sounds(self, view: FrameView, events: list[ProtocolEvent], t_ns: int) -> None:
        for ev in events:
            if ev.kind == EventKind.PHASE and ev.phase == Phase.PERFORM and ev.detail != "resume":
                self.audio.play(go_beep(), at_ns=t_ns)
            elif (ev.kind == EventKind.PHASE and ev.phase == Phase.REST) or (
                self._no_rest and ev.kind == EventKind.SEGMENT_END and ev.detail == "complete"
            ):
                self.audio.play(double_beep(), at_ns=t_ns)
        if view.phase == Phase.COUNTDOWN and not view.paused and view.segment is not None:
            left = view.step_duration_ns - view.elapsed_ns
            key = (view.segment.index, view.attempt, -(-left // 1_000_000_000))
            if key != self._last_count:
                self.audio.play(tick(), at_ns=t_ns)
            self._last_count = key

    def run_offline(
        self, clock: FakeClock, *, max_frames: int, commands: list[tuple[int, str]] | None = None
    ) -> list[ProtocolEvent]:
        """Headless rendering on a fake clock, as fast as the CPU goes: frame ``i`` is due at
        ``t0 + i / fps``; ``commands`` are (time_ns, name) operator commands issued on the way."""
        t0 = clock.now_ns()
        pending = sorted(commands or [])
        events: list[ProtocolEvent] = []
        for i in range(max_frames):
            due = frame_due_ns(i, fps=self.fps, start_ns=t0)
            clock.set(due)
            while pending and pending[0][0] <= due:
                self.engine.command(pending.pop(0)[1])
            events += self.step(due)
            if self.engine.finished:
                return events
        raise ConfigError(f"session not finished after {max_frames} frames (raise max_frames)")

    def run_live(self, clock: Clock, *, max_frames: int | None = None) -> list[ProtocolEvent]:
        """Real-time loop: sleeps until each frame's due time on ``clock`` (monotonic-like)."""
        t0 = clock.now_ns()
        events: list[ProtocolEvent] = []
        i = 0
        while not self.engine.finished and (max_frames is None or i < max_frames):
            due = frame_due_ns(i, fps=self.fps, start_ns=t0)
            wait = due - clock.now_ns()
            if wait > 0:
                time.sleep(wait / 1e9)
            events += self.step(due)
            i += 1
        return events
