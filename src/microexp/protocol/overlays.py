"""Drawing of instruction frames (OpenCV onto BGR uint8 numpy images).

Every frame carries a *phase marker*: a flat grey square in the bottom-left corner whose level
encodes what the frame shows (``marker_level(code)``). Decoding it from a rendered video (or
watching it with a photodiode on a real monitor) gives the display time of every phase change
independently of the engine's own stamps; the tests use it to check the stamps.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from microexp.aus import lookup
from microexp.errors import ConfigError
from microexp.protocol.engine import FrameView
from microexp.protocol.events import Phase

__all__ = [
    "MARKER_CODES",
    "Clip",
    "FrameRenderer",
    "load_clip",
    "marker_code",
    "marker_level",
    "read_marker",
]

Image = npt.NDArray[np.uint8]
MARKER_CODES = 9  # Phase 0..7, and 8 = sync flash on
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def marker_code(view: FrameView) -> int:
    """Code of what ``view`` shows: the phase (PAUSED when paused), 8 while a flash is on."""
    if view.paused:
        return int(Phase.PAUSED)
    if view.flash:
        return 8
    return int(view.phase)


def marker_level(code: int) -> int:
    return 12 + 29 * code  # 12 .. 244, 29 grey levels apart: survives lossy video codecs


def read_marker(frame: Image, *, size: int) -> int:
    """Decode the marker code of a rendered (possibly compressed) frame."""
    h = frame.shape[0]
    m = size // 4  # sample the centre of the square, away from codec ringing at its edges
    patch = frame[h - size + m : h - m, m : size - m]
    level = float(patch.mean())
    return int(np.clip(round((level - 12) / 29), 0, MARKER_CODES - 1))


class Clip:
    """A demonstration clip decoded into memory, resized to the frame; ``synthetic`` when it was
    rendered by the simulator (:mod:`microexp.sim.demonstration`) rather than given by the plan."""

    def __init__(self, frames: list[Image], fps: float, *, synthetic: bool = False) -> None:
        self.frames, self.fps, self.synthetic = frames, fps, synthetic

    def frame_at(self, t_ns: int) -> Image:
        i = min(int(t_ns * self.fps / 1e9), len(self.frames) - 1)
        return self.frames[max(i, 0)]


def load_clip(path: Path, *, width: int, height: int) -> Clip:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ConfigError(f"{path}: cannot open demonstration clip")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames: list[Image] = []
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                break
            frames.append(_fit(np.asarray(img, np.uint8), width, height))
    finally:
        cap.release()
    if not frames:
        raise ConfigError(f"{path}: demonstration clip has no readable frame")
    return Clip(frames, float(fps))


def _fit(img: Image, width: int, height: int) -> Image:
    """Letterbox ``img`` into width x height."""
    out = np.zeros((height, width, 3), np.uint8)
    if img.ndim == 2:
        img = np.asarray(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), np.uint8)
    s = min(width / img.shape[1], height / img.shape[0])
    w, h = max(1, int(img.shape[1] * s)), max(1, int(img.shape[0] * s))
    small = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    x, y = (width - w) // 2, (height - h) // 2
    out[y : y + h, x : x + w] = small
    return out


class FrameRenderer:
    """Turns a :class:`FrameView` into one BGR frame."""

    def __init__(
        self,
        *,
        width: int,
        height: int,
        n_segments: int,
        clips: dict[str, Clip] | None = None,
        demo_clip_ns: int = 0,
    ) -> None:
        if width < 64 or height < 48:
            raise ConfigError(f"display size {width}x{height} too small (>= 64x48)")
        self.width, self.height = width, height
        self.n_segments = n_segments
        self.clips = clips or {}
        self.demo_clip_ns = demo_clip_ns
        self.marker_size = max(16, height // 12)
        self._scale = height / 360

    def render(self, view: FrameView) -> Image:
        img = np.zeros((self.height, self.width, 3), np.uint8)
        if view.flash:
            img[:] = 255
        elif view.phase == Phase.SYNC or not view.started:
            pass  # black between flashes
        elif view.finished:
            self._center(img, "Session complete. Thank you!", 0.5, 1.0)
        elif view.segment is None:
            pass
        else:
            self._segment(img, view)
        if view.paused:
            img //= 3
            self._center(img, "PAUSED", 0.5, 2.0, color=(0, 200, 255))
        s = self.marker_size
        img[self.height - s :, :s] = marker_level(marker_code(view))
        return img

    def _segment(self, img: Image, view: FrameView) -> None:
        assert view.segment is not None
        au = lookup(view.segment.label)
        remaining_ns = view.step_duration_ns - view.elapsed_ns
        if view.phase == Phase.DEMO:
            rep = 1 + (view.elapsed_ns // self.demo_clip_ns if self.demo_clip_ns else 0)
            clip = self.clips.get(au.code)
            if clip is not None:
                t_in = view.elapsed_ns % self.demo_clip_ns if self.demo_clip_ns else view.elapsed_ns
                img[:] = clip.frame_at(t_in)
            else:
                self._card(img, au.code, au.name, au.instruction)
            self._text(img, f"Demonstration {rep}: watch", 0.9, 0.6)
        elif view.phase == Phase.COUNTDOWN:
            n = max(1, math.ceil(remaining_ns / 1e9))
            self._center(img, str(n), 0.5, 4.0, color=(0, 220, 255), thick=6)
            self._center(img, f"Look at the camera. Next: {au.name}", 0.85, 0.7)
        elif view.phase == Phase.NEUTRAL:
            self._center(img, "Neutral face", 0.45, 1.3)
            self._center(img, "relax, look at the camera", 0.6, 0.7)
        elif view.phase == Phase.PERFORM:
            cv2.rectangle(
                img,
                (0, 0),
                (self.width - 1, self.height - 1),
                (0, 200, 0),
                max(4, int(12 * self._scale)),
            )
            self._center(img, "NOW", 0.35, 2.2, color=(0, 255, 0), thick=4)
            self._center(img, au.instruction, 0.6, 0.75)
        elif view.phase == Phase.REST:
            self._center(img, "Rest", 0.45, 2.0, color=(255, 200, 120), thick=3)
            self._center(img, "relax for a few seconds", 0.62, 0.7)
        run = "demo run" if view.segment.run == "demo" else "segment"
        head = (
            f"{run} {view.segment.index + 1}/{self.n_segments}  {au.code}  attempt {view.attempt}"
        )
        self._text(img, head, 0.08, 0.55, x=0.02)

    def _card(self, img: Image, code: str, name: str, instruction: str) -> None:
        img[:] = (40, 40, 40)
        self._center(img, code, 0.35, 2.0, thick=3)
        self._center(img, name, 0.52, 1.0)
        self._center(img, instruction, 0.68, 0.65)

    def _text(
        self, img: Image, text: str, y: float, scale: float, *, x: float | None = None
    ) -> None:
        s = scale * self._scale
        (w, _), _ = cv2.getTextSize(text, _FONT, s, 1)
        px = int(x * self.width) if x is not None else (self.width - w) // 2
        cv2.putText(
            img, text, (px, int(y * self.height)), _FONT, s, (230, 230, 230), 1, cv2.LINE_AA
        )

    def _center(
        self,
        img: Image,
        text: str,
        y: float,
        scale: float,
        *,
        color: tuple[int, int, int] = (255, 255, 255),
        thick: int = 2,
    ) -> None:
        s = scale * self._scale
        th = max(1, int(thick * self._scale))
        (w, h), _ = cv2.getTextSize(text, _FONT, s, th)
        if w > self.width * 0.95:  # shrink long instructions to fit
            s *= self.width * 0.95 / w
            (w, h), _ = cv2.getTextSize(text, _FONT, s, th)
        org = ((self.width - w) // 2, int(y * self.height + h / 2))
        cv2.putText(img, text, org, _FONT, s, color, th, cv2.LINE_AA)
