"""Helpers of the demo tests: a tiny demo config (2 subjects, 2 AUs, 1 epoch)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG_DIR = REPO / "config" / "demo"

TINY_PLAN = """\
name: demo_tiny
description: "two AUs from different face regions, once each"
labels: [AU12, AU26]
order: fixed
repetitions: 1
timing: {demo_repetitions: 0, demo_clip_s: 0.0, countdown_s: 0.4, neutral_s: 0.0, perform_s: 1.0, rest_s: 0.3}
demo_run: {labels: []}
sync:
  pattern: {flashes: 1, on_s: 0.1, off_s: 0.1}
  at_start: true
  per_segment: false
"""

TINY_TRAIN = """\
dataset: replaced-by-the-demo
camera: davis
modality: events
classes: from_dataset
model: {name: snn, neuron: plif, dropout: 0.2}
train: {epochs: 1, batch_size: 4, max_clip_len: 8, crop: center}
folds: all
seed: 0
device: cpu
"""


def write_tiny_config(folder: Path, *, subjects: int = 2) -> Path:
    """A demo config for the tests: the tiny plan and training above, the shipped export and
    stream configs (absolute paths), a small webcam."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.yaml").write_text(TINY_PLAN, encoding="utf-8")
    (folder / "train.yaml").write_text(TINY_TRAIN, encoding="utf-8")
    cfg = folder / "tiny.yaml"
    cfg.write_text(
        f"""\
subjects: {subjects}
seed: 1
plan: plan.yaml
sim:
  cameras: [davis, webcam]
  style: micro
  webcam_size: [80, 60]
  webcam_fps: 10.0
  davis_fps: 20.0
  davis_clock_jitter_us: 300000
  chunk_ms: 1000
  workers: 2
export_config: {DEMO_CONFIG_DIR / "export.yaml"}
train_config: train.yaml
infer: {{subject: last, stream_config: {DEMO_CONFIG_DIR / "stream.yaml"}, backend: fast}}
report: {{rate_bin_ms: 100, sample_clips: 2}}
""",
        encoding="utf-8",
    )
    return cfg
