"""Torch datasets over a dataset directory (docs/dataset_format.md).

- :class:`ClipDataset`: one item per clip, ``(x [T, C, S, S] float32, label index)`` for the
  classifiers. Modality ``events`` reads ``evframes_<camera>.npy`` (per-polarity counts, C = 2,
  values kept as counts like the paper's Eq. 1), ``grey`` reads ``crops_<camera>.npy`` (C = 1,
  scaled to [0, 1]), ``rgb`` crops ``frames_<camera>.npy`` [N, H, W, 3] with ``faces_<camera>.npy``
  and resizes to S × S (C = 3, [0, 1]). ``max_len`` crops long clips (centre, start or random
  window) — short clips are padded only when batched, by :func:`collate_clips`.
- :class:`ReconstructionPairs`: one item per target frame, ``(condition [2, S, S], target
  [1, S, S])`` for the cVAE: the event frames accumulated over the ``window_slices`` slices that
  end at the frame's time, and the grey face crop of that frame.
- :func:`read_clips`: the manifest rows; :func:`loso_folds`: folds from ``splits.json`` (or
  computed when absent).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
import torch
from torch.utils.data import Dataset

from microexp.errors import ConfigError

__all__ = [
    "ClipDataset",
    "ClipInfo",
    "CropMode",
    "Fold",
    "Modality",
    "ReconstructionPairs",
    "collate_clips",
    "loso_folds",
    "read_clips",
]

log = logging.getLogger(__name__)

Modality = Literal["events", "grey", "rgb"]
CropMode = Literal["center", "start", "random"]
CHANNELS: dict[str, int] = {"events": 2, "grey": 1, "rgb": 3}


@dataclass(frozen=True, slots=True)
class ClipInfo:
    """One manifest row (the fields training needs)."""

    clip_id: str
    subject: str
    label: str
    dir: Path


@dataclass(frozen=True, slots=True)
class Fold:
    """One leave-one-subject-out fold (clip ids)."""

    test_subject: str
    train: tuple[str, ...]
    test: tuple[str, ...]


def read_clips(root: str | Path) -> list[ClipInfo]:
    """The clips of ``root/manifest.csv`` in file order."""
    path = Path(root) / "manifest.csv"
    if not path.is_file():
        raise ConfigError(f"{path}: dataset manifest not found")
    out = []
    with path.open(newline="") as f:
        for i, row in enumerate(csv.DictReader(f), start=2):
            try:
                cid = row["clip_id"]
                out.append(
                    ClipInfo(
                        cid,
                        row["subject"],
                        row["label"],
                        Path(root) / (row.get("dir") or f"clips/{cid}"),
                    )
                )
            except KeyError as err:
                raise ConfigError(f"{path}:{i}: manifest row lacks column {err}") from err
    return out


def loso_folds(root: str | Path, clips: Sequence[ClipInfo] | None = None) -> list[Fold]:
    """Folds from ``root/splits.json`` (``"loso"``), or one per subject when the file is absent."""
    path = Path(root) / "splits.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            return [
                Fold(str(f["test_subject"]), tuple(f["train"]), tuple(f["test"]))
                for f in data["loso"]
            ]
        except (ValueError, KeyError, TypeError) as err:
            raise ConfigError(f"{path}: bad splits file: {err!r}") from err
    clips = read_clips(root) if clips is None else clips
    subjects = sorted({c.subject for c in clips})
    return [
        Fold(
            s,
            tuple(c.clip_id for c in clips if c.subject != s),
            tuple(c.clip_id for c in clips if c.subject == s),
        )
        for s in subjects
    ]


def _load(path: Path) -> npt.NDArray[np.generic]:
    try:
        return np.load(path, mmap_mode="r")
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: cannot read array: {err}") from err


def _crop_rgb(
    frames: npt.NDArray[np.uint8], boxes: npt.NDArray[np.int32] | None, size: int
) -> npt.NDArray[np.float32]:
    """Face crops ``[N, 3, S, S]`` in [0, 1]; frames without a box reuse the last one (or the
    first later one, or a centred square)."""
    n, h, w = frames.shape[:3]
    side = min(h, w)
    default = ((w - side) // 2, (h - side) // 2, side, side)
    valid = [] if boxes is None else [i for i in range(n) if boxes[i][2] > 0 and boxes[i][3] > 0]
    out = np.empty((n, 3, size, size), np.float32)
    for i in range(n):
        if valid:
            j = max((k for k in valid if k <= i), default=valid[0])
            assert boxes is not None
            x, y, bw, bh = (int(v) for v in boxes[j])
        else:
            x, y, bw, bh = default
        x0, y0 = max(0, x), max(0, y)
        crop = np.ascontiguousarray(frames[i, y0 : y + bh, x0 : x + bw])
        if crop.size == 0:
            crop = np.ascontiguousarray(frames[i])
        out[i] = (
            cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA).transpose(2, 0, 1) / 255.0
        )
    return out


class ClipDataset(Dataset[tuple[torch.Tensor, int]]):
    """Clips of one camera and modality (see module docstring)."""

    def __init__(
        self,
        root: str | Path,
        *,
        camera: str,
        modality: Modality = "events",
        classes: Sequence[str],
        clip_ids: Sequence[str] | None = None,
        max_len: int | None = None,
        crop: CropMode = "center",
        size: int = 64,
        cache: bool = True,
    ) -> None:
        if modality not in CHANNELS:
            raise ConfigError(f"unknown modality {modality!r} (known: {', '.join(CHANNELS)})")
        self.root, self.camera, self.modality = Path(root), camera, modality
        self.classes = tuple(classes)
        self.max_len, self.crop, self.size = max_len, crop, size
        self.channels = CHANNELS[modality]
        index = {c: i for i, c in enumerate(self.classes)}
        all_clips = {c.clip_id: c for c in read_clips(root)}
        wanted = list(all_clips) if clip_ids is None else list(clip_ids)
        missing = [c for c in wanted if c not in all_clips]
        if missing:
            raise ConfigError(f"{self.root}: clip ids not in manifest.csv: {missing[:5]}")
        self.clips: list[ClipInfo] = []
        skipped_label = skipped_file = 0
        for cid in wanted:
            info = all_clips[cid]
            if info.label not in index:
                skipped_label += 1
            elif not self._source(info).is_file():
                skipped_file += 1
            else:
                self.clips.append(info)
        if skipped_label or skipped_file:
            log.info(
                "%s: %d clips used, %d skipped (label not in classes), %d skipped (no %s)",
                self.root, len(self.clips), skipped_label, skipped_file, self._source_name(),
            )  # fmt: skip
        self.labels = [index[c.label] for c in self.clips]
        self._cache: dict[int, npt.NDArray[np.float32]] | None = {} if cache else None

    def _source_name(self) -> str:
        kind = {"events": "evframes", "grey": "crops", "rgb": "frames"}[self.modality]
        return f"{kind}_{self.camera}.npy"

    def _source(self, info: ClipInfo) -> Path:
        return info.dir / self._source_name()

    def __len__(self) -> int:
        return len(self.clips)

    def _read(self, i: int) -> npt.NDArray[np.float32]:
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        info = self.clips[i]
        path = self._source(info)
        a = _load(path)
        if self.modality == "events":
            if a.ndim != 4 or a.shape[1] != 2:
                raise ConfigError(f"{path}: expected [T, 2, S, S] event frames, got {a.shape}")
            x = np.asarray(a, dtype=np.float32)
        elif self.modality == "grey":
            if a.ndim != 3:
                raise ConfigError(f"{path}: expected [N, S, S] grey crops, got {a.shape}")
            x = np.asarray(a, dtype=np.float32)[:, None] / 255.0
        else:
            if a.ndim != 4 or a.shape[3] != 3:
                raise ConfigError(f"{path}: expected [N, H, W, 3] RGB frames, got {a.shape}")
            faces = info.dir / f"faces_{self.camera}.npy"
            boxes = np.asarray(_load(faces)) if faces.is_file() else None
            x = _crop_rgb(np.asarray(a), boxes, self.size)
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = np.stack(
                [
                    cv2.resize(
                        f.transpose(1, 2, 0), (self.size, self.size), interpolation=cv2.INTER_AREA
                    )
                    .reshape(self.size, self.size, -1)
                    .transpose(2, 0, 1)
                    for f in x
                ]
            )
        if x.shape[0] == 0:
            raise ConfigError(f"{path}: clip has no frames")
        if self._cache is not None:
            self._cache[i] = x
        return x

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = self._read(i)
        t = x.shape[0]
        if self.max_len is not None and t > self.max_len:
            if self.crop == "start":
                s = 0
            elif self.crop == "random":  # torch's global RNG: seeded per epoch by the trainer
                s = int(torch.randint(0, t - self.max_len + 1, ()).item())
            else:
                s = (t - self.max_len) // 2
            x = x[s : s + self.max_len]
        return torch.from_numpy(np.ascontiguousarray(x)), self.labels[i]


def collate_clips(
    batch: Sequence[tuple[torch.Tensor, int]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x [T, N, C, S, S] zero-padded to the longest clip, lengths [N], labels [N])``."""
    lengths = torch.tensor([b[0].shape[0] for b in batch])
    t = int(lengths.max())
    first = batch[0][0]
    x = first.new_zeros((t, len(batch), *first.shape[1:]))
    for n, (clip, _) in enumerate(batch):
        x[: clip.shape[0], n] = clip
    return x, lengths, torch.tensor([b[1] for b in batch])


