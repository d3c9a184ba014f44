"""Synthetic demonstration clips: the simulator's face performing an AU, for the instruction video.

The paper shows each AU's demonstration clip three times before the subject performs it
(docs/references.md#paper-protocol). Where a plan gives no clip of its own (``clips:``), the
player shows this one: a neutral face, onset → apex → hold → offset of the AU at full intensity,
back to neutral, drawn by :class:`~microexp.sim.face.FaceRenderer` for a fixed demonstrator
subject and tagged "synthetic" in a corner, so that nobody mistakes it for a recording of a
person. Frames are BGR uint8 at the display size (rendered at most ``render_height`` pixels high,
then scaled: rendering a 1080p face per frame would cost ~50 ms).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from microexp.aus import lookup
from microexp.errors import ConfigError
from microexp.sim.au_motion import SIMULATED_AU_NUMBERS, ActionProfile, face_params
from microexp.sim.face import FaceRenderer
from microexp.sim.subject import Subject

__all__ = ["DEMONSTRATOR", "SYNTHETIC_TAG", "demonstration_frames"]

Image = npt.NDArray[np.uint8]

DEMONSTRATOR = Subject("demonstrator", skin=0.6, background=0.25, blink_rate_hz=0.0)
"""The face every synthetic demonstration shows (the catalog's average look, no glasses)."""

SYNTHETIC_TAG = "synthetic demonstration (simulated face)"


def _profile(duration_us: int) -> ActionProfile:
    """Neutral for 15 %, onset to 40 %, apex held to 65 %, offset by 90 %, neutral after."""
    d = duration_us
    return ActionProfile(int(0.15 * d), int(0.40 * d), int(0.65 * d), int(0.90 * d), peak=1.0)


def demonstration_frames(
    code: str,
    *,
    width: int,
    height: int,
    duration_s: float,
    fps: float = 15.0,
    subject: Subject = DEMONSTRATOR,
    render_height: int = 360,
    tag: bool = True,
) -> list[Image]:
    """Frames (BGR uint8, ``height`` × ``width``) of ``subject`` performing ``code`` once.

    ``code`` is an AU or movement code of :mod:`microexp.aus`; ConfigError when the simulator
    cannot perform one of its FACS numbers.
    """
    au = lookup(code)
    missing = [n for n in au.au_numbers if n not in SIMULATED_AU_NUMBERS]
    if missing:
        raise ConfigError(f"{code}: the simulated face cannot perform AU {missing}")
    if duration_s <= 0 or fps <= 0:
        raise ConfigError(f"{code}: demonstration needs duration_s > 0 and fps > 0")
    scale = min(1.0, render_height / height)
    rw, rh = max(64, round(width * scale)), max(48, round(height * scale))
    renderer = FaceRenderer(subject, width=rw, height=rh, zoom=1.2)
    n = max(1, round(duration_s * fps))
    prof = _profile(round(duration_s * 1e6))
    frames = []
    for i in range(n):
        level = float(prof.intensity((i + 0.5) / fps * 1e6))
        img = renderer.render(face_params(dict.fromkeys(au.au_numbers, level)))
        grey: Image = (np.power(np.clip(img, 0.0, 1.0), 1 / 2.2) * 255 + 0.5).astype(np.uint8)
        if (rw, rh) != (width, height):
            resized = cv2.resize(grey, (width, height), interpolation=cv2.INTER_LINEAR)
            grey = np.asarray(resized, dtype=np.uint8)
        bgr = np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
        if tag:
            _tag(bgr)
        frames.append(bgr)
    return frames


def _tag(img: Image) -> None:
    """The "synthetic" label, top right, on a dark box."""
    h, w = img.shape[:2]
    scale = max(0.3, h / 900)
    (tw, th), base = cv2.getTextSize(SYNTHETIC_TAG, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x0, y0 = w - tw - 8, 6
    cv2.rectangle(img, (x0 - 4, y0), (w - 4, y0 + th + base + 6), (30, 30, 30), -1)
    cv2.putText(img, SYNTHETIC_TAG, (x0, y0 + th + 3), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (0, 200, 255), 1, cv2.LINE_AA)  # fmt: skip
