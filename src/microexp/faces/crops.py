"""Face crops: a box (grown by a margin, made square, clipped) resized to size × size."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from microexp.faces.types import Box

__all__ = ["crop_resize", "square_box"]


def square_box(box: Box, *, margin: float = 0.0) -> Box:
    """The square box around ``box``'s centre with side max(w, h)·(1 + 2·margin)."""
    side = max(1, round(max(box.w, box.h) * (1.0 + 2.0 * margin)))
    cx, cy = box.center
    return Box(round(cx - side / 2.0), round(cy - side / 2.0), side, side, box.score)


def crop_resize(
    image: npt.NDArray[np.uint8], box: Box, size: int = 64, *, margin: float = 0.0
) -> npt.NDArray[np.uint8]:
    """The square crop around ``box`` resized to ``size``×``size`` (area interpolation).

    Parts of the crop outside the image are zero (black), so the face keeps its place and scale
    at the borders. Works on grey [H, W] and colour [H, W, C] images.
    """
    sq = square_box(box, margin=margin)
    h, w = image.shape[:2]
    out_shape = (sq.h, sq.w, *image.shape[2:])
    canvas = np.zeros(out_shape, dtype=image.dtype)
    inside = sq.clipped(width=w, height=h)
    if inside is not None:
        canvas[
            inside.y - sq.y : inside.y - sq.y + inside.h,
            inside.x - sq.x : inside.x - sq.x + inside.w,
        ] = image[inside.y : inside.y + inside.h, inside.x : inside.x + inside.w]
    interp = cv2.INTER_AREA if sq.w >= size else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(canvas, (size, size), interpolation=interp), dtype=np.uint8)
