"""A debug picture of one slice: the crop's event frame in place on the sensor, the box, the top AU.

The engine bins only the face crop, so the picture is a sensor-shaped dark canvas (scaled so its
longest side is ``max_side``) with the crop's counts pasted into the box (ON red, OFF blue,
brightness ∝ count), the box outlined in green and the top label, its score and the emotion
written above it. RGB, uint8, ``[height, width, 3]`` — what ``sensor_msgs/Image`` rgb8 carries.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from microexp.stream.engine import SlicePrediction

__all__ = ["render_debug"]


def render_debug(
    frame: npt.NDArray[np.float32] | None,
    prediction: SlicePrediction,
    *,
    width: int,
    height: int,
    max_side: int = 640,
) -> npt.NDArray[np.uint8]:
    """The debug image of ``prediction`` (``frame``: its ``[2, S, S]`` counts, or None)."""
    scale = max_side / max(width, height)
    cw, ch = max(1, round(width * scale)), max(1, round(height * scale))
    canvas = np.zeros((ch, cw, 3), dtype=np.uint8)
    box = prediction.face_box
    if box is not None and frame is not None:
        x0, y0 = round(box[0] * scale), round(box[1] * scale)
        x1 = min(cw, max(x0 + 1, round((box[0] + box[2]) * scale)))
        y1 = min(ch, max(y0 + 1, round((box[1] + box[3]) * scale)))
        peak = float(frame.max()) or 1.0
        tile = np.zeros((*frame.shape[1:], 3), dtype=np.float32)
        tile[..., 0] = frame[1] / peak  # ON: red
        tile[..., 2] = frame[0] / peak  # OFF: blue
        tile = cv2.resize(tile, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        canvas[y0:y1, x0:x1] = np.clip(np.sqrt(tile) * 255.0, 0, 255).astype(np.uint8)
        cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), (0, 255, 0), 1)
    text = "no face"
    if box is not None and prediction.topk:
        label, score = prediction.topk[0]
        text = f"{label} {score:.2f}"
        if prediction.emotion:
            text += f"  {prediction.emotion}"
    cv2.putText(canvas, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    return canvas
