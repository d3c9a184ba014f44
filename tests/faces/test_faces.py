"""Face detectors on a real photograph and on cartoon faces, tracker, crops, view mapping."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from microexp.dataset.config import DetectorConfig
from microexp.errors import ConfigError
from microexp.faces import (
    Box,
    BrightEllipseDetector,
    FaceTracker,
    FixedDetector,
    ViewMapping,
    crop_resize,
    make_detector,
)

pytest.importorskip("dlib", reason="dlib-bin is not installed")


def cartoon(
    w: int = 346, h: int = 260, box: tuple[int, int, int, int] = (120, 60, 110, 140), seed: int = 0
) -> np.ndarray:
    img = np.full((h, w), 50, np.uint8)
    x, y, bw, bh = box
    cx, cy = x + bw // 2, y + bh // 2
    cv2.ellipse(img, (cx, cy), (bw // 2, bh // 2), 0, 0, 360, 190, -1)
    for ex in (cx - bw // 5, cx + bw // 5):
        cv2.ellipse(img, (ex, cy - bh // 8), (bw // 10, bh // 16), 0, 0, 360, 40, -1)
    cv2.line(img, (cx, cy - bh // 16), (cx, cy + bh // 10), 120, 2)
    cv2.ellipse(img, (cx, cy + bh // 4), (bw // 5, bh // 16), 0, 0, 360, 60, -1)
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.integers(0, 6, img.shape), 0, 255).astype(np.uint8)


def test_dlib_hog_finds_the_astronaut_face() -> None:
    gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)  # real photo, face near (220, 120)
    boxes = make_detector(DetectorConfig(kind="dlib_hog")).detect(gray)
    assert len(boxes) == 1
    cx, cy = boxes[0].center
    assert 180 < cx < 260 and 80 < cy < 170 and 60 < boxes[0].w < 140
    assert (
        make_detector(DetectorConfig(kind="dlib_hog")).detect(np.zeros((200, 200), np.uint8)) == []
    )


@pytest.mark.parametrize("kind", ["dlib_hog", "bright_ellipse"])
def test_detectors_find_cartoon_faces(kind: str) -> None:
    truth = Box(120, 60, 110, 140)
    boxes = make_detector(DetectorConfig(kind=kind)).detect(cartoon(box=(120, 60, 110, 140)))
    assert boxes and boxes[0].iou(truth) > 0.5


def test_bright_ellipse_ignores_blank_and_fixed_clips() -> None:
    assert BrightEllipseDetector().detect(np.full((100, 100), 80, np.uint8)) == []
    assert FixedDetector((90, 90, 50, 50)).detect(np.zeros((100, 120), np.uint8)) == [
        Box(90, 90, 30, 10, 1.0)
    ]
    assert FixedDetector().detect(np.zeros((100, 120), np.uint8)) == [Box(0, 0, 120, 100, 1.0)]
    with pytest.raises(ConfigError, match="fixed_box"):
        FixedDetector((1, 2, 3))


def test_chain_falls_back() -> None:
    det = make_detector(DetectorConfig(kind="dlib_hog", fallback="fixed", fixed_box=(1, 2, 3, 4)))
    assert det.detect(np.zeros((50, 50), np.uint8)) == [Box(1, 2, 3, 4, 1.0)]


def test_tracker_detects_every_n_holds_then_drops() -> None:
    face, blank = cartoon(seed=1), np.full((260, 346), 50, np.uint8)
    tr = FaceTracker(BrightEllipseDetector(), every_n_frames=3, hold_frames=4, smoothing=0.0)
    boxes = [tr.update(face) for _ in range(6)]
    assert all(b is not None for b in boxes) and tr.detections == 2  # frames 0 and 3
    held = [tr.update(blank) for _ in range(4)]  # frames 6..9: detector runs on every miss
    assert held[:2] == [boxes[-1]] * 2  # frames 6, 7: within 4 frames of the last hit (frame 3)
    assert held[2:] == [None] * 2  # then dropped
    assert tr.detections == 6
    tr.reset()
    assert tr.detections == 0 and tr.update(blank) is None


def test_tracker_smooths_jitter() -> None:
    tr = FaceTracker(BrightEllipseDetector(), every_n_frames=1, hold_frames=0, smoothing=0.5)
    a = tr.update(cartoon(box=(120, 60, 110, 140)))
    b = tr.update(cartoon(box=(130, 60, 110, 140)))
    assert a is not None and b is not None and a.x < b.x < a.x + 10


def test_crop_resize_content_and_borders() -> None:
    img = np.zeros((100, 100), np.uint8)
    img[20:60, 30:70] = 200
    crop = crop_resize(img, Box(30, 20, 40, 40), 64)
    assert crop.shape == (64, 64) and (crop == 200).all()
    edge = crop_resize(img, Box(-20, -20, 40, 40), 32)  # half outside: zero-filled, no shift
    assert (edge[:16, :] == 0).all() and (edge[:, :16] == 0).all()
    rgb = crop_resize(np.dstack([img] * 3), Box(30, 20, 40, 40), 16)
    assert rgb.shape == (16, 16, 3)


def test_view_mapping_from_yaml(tmp_path: Path) -> None:
    p = tmp_path / "views.yaml"
    p.write_text("evk4:\n  source: davis\n  matrix: [[2.0, 0, 10], [0, 2.0, -5], [0, 0, 1]]\n")
    m = ViewMapping.from_yaml(p, "evk4")
    assert m.source == "davis" and m.map_box(Box(10, 20, 30, 40)) == Box(30, 35, 60, 80)
    h = np.array([[1.0, 0.1, 0], [0, 1.0, 0], [0.001, 0, 1.0]])
    hm = ViewMapping("davis", "evk4", h)
    corners = hm.map_points(np.array([[0.0, 0.0], [100.0, 50.0]]))
    np.testing.assert_allclose(corners[1], [105.0 / 1.1, 50.0 / 1.1])
    c = ViewMapping.centered("davis", "evk4", src_size=(346, 260), dst_size=(1280, 720))
    assert c.map_box(Box(163, 120, 20, 20)) == Box(612, 332, 56, 56)  # centre stays centre
    p.write_text("evk4:\n  source: davis\n  matrix: [[0, 0, 0], [0, 0, 0], [0, 0, 1]]\n")
    with pytest.raises(ConfigError, match="invertible"):
        ViewMapping.from_yaml(p, "evk4")
    p.write_text("evk4:\n  source: davis\n  matrx: []\n")
    with pytest.raises(ConfigError, match="unknown key"):
        ViewMapping.from_yaml(p, "evk4")
