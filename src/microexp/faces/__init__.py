"""Face detection, tracking, crops and view mapping (see :mod:`microexp.faces.detectors`)."""

from microexp.faces.crops import crop_resize, square_box
from microexp.faces.detectors import (
    BrightEllipseDetector,
    ChainDetector,
    DlibHogDetector,
    FixedDetector,
    make_detector,
)
from microexp.faces.mapping import ViewMapping
from microexp.faces.tracker import FaceTracker
from microexp.faces.types import NO_BOX, Box, FaceDetector, GrayImage

__all__ = [
    "NO_BOX",
    "Box",
    "BrightEllipseDetector",
    "ChainDetector",
    "DlibHogDetector",
    "FaceDetector",
    "FaceTracker",
    "FixedDetector",
    "GrayImage",
    "ViewMapping",
    "crop_resize",
    "make_detector",
    "square_box",
]
