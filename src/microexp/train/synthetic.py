"""A seeded synthetic dataset in the documented format (docs/dataset_format.md), for CI and benchmarks.

Each label gets its own spot on a 64×64 "face": during the clip the spot brightens then fades
(onset → apex → offset), so the grey crops change there and the event frames carry ON counts
while it brightens and OFF counts while it fades, plus uniform noise. Subjects shift the spots
by a few pixels and change the background, so leave-one-subject-out has something to generalise
over. Written files per clip: ``label.json``, ``evframes_<camera>.npy`` (each event camera),
``crops_<camera>.npy``, ``frame_times_<camera>.npy``, ``faces_<camera>.npy`` and, for the RGB
camera, ``frames_<camera>.npy`` [N, H, W, 3]; plus ``manifest.csv``, ``splits.json`` and
``dataset.json`` at the top.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from microexp import __version__

__all__ = ["MANIFEST_COLUMNS", "SyntheticSpec", "write_synthetic_dataset"]

MANIFEST_COLUMNS = (
    "clip_id", "subject", "session", "label", "au_numbers", "attempt", "start_ns", "end_ns",
    "duration_s", "sensors", "lighting", "lux", "glasses", "events_davis", "events_evk4", "noisy",
    "source", "dir",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SyntheticSpec:
    """What :func:`write_synthetic_dataset` writes."""

    subjects: tuple[str, ...] = ("s01", "s02", "s03")
    labels: tuple[str, ...] = ("AU2", "AU12", "AU26")
    clips_per_label: int = 2
    t_min: int = 10
    t_max: int = 16
    event_cameras: tuple[str, ...] = ("davis",)
    grey_camera: str = "davis"
    rgb_camera: str | None = None
    rgb_size: tuple[int, int] = (96, 80)  # W, H of the RGB frames
    noise: float = 0.01
    seed: int = 0


def _spot_centre(label_index: int, n_labels: int) -> tuple[float, float]:
    angle = 2 * np.pi * label_index / max(n_labels, 1)
    return 32 + 18 * np.cos(angle), 32 + 18 * np.sin(angle)


def _clip(
    rng: np.random.Generator, spec: SyntheticSpec, label_index: int, subject_index: int, t: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """``(intensity [T, 64, 64] in [0, 1], events [T, 2, 64, 64] uint8)``."""
    cx, cy = _spot_centre(label_index, len(spec.labels))
    shift = np.array([(subject_index * 7) % 5 - 2, (subject_index * 3) % 5 - 2], float)
    cx, cy = cx + shift[0] + rng.normal(0, 0.7), cy + shift[1] + rng.normal(0, 0.7)
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    spot = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 5.0**2))
    background = 0.3 + 0.1 * subject_index / max(len(spec.subjects), 1) + 0.1 * (yy / 64)
    phase = np.sin(np.linspace(0, np.pi, t)) ** 2 * rng.uniform(0.7, 1.0)  # onset→apex→offset
    intensity = np.clip(background[None] + 0.5 * phase[:, None, None] * spot[None], 0, 1)
    diff = np.diff(intensity, axis=0, prepend=intensity[:1])
    scale = 30.0
    on = np.clip(diff, 0, None) * scale
    off = np.clip(-diff, 0, None) * scale
    counts = np.stack([on, off], axis=1)
    counts = rng.poisson(counts) + (rng.random(counts.shape) < spec.noise)
    return intensity.astype(np.float32), np.minimum(counts, 255).astype(np.uint8)


def write_synthetic_dataset(root: str | Path, spec: SyntheticSpec = SyntheticSpec()) -> Path:
    """Write the dataset into ``root`` (created; existing files overwritten) and return it."""
    root = Path(root)
    (root / "clips").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    slice_ns = 33_000_000
    rows: list[dict[str, object]] = []
    start_ns = 1_700_000_000_000_000_000
    for si, subject in enumerate(spec.subjects):
        for li, label in enumerate(spec.labels):
            for attempt in range(spec.clips_per_label):
                t = int(rng.integers(spec.t_min, spec.t_max + 1))
                cid = f"{subject}_main_{label}_{li}_{attempt + 1}"
                d = root / "clips" / cid
                d.mkdir(parents=True, exist_ok=True)
                intensity, events = _clip(rng, spec, li, si, t)
                for cam in spec.event_cameras:
                    np.save(d / f"evframes_{cam}.npy", events)
                times = start_ns + (np.arange(t) * slice_ns + slice_ns // 2)
                grey = (intensity * 255).round().astype(np.uint8)
                np.save(d / f"crops_{spec.grey_camera}.npy", grey)
                np.save(d / f"frame_times_{spec.grey_camera}.npy", times.astype(np.int64))
                np.save(
                    d / f"faces_{spec.grey_camera}.npy",
                    np.tile(np.array([0, 0, 64, 64], np.int32), (t, 1)),
                )
                if spec.rgb_camera:
                    w, h = spec.rgb_size
                    import cv2

                    rgb = np.stack(
                        [cv2.resize(g, (h, h))[:, :, None] * np.ones(3, np.uint8) for g in grey]
                    )
                    frames = np.zeros((t, h, w, 3), np.uint8)
                    x0 = (w - h) // 2
                    frames[:, :, x0 : x0 + h] = rgb
                    np.save(d / f"frames_{spec.rgb_camera}.npy", frames)
                    np.save(d / f"frame_times_{spec.rgb_camera}.npy", times.astype(np.int64))
                    np.save(
                        d / f"faces_{spec.rgb_camera}.npy",
                        np.tile(np.array([x0, 0, h, h], np.int32), (t, 1)),
                    )
                end_ns = start_ns + t * slice_ns
                label_json = {
                    "clip_id": cid, "subject": subject, "session": "main", "label": label,
                    "au_numbers": [], "attempt": attempt + 1, "start_ns": start_ns,
                    "end_ns": end_ns, "onset_ns": start_ns, "offset_ns": end_ns,
                    "slice_us": slice_ns // 1000, "crop_size": 64, "source": "synthetic",
                }  # fmt: skip
                (d / "label.json").write_text(json.dumps(label_json, indent=1))
                rows.append({
                    "clip_id": cid, "subject": subject, "session": "main", "label": label,
                    "au_numbers": "", "attempt": attempt + 1, "start_ns": start_ns,
                    "end_ns": end_ns, "duration_s": t * slice_ns / 1e9,
                    "sensors": ";".join(sorted({*spec.event_cameras, spec.grey_camera})),
                    "lighting": "synthetic", "lux": 500.0, "glasses": False,
                    "events_davis": int(events.sum()), "events_evk4": 0, "noisy": False,
                    "source": "synthetic", "dir": f"clips/{cid}",
                })  # fmt: skip
                start_ns = end_ns + 1_000_000_000
    with (root / "manifest.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    folds = []
    for s in sorted(spec.subjects):
        test = sorted(str(r["clip_id"]) for r in rows if r["subject"] == s)
        train = sorted(str(r["clip_id"]) for r in rows if r["subject"] != s)
        folds.append({"test_subject": s, "train": train, "test": test})
    (root / "splits.json").write_text(json.dumps({"loso": folds}, indent=1))
    (root / "dataset.json").write_text(
        json.dumps({"format_version": 1, "microexp_version": __version__, "source": "synthetic",
                    "slice_us": slice_ns // 1000, "crop_size": 64,
                    "spec": {k: getattr(spec, k) for k in spec.__dataclass_fields__}}, indent=1)
    )  # fmt: skip
    return root
