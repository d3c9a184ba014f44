"""A simulated subject: face geometry and appearance drawn from a seed.

Scene coordinates are normalised so that every camera sees the same scene: the image height spans
``[-1, 1]`` (y down), x uses the same unit and is centred. A face is described in *face units*
(1 = head half-height) and placed in the scene at ``center`` with size ``scale``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from microexp.aus import FaceRegion

__all__ = ["Box", "Subject", "face_region_boxes"]


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned box ``[x0, x1) x [y0, y1)`` (units of whatever space it was made in)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def union(self, other: Box) -> Box:
        return Box(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    def grown(self, margin: float) -> Box:
        return Box(self.x0 - margin, self.y0 - margin, self.x1 + margin, self.y1 + margin)

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Boolean mask of the points inside."""
        return (x >= self.x0) & (x < self.x1) & (y >= self.y0) & (y < self.y1)


@dataclass(frozen=True, slots=True)
class Subject:
    """Geometry (face units), placement (scene units), appearance (linear reflectance 0..1)."""

    subject_id: str
    center_x: float = 0.0
    center_y: float = 0.0
    scale: float = 0.62  # head half-height in scene units
    head_rx: float = 0.74  # head half-width
    eye_dx: float = 0.28
    eye_y: float = -0.18
    eye_w: float = 0.125
    eye_h: float = 0.05
    brow_y: float = -0.34
    brow_thick: float = 0.035
    nose_y: float = 0.2
    mouth_y: float = 0.46
    mouth_w: float = 0.2
    lip_thick: float = 0.04
    hairline_y: float = -0.62
    skin: float = 0.55
    hair: float = 0.08
    lips: float = 0.38
    iris: float = 0.12
    background: float = 0.3
    glasses: bool = False
    blink_rate_hz: float = 0.25  # spontaneous blinks (distractors)
    head_jitter: float = 0.006  # amplitude of slow head sway (face units)
    expressiveness: float = 1.0  # scales every performed AU

    @classmethod
    def from_seed(cls, subject_id: str, *, seed: int = 0) -> Subject:
        """A subject whose look depends only on ``subject_id`` and ``seed``."""
        rng = np.random.default_rng([seed, zlib.crc32(subject_id.encode())])
        u = rng.uniform
        skin = u(0.3, 0.75)
        return cls(
            subject_id=subject_id,
            center_x=u(-0.08, 0.08),
            center_y=u(-0.05, 0.05),
            scale=u(0.55, 0.68),
            head_rx=u(0.7, 0.8),
            eye_dx=u(0.26, 0.31),
            eye_y=u(-0.21, -0.15),
            eye_w=u(0.11, 0.14),
            eye_h=u(0.042, 0.058),
            brow_y=u(-0.38, -0.31),
            brow_thick=u(0.025, 0.045),
            nose_y=u(0.17, 0.23),
            mouth_y=u(0.43, 0.5),
            mouth_w=u(0.17, 0.23),
            lip_thick=u(0.03, 0.05),
            hairline_y=u(-0.72, -0.55),
            skin=skin,
            hair=u(0.03, 0.25),
            lips=skin * u(0.55, 0.8),
            iris=u(0.04, 0.25),
            background=u(0.15, 0.45),
            glasses=bool(rng.random() < 0.3),
            blink_rate_hz=u(0.15, 0.4),
            head_jitter=u(0.003, 0.01),
            expressiveness=u(0.75, 1.2),
        )


# Boxes (face units) that each region's AUs move, including what they drag along.
_REGION_BOXES_FACE: dict[FaceRegion, tuple[float, float, float, float]] = {
    FaceRegion.BROWS: (-0.6, -0.56, 0.6, -0.2),
    FaceRegion.EYELIDS: (-0.5, -0.42, 0.5, -0.04),
    FaceRegion.EYES: (-0.5, -0.3, 0.5, -0.06),
    FaceRegion.CHEEKS: (-0.62, -0.34, 0.62, 0.5),  # includes the lower lids it pushes up
    FaceRegion.NOSE: (-0.26, -0.22, 0.26, 0.57),  # AU9 lifts the upper lip too
    FaceRegion.MOUTH: (-0.36, 0.3, 0.36, 0.72),
    FaceRegion.CHIN: (-0.34, 0.42, 0.34, 1.08),
    FaceRegion.JAW: (-0.85, 0.1, 0.85, 1.3),
    FaceRegion.HEAD: (-1.25, -1.3, 1.25, 1.45),
}


def face_region_boxes(
    subject: Subject, *, width: int, height: int, zoom: float = 1.0
) -> dict[FaceRegion, Box]:
    """Pixel boxes of every face region for a ``width`` x ``height`` camera (neutral pose)."""
    s = subject.scale * zoom * height / 2.0
    cx = width / 2.0 + subject.center_x * zoom * height / 2.0
    cy = height / 2.0 + subject.center_y * zoom * height / 2.0
    out: dict[FaceRegion, Box] = {}
    for region, (x0, y0, x1, y1) in _REGION_BOXES_FACE.items():
        # the horizontal extent of features scales with head width relative to the default
        k = subject.head_rx / 0.74 if region in (FaceRegion.JAW, FaceRegion.HEAD) else 1.0
        out[region] = Box(cx + x0 * k * s, cy + y0 * s, cx + x1 * k * s, cy + y1 * s)
    return out
