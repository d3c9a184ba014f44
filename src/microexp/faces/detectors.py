"""Face detectors whose weights ship inside installed packages and work offline.

Choice (checked on the development machine; sources in docs/references.md#dlib-hog):

- :class:`DlibHogDetector` — dlib's HOG + linear SVM frontal face detector (``dlib-bin`` 20.0.1
  wheel; the model is compiled into dlib, no download). ~4 ms on a 346×260 DAVIS frame, ~44 ms on
  512×512, one core. Compared with the paper's MTCNN (a three-stage CNN cascade that also gives
  5 landmarks): HOG is frontal-only (fails beyond roughly ±30° yaw and on strong tilt), misses
  faces under ~80 px unless upsampled, and is less robust to poor lighting; MTCNN handles pose and
  small faces better. For the paper's protocol (subject at 80 cm facing the cameras, DAVIS
  346×260 frames) faces are frontal and ~100 px, where HOG works; head-turn AUs (51–54) can lose
  the face at the apex, which :class:`~microexp.faces.tracker.FaceTracker` covers by holding the
  last box. No MTCNN weights ship in a usable pip package here (facenet-pytorch pins
  torch < 2.3).
- OpenCV's YuNet (``cv2.FaceDetectorYN``, present in opencv-python-headless 5.0) needs
  ``face_detection_yunet_*.onnx``, which no installed package ships: opencv-python-headless has
  no model files, and the PyPI wrappers checked (detekface 0.1.0, alchemyface 1.2.0) download it
  from opencv_zoo at run time, which fails offline. So it is not used. OpenCV 5 headless has no
  ``CascadeClassifier``.
- :class:`BrightEllipseDetector` — for simulated data only: the largest bright blob (Otsu
  threshold, biggest connected component, sized like a face). The simulator's cartoon faces are
  bright ellipses on a darker background. dlib HOG also finds the simulated faces we tried, so this
  is a fallback (``detector.fallback: bright_ellipse``), not a replacement. It finds *any* large
  bright blob: never use it on real recordings.
- :class:`FixedDetector` — a configured ROI (or the whole image): for cameras without frames, or
  recordings where the face does not move (the report's AEDAT4 takes).
"""

from __future__ import annotations

import functools
import logging

import cv2
import numpy as np

from microexp.dataset.config import DetectorConfig
from microexp.errors import ConfigError
from microexp.faces.types import Box, FaceDetector, GrayImage

__all__ = [
    "BrightEllipseDetector",
    "ChainDetector",
    "DlibHogDetector",
    "FixedDetector",
    "make_detector",
]

log = logging.getLogger(__name__)


def _check_gray(gray: GrayImage) -> GrayImage:
    if gray.ndim == 3 and gray.shape[2] == 3:
        gray = np.asarray(cv2.cvtColor(gray, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    if gray.ndim != 2:
        raise ValueError(f"expected a grey image [H, W], got shape {gray.shape}")
    return np.ascontiguousarray(gray, dtype=np.uint8)


class DlibHogDetector:
    """dlib's frontal face detector (HOG). ``upsample`` doubles the image that many times."""

    name = "dlib_hog"

    def __init__(self, *, upsample: int = 1) -> None:
        try:
            import dlib
        except ImportError as err:  # pragma: no cover - depends on the install
            raise ConfigError(
                "detector kind 'dlib_hog' needs the dlib-bin package (pip install dlib-bin==20.0.1.post1)"
            ) from err
        self._detector = dlib.get_frontal_face_detector()
        self.upsample = int(upsample)

    def detect(self, gray: GrayImage) -> list[Box]:
        img = _check_gray(gray)
        rects, scores, _ = self._detector.run(img, self.upsample, 0.0)
        boxes = [
            Box(r.left(), r.top(), r.right() - r.left() + 1, r.bottom() - r.top() + 1, float(s))
            for r, s in zip(rects, scores, strict=True)
            if r.right() > r.left() and r.bottom() > r.top()
        ]
        return sorted(boxes, key=lambda b: -b.score)


class BrightEllipseDetector:
    """Largest bright blob covering 2–80 % of the image (simulated cartoon faces only)."""

    name = "bright_ellipse"

    def __init__(self, *, min_fraction: float = 0.02, max_fraction: float = 0.8) -> None:
        self.min_fraction = min_fraction
        self.max_fraction = max_fraction

    def detect(self, gray: GrayImage) -> list[Box]:
        img = _check_gray(gray)
        blur = cv2.GaussianBlur(img, (5, 5), 0)
        _, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        # close the dark features (eyes, mouth) inside the face
        k = max(3, (min(img.shape) // 20) | 1)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        total = img.shape[0] * img.shape[1]
        best: Box | None = None
        for i in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[i])
            frac = area / total
            if not (self.min_fraction <= frac <= self.max_fraction):
                continue
            if not (0.4 <= w / h <= 1.6):
                continue
            fill = area / float(w * h)  # an ellipse fills π/4 of its box
            score = frac * (1.0 - abs(fill - np.pi / 4))
            if best is None or score > best.score:
                best = Box(x, y, w, h, float(score))
        return [] if best is None else [best]


class FixedDetector:
    """Always the configured box (clipped to the image), or the whole image when none."""

    name = "fixed"

    def __init__(self, box: tuple[int, ...] = ()) -> None:
        if box and len(box) != 4:
            raise ConfigError(f"fixed_box must be x, y, w, h (4 integers), got {box!r}")
        self.box = tuple(int(v) for v in box)

    def detect(self, gray: GrayImage) -> list[Box]:
        h, w = gray.shape[:2]
        if not self.box:
            return [Box(0, 0, w, h, 1.0)]
        x, y, bw, bh = self.box
        clipped = Box(x, y, bw, bh, 1.0).clipped(width=w, height=h)
        return [] if clipped is None else [clipped]


class ChainDetector:
    """The first detector's boxes, or the next one's when it finds none."""

    def __init__(self, detectors: list[FaceDetector]) -> None:
        self.detectors = detectors
        self.name = "+".join(d.name for d in detectors)

    def detect(self, gray: GrayImage) -> list[Box]:
        for d in self.detectors:
            boxes = d.detect(gray)
            if boxes:
                return boxes
        return []


def _one(kind: str, cfg: DetectorConfig) -> FaceDetector:
    if kind == "dlib_hog":
        return DlibHogDetector(upsample=cfg.upsample)
    if kind == "bright_ellipse":
        return BrightEllipseDetector()
    if kind == "fixed":
        return FixedDetector(cfg.fixed_box)
    raise ConfigError(f"unknown detector kind {kind!r} (dlib_hog, bright_ellipse, fixed)")


@functools.lru_cache(maxsize=8)
def make_detector(cfg: DetectorConfig) -> FaceDetector:
    """The detector named by ``cfg.kind``, chained with ``cfg.fallback`` when set.

    Detectors are stateless, so one instance per config is shared (dlib's takes ~0.2 s to build).
    """
    main = _one(cfg.kind, cfg)
    if cfg.fallback and cfg.fallback != cfg.kind:
        return ChainDetector([main, _one(cfg.fallback, cfg)])
    return main
