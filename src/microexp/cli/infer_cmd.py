"""``microexp infer BAG --checkpoint CKPT [-o OUT.csv] [--topic T]``: live AU recognition replayed.

Runs the streaming engine (the same code as the ROS inference node) over a recorded bag, writes
the predictions it would have published (one CSV row per 33 ms slice) and, when the bag holds
the simulator's ground truth or protocol labels, scores them: onset detection delay, detection
and top-1 accuracy, false onsets per minute (see :mod:`microexp.stream.scoring`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from pathlib import Path

from microexp.errors import ConfigError, OutputExistsError

__all__ = ["HELP", "configure", "run"]

HELP = "Replay a bag through the streaming AU recogniser; write per-slice predictions and scores."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bag", help="bag folder, or a bare .mcap / .db3 file")
    parser.add_argument("--checkpoint", required=True, help="trained SNN checkpoint (.pt)")
    parser.add_argument(
        "-o", "--output", help="predictions CSV (default: <bag>.predictions.csv beside the bag)"
    )
    parser.add_argument("--topic", help="event topic (default: /davis/events, /evk4/events, ...)")
    parser.add_argument("--config", help="stream config YAML (default: built-in defaults)")
    parser.add_argument(
        "--roi", nargs=4, type=int, metavar=("X", "Y", "W", "H"), help="fixed face box, sensor px"
    )
    parser.add_argument(
        "--face-topic",
        help="images of the event sensor (e.g. /davis/image): track the face for the crop",
    )
    parser.add_argument(
        "--detector",
        choices=["dlib_hog", "bright_ellipse"],
        default="dlib_hog",
        help="face detector for --face-topic (bright_ellipse: simulated faces only)",
    )
    parser.add_argument(
        "--backend",
        choices=["fast", "fast_sparse", "module", "torchscript"],
        default="fast",
        help="model stepping path (default: fast)",
    )
    parser.add_argument("--scores-json", help="also write the scores as JSON here")
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _default_output(bag: Path) -> Path:
    base = bag.with_suffix("") if bag.is_file() else bag
    return base.parent / f"{base.name}.predictions.csv"


def run(args: argparse.Namespace) -> int:
    # One short model step per slice: spinning OpenMP threads (the default) only burn CPU between
    # them, and multiply the time on a busy machine. Takes effect when torch is not loaded yet.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from tqdm import tqdm

    from microexp.bagio.reader import open_bag
    from microexp.stream.config import StreamConfig, load_stream_config
    from microexp.stream.predictor import Predictor
    from microexp.stream.replay import pick_event_topic, replay_bag, write_predictions_csv
    from microexp.stream.scoring import score_predictions

    bag = Path(args.bag)
    out = Path(args.output) if args.output else _default_output(bag)
    for target in (out, Path(args.scores_json) if args.scores_json else None):
        if target is not None and target.exists() and not args.force:
            raise OutputExistsError(f"{target} exists (use --force to overwrite)")
    predictor = Predictor.from_checkpoint(args.checkpoint, backend=args.backend)
    config = load_stream_config(args.config) if args.config else StreamConfig(size=predictor.size)
    if args.roi:
        config = dataclasses.replace(config, crop="fixed", roi=tuple(args.roi))
    if predictor.size != config.size:
        raise ConfigError(
            f"{args.checkpoint}: model input is {predictor.size}x{predictor.size}, "
            f"stream config size is {config.size}"
        )
    with open_bag(bag) as reader:
        topic = pick_event_topic(reader.topics, args.topic, where=str(bag))
        total = reader.topics[topic].count
    bar = tqdm(total=total, unit="msg", desc=topic, disable=args.no_progress)
    last = [0]

    def progress(n: int) -> None:
        bar.update(n - last[0])
        last[0] = n

    try:
        from microexp.dataset.config import DetectorConfig

        result = replay_bag(
            bag,
            predictor,
            config=config,
            topic=topic,
            face_topic=args.face_topic,
            detector=DetectorConfig(kind=args.detector),
            progress=progress,
        )
    finally:
        bar.close()
    write_predictions_csv(out, result.predictions, overwrite=args.force)
    stream_s = len(result.predictions) * config.slice_us / 1e6
    print(f"bag: {bag}  topic: {topic}  classes: {len(predictor.classes)}")
    print(
        f"{result.messages:,} messages, {result.events:,} events, {len(result.predictions):,} "
        f"slices ({stream_s:.1f} s of stream) in {result.wall_s:.1f} s "
        f"({stream_s / max(result.wall_s, 1e-9):.1f}x real time); decode errors: "
        f"{result.decode_errors}"
    )
    if args.face_topic:
        print(
            f"face: found in {result.frames_with_face} of {result.frames} frames of {args.face_topic}"
        )
    for note in result.notes[:10]:
        print(f"note: {note}")
    print(f"predictions: {out}")
    if not result.actions:
        print("scores: the bag has neither ground truth nor protocol labels")
        return 0
    scores = score_predictions(result.predictions, result.actions)
    print(f"scores against {scores.source} ({scores.actions} actions, "
          f"{scores.actions_unknown_label} with labels outside the model's classes):")  # fmt: skip
    print(
        f"  detection accuracy (onset of the right label in the window): {_pct(scores.detection_accuracy)}"
    )
    print(f"  top-1 accuracy (mean score over the window): {_pct(scores.top1_accuracy)}")
    print(f"  onset delay: median {_ms(scores.delay_median_ms)}, p90 {_ms(scores.delay_p90_ms)}")
    print(f"  false onsets: {scores.false_onsets} ({scores.false_onsets_per_min:.2f} per minute)")
    if args.scores_json:
        clean = {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in scores.as_dict().items()
        }
        Path(args.scores_json).write_text(json.dumps(clean, indent=2), encoding="utf-8")
    return 0


def _pct(v: float) -> str:
    return "n/a" if math.isnan(v) else f"{100 * v:.1f} %"


def _ms(v: float) -> str:
    return "n/a" if math.isnan(v) else f"{v:.0f} ms"
