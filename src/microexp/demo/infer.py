"""Step 6 of the demo: replay one subject's bag through the streaming engine.

The checkpoint is the one of the LOSO fold that held that subject out, so the model never saw
the replayed session. The face box is fixed for the whole stream: the median of the exporter's
DAVIS face boxes of that subject's clips, squared with the exporter's margin (what the model was
trained on). Writes ``predictions.csv`` (one row per 33 ms slice, as ``microexp infer``),
``truth.csv`` (the ground-truth actions scored against) and ``scores.json``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from microexp.errors import ConfigError
from microexp.stream.config import StreamConfig

__all__ = ["face_roi", "run_inference"]

log = logging.getLogger(__name__)


def face_roi(
    dataset: Path, subject: str, *, camera: str = "davis", margin: float
) -> tuple[int, int, int, int]:
    """Square (x, y, side, side) around the median face box of ``subject``'s clips on ``camera``."""
    from microexp.dataset.manifest import read_manifest
    from microexp.faces.crops import square_box
    from microexp.faces.types import Box

    boxes = []
    for rec in read_manifest(dataset / "manifest.csv"):
        if rec.subject != subject:
            continue
        label = json.loads((dataset / rec.dir / "label.json").read_text(encoding="utf-8"))
        box = label.get("event_face_box", {}).get(camera, {}).get("box")
        if box and box[2] > 0 and box[3] > 0:
            boxes.append(box)
    if not boxes:
        raise ConfigError(f"{dataset}: no {camera} face box in any clip of subject {subject!r}")
    x, y, w, h = (int(v) for v in np.median(np.asarray(boxes, dtype=np.float64), axis=0))
    sq = square_box(Box(x, y, w, h), margin=margin)
    return (int(sq.x), int(sq.y), int(sq.w), int(sq.h))


def run_inference(
    *,
    bag: Path,
    checkpoint: Path,
    dataset: Path,
    subject: str,
    stream: StreamConfig,
    backend: str,
    box_margin: float,
    out_dir: Path,
    progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Replay ``bag`` and write the predictions, truth and scores; return the scores JSON."""
    import torch

    from microexp.stream.predictor import Predictor
    from microexp.stream.replay import replay_bag, write_predictions_csv
    from microexp.stream.scoring import score_predictions

    roi = face_roi(dataset, subject, margin=box_margin)
    config = dataclasses.replace(stream, crop="fixed", roi=roi)
    predictor = Predictor.from_checkpoint(checkpoint, backend=backend)  # type: ignore[arg-type]
    if predictor.size != config.size:
        raise ConfigError(
            f"{checkpoint}: model input is {predictor.size}, stream config size is {config.size}"
        )
    # batch-1 steps: one torch thread is faster, and far faster on a busy machine (measured:
    # a 32-map 3x3 conv at 32x32 took 0.6 ms with one thread, 2.3 ms with two under load)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = replay_bag(bag, predictor, config=config, topic="/davis/events", progress=progress)
    finally:
        torch.set_num_threads(threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_predictions_csv(out_dir / "predictions.csv", result.predictions)
    with (out_dir / "truth.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["label", "onset_ns", "window_end_ns", "source"])
        for a in result.actions:
            w.writerow([a.label, a.onset_ns, a.window_end_ns, a.source])
    scores = score_predictions(result.predictions, result.actions)
    stream_s = len(result.predictions) * config.slice_us / 1e6
    out: dict[str, Any] = {
        **{
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in scores.as_dict().items()
        },
        "subject": subject,
        "bag": str(bag),
        "checkpoint": str(checkpoint),
        "topic": result.topic,
        "roi": list(roi),
        "classes": list(predictor.classes),
        "messages": result.messages,
        "events": result.events,
        "stream_s": stream_s,
        "wall_s": result.wall_s,
        "realtime_factor": stream_s / max(result.wall_s, 1e-9),
        "stream_config": config.to_mapping(),
        "notes": result.notes[:20],
    }
    (out_dir / "scores.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    return out
