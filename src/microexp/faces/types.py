"""Face boxes and the detector interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["NO_BOX", "Box", "FaceDetector", "GrayImage"]

GrayImage = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned face box in pixels: top-left ``(x, y)``, width ``w``, height ``h``."""

    x: int
    y: int
    w: int
    h: int
    score: float = 0.0

    def __post_init__(self) -> None:
        if self.w <= 0 or self.h <= 0:
            raise ValueError(f"box size must be positive, got {self.w}x{self.h}")

    @property
    def area(self) -> int:
        return self.w * self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2.0, self.y + self.h / 2.0)

    def as_array(self) -> npt.NDArray[np.int32]:
        return np.array([self.x, self.y, self.w, self.h], dtype=np.int32)

    def expanded(self, fraction: float) -> Box:
        """The box grown by ``fraction`` of its size on every side."""
        dx, dy = round(self.w * fraction), round(self.h * fraction)
        return Box(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy, self.score)

    def clipped(self, *, width: int, height: int) -> Box | None:
        """The part of the box inside a ``width``×``height`` image, or None if none."""
        x0, y0 = max(self.x, 0), max(self.y, 0)
        x1, y1 = min(self.x + self.w, width), min(self.y + self.h, height)
        if x1 <= x0 or y1 <= y0:
            return None
        return Box(x0, y0, x1 - x0, y1 - y0, self.score)

    def iou(self, other: Box) -> float:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1 = min(self.x + self.w, other.x + other.w)
        y1 = min(self.y + self.h, other.y + other.h)
        inter = max(0, x1 - x0) * max(0, y1 - y0)
        return inter / float(self.area + other.area - inter)


NO_BOX = np.array([-1, -1, -1, -1], dtype=np.int32)
"""The ``faces_<camera>.npy`` row of a frame without a face."""


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces in a grey uint8 image; boxes best first."""

    name: str

    def detect(self, gray: GrayImage) -> list[Box]: ...
