"""A face tracker: detect every N frames, smooth the box, hold the last box for K frames."""

from __future__ import annotations

from microexp.faces.types import Box, FaceDetector, GrayImage

__all__ = ["FaceTracker"]


class FaceTracker:
    """Long-lived per camera stream; call :meth:`reset` between clips or recordings.

    The detector runs on every ``every_n_frames``-th frame, and on every frame while a box is
    held after a miss (to re-acquire it before it is dropped); the box nearest the held one (IoU) is taken, and its corners are
    smoothed exponentially (``smoothing`` = weight of the previous box). When the detector finds
    nothing, the last box is held until ``hold_frames`` frames have passed since the last hit,
    then dropped (None).
    """

    def __init__(
        self,
        detector: FaceDetector,
        *,
        every_n_frames: int = 5,
        hold_frames: int = 15,
        smoothing: float = 0.5,
    ) -> None:
        if every_n_frames < 1 or hold_frames < 0 or not 0.0 <= smoothing < 1.0:
            raise ValueError(
                f"every_n_frames >= 1, hold_frames >= 0, 0 <= smoothing < 1 "
                f"(got {every_n_frames}, {hold_frames}, {smoothing})"
            )
        self.detector = detector
        self.every_n_frames = every_n_frames
        self.hold_frames = hold_frames
        self.smoothing = smoothing
        self.reset()

    def reset(self) -> None:
        self._frame = 0
        self._box: Box | None = None
        self._last_seen = -1
        self._missing = False
        self.detections = 0

    def _pick(self, boxes: list[Box]) -> Box:
        if self._box is None:
            return max(boxes, key=lambda b: (b.score, b.area))
        held = self._box
        return max(boxes, key=lambda b: (b.iou(held), b.area))

    def _smooth(self, new: Box) -> Box:
        if self._box is None or self.smoothing == 0.0 or new.iou(self._box) < 0.2:
            return new
        a = self.smoothing
        old = self._box
        x0 = a * old.x + (1 - a) * new.x
        y0 = a * old.y + (1 - a) * new.y
        x1 = a * (old.x + old.w) + (1 - a) * (new.x + new.w)
        y1 = a * (old.y + old.h) + (1 - a) * (new.y + new.h)
        return Box(round(x0), round(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0)), new.score)

    def update(self, gray: GrayImage) -> Box | None:
        """The face box of this frame, or None when none is found or held."""
        frame = self._frame
        self._frame += 1
        due = frame % self.every_n_frames == 0 or (self._box is not None and self._missing)
        if not due:
            return self._box
        boxes = self.detector.detect(gray)
        self.detections += 1
        if boxes:
            self._box = self._smooth(self._pick(boxes))
            self._last_seen = frame
            self._missing = False
            return self._box
        self._missing = True  # while a box is held after a miss, detect on every frame
        if self._box is not None and frame - self._last_seen > self.hold_frames:
            self._box = None
        return self._box
