"""``microexp tune-stream BAG... --run RUN -o OUT``: streaming thresholds tuned out-of-sample.

Each bag is one subject's session; it is replayed through the streaming engine with the
checkpoint of the LOSO fold that held that subject out (``RUN/fold_<subject>/checkpoint.pt``),
once, and its per-slice rates are cached in ``OUT/traces/<subject>.npz``. Then every setting of
the grid (``config/infer/tune_stream.yaml``) is re-decided on the traces and chosen by nested
leave-one-subject-out (:mod:`microexp.stream.tuning`). Writes ``OUT/nested_loso.{csv,md,png}``
and ``OUT/stream_selected.yaml`` (the setting chosen on all subjects, with the out-of-sample
figures in its header).
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["HELP", "configure", "run"]

HELP = "Tune the streaming thresholds by nested leave-one-subject-out over replayed bags."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bags", nargs="+", type=Path, help="one session bag per subject")
    parser.add_argument("--run", type=Path, required=True,
                        help="LOSO training run (fold_<subject>/checkpoint.pt per subject)")  # fmt: skip
    parser.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    parser.add_argument("--config", type=Path, default=None,
                        help="base stream config (default: config/infer/stream.yaml)")  # fmt: skip
    parser.add_argument("--grid", type=Path, default=None,
                        help="candidate settings (default: config/infer/tune_stream.yaml)")  # fmt: skip
    parser.add_argument("--topic", help="event topic (default: /davis/events, /evk4/events, ...)")
    parser.add_argument("--face-topic", help="images of the event sensor (e.g. /davis/image)")
    parser.add_argument("--detector", choices=["dlib_hog", "bright_ellipse"], default="dlib_hog",
                        help="face detector for --face-topic (bright_ellipse: simulated faces)")  # fmt: skip
    parser.add_argument("--force", action="store_true", help="replay again even if cached")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _config_dir() -> Path:
    from microexp.demo.config import default_config_path

    return default_config_path().parents[1]


def _subject(bag: Path) -> str:
    from microexp.dataset.bagsource import BagSource
    from microexp.dataset.config import ExportConfig
    from microexp.dataset.session import read_session

    with BagSource(bag) as src:
        return read_session(src, ExportConfig()).subject


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # batch-1 steps (see microexp infer)
    from tqdm import tqdm

    from microexp.dataset.config import DetectorConfig
    from microexp.errors import ConfigError
    from microexp.stream.config import load_stream_config
    from microexp.stream.predictor import Predictor
    from microexp.stream.replay import replay_bag
    from microexp.stream.tuning import RateTrace, load_tuning_grid, nested_loso
    from microexp.stream.tuning_report import write_tuning_outputs

    t0, cpu0 = time.perf_counter(), time.process_time()
    base = load_stream_config(args.config or _config_dir() / "infer" / "stream.yaml")
    grid = load_tuning_grid(args.grid or _config_dir() / "infer" / "tune_stream.yaml")
    traces_dir = args.output / "traces"
    traces_dir.mkdir(parents=True, exist_ok=True)
    traces = []
    for bag in args.bags:
        if not bag.exists():
            raise ConfigError(f"{bag}: bag not found")
        subject = _subject(bag)
        cached = traces_dir / f"{subject}.npz"
        if cached.exists() and not args.force:
            traces.append(RateTrace.load(cached))
            print(f"{subject}: rates from {cached}")
            continue
        ckpt = args.run / f"fold_{subject}" / "checkpoint.pt"
        if not ckpt.is_file():
            raise ConfigError(f"{ckpt}: no checkpoint of the fold that held out {subject} ({bag})")
        predictor = Predictor.from_checkpoint(ckpt)
        bar = tqdm(unit="msg", desc=f"{subject} {bag.name}", disable=args.no_progress)

        def progress(n: int, bar: Any = bar) -> None:
            bar.update(n - bar.n)

        replay = replay_bag(
            bag, predictor, config=base, topic=args.topic, face_topic=args.face_topic,
            detector=DetectorConfig(kind=args.detector), progress=progress,
        )  # fmt: skip
        bar.close()
        if not replay.actions:
            raise ConfigError(f"{bag}: neither ground truth nor protocol labels to tune against")
        trace = RateTrace.from_predictions(subject, replay.predictions, replay.actions)
        trace.save(cached)
        traces.append(trace)
        print(f"{subject}: {len(replay.predictions)} slices, {len(replay.actions)} actions, "
              f"replayed in {replay.wall_s:.1f} s ({bag})")  # fmt: skip
    t_replay, cpu_replay = time.perf_counter() - t0, time.process_time() - cpu0
    result = nested_loso(traces, grid, config=base)
    command = "microexp tune-stream " + shlex.join(sys.argv[2:] if len(sys.argv) > 2 else [])
    paths = write_tuning_outputs(args.output, result, base=base, command=command)
    pooled = result.pooled()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{result.candidates} settings x {len(traces)} subjects; held-out (nested LOSO): "
        f"detection {pooled['detected']}/{pooled['actions']}, "
        f"{pooled['false_onsets_per_min']:.1f} false onsets/min, onset F1 {pooled['f1']:.2f}"
    )
    print(f"chosen on all subjects: {result.final.label()}")
    print(
        f"cost: replay {t_replay:.0f} s wall / {cpu_replay:.0f} s CPU, grid "
        f"{time.perf_counter() - t0 - t_replay:.0f} s wall / "
        f"{time.process_time() - cpu0 - cpu_replay:.0f} s CPU; peak RSS "
        f"{usage.ru_maxrss / 1024:.0f} MiB"
    )
    for p in paths.values():
        print(f"wrote {p}")
    return 0