class ReconstructionPairs(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """(accumulated event frame, grey frame) pairs for the cVAE (see module docstring).

    The condition is ``min(counts, cap) / cap`` per polarity; event slice k of a clip covers
    ``[start_ns + k·slice, start_ns + (k+1)·slice)`` with ``slice_us`` from ``label.json``.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        event_camera: str,
        target_camera: str,
        clip_ids: Sequence[str] | None = None,
        window_slices: int = 1,
        cap: float = 4.0,
    ) -> None:
        self.root = Path(root)
        clips = {c.clip_id: c for c in read_clips(root)}
        ids = list(clips) if clip_ids is None else list(clip_ids)
        conds: list[npt.NDArray[np.float32]] = []
        targets: list[npt.NDArray[np.float32]] = []
        self.sources: list[tuple[str, int]] = []  # (clip id, frame index) per pair
        self.subjects: list[str] = []  # subject per pair
        for cid in ids:
            d = clips[cid].dir
            ev_p, crop_p = d / f"evframes_{event_camera}.npy", d / f"crops_{target_camera}.npy"
            times_p = d / f"frame_times_{target_camera}.npy"
            if not (ev_p.is_file() and crop_p.is_file() and times_p.is_file()):
                continue
            label = json.loads((d / "label.json").read_text())
            slice_ns = int(label.get("slice_us", 33_000)) * 1000
            ev = np.asarray(_load(ev_p), dtype=np.float32)
            crops = np.asarray(_load(crop_p))
            times = np.asarray(_load(times_p), dtype=np.int64)
            for j, t_ns in enumerate(times):
                k = int((int(t_ns) - int(label["start_ns"])) // slice_ns)
                if k < 0 or k >= ev.shape[0]:
                    continue
                acc = ev[max(0, k - window_slices + 1) : k + 1].sum(0)
                conds.append(np.minimum(acc, cap) / cap)
                targets.append(crops[j][None].astype(np.float32) / 255.0)
                self.sources.append((cid, j))
                self.subjects.append(clips[cid].subject)
        if not conds:
            raise ConfigError(
                f"{self.root}: no (evframes_{event_camera}, crops_{target_camera}) pairs found"
            )
        self.cond = torch.from_numpy(np.stack(conds))
        self.target = torch.from_numpy(np.stack(targets))

    def __len__(self) -> int:
        return int(self.cond.shape[0])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cond[i], self.target[i]
