"""microexp.dataset.torch_dataset over a synthetic dataset written in the documented format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from microexp.dataset.torch_dataset import (
    ClipDataset,
    ReconstructionPairs,
    collate_clips,
    read_clips,
)
from microexp.errors import ConfigError
from microexp.train.synthetic import SyntheticSpec, write_synthetic_dataset


@pytest.fixture(scope="module")
def ds_root(tmp_path_factory):
    spec = SyntheticSpec(subjects=("a", "b"), labels=("AU2", "AU4"), clips_per_label=1, t_min=4, t_max=9,
                         rgb_camera="webcam", seed=1)  # fmt: skip
    return write_synthetic_dataset(tmp_path_factory.mktemp("ds"), spec)


def test_events_items_match_files(ds_root) -> None:
    ds = ClipDataset(ds_root, camera="davis", classes=["AU4", "AU2"])
    assert len(ds) == 4
    for i, info in enumerate(ds.clips):
        x, y = ds[i]
        raw = np.load(info.dir / "evframes_davis.npy")
        assert x.dtype == torch.float32 and x.shape == raw.shape
        assert torch.equal(x, torch.from_numpy(raw.astype(np.float32)))
        assert ds.classes[y] == info.label


def test_crop_modes_and_class_filter(ds_root) -> None:
    ds = ClipDataset(ds_root, camera="davis", classes=["AU2"], max_len=3, crop="start")
    assert len(ds) == 2 and all(c.label == "AU2" for c in ds.clips)
    raw = np.load(ds.clips[0].dir / "evframes_davis.npy")
    assert torch.equal(ds[0][0], torch.from_numpy(raw[:3].astype(np.float32)))
    centre = ClipDataset(ds_root, camera="davis", classes=["AU2"], max_len=3)
    s = (raw.shape[0] - 3) // 2
    assert torch.equal(centre[0][0], torch.from_numpy(raw[s : s + 3].astype(np.float32)))


def test_collate_pads_and_reports_lengths(ds_root) -> None:
    ds = ClipDataset(ds_root, camera="davis", classes=["AU2", "AU4"])
    items = [ds[i] for i in range(len(ds))]
    x, lengths, y = collate_clips(items)
    assert x.shape == (max(len(i[0]) for i in items), 4, 2, 64, 64)
    for n, (clip, label) in enumerate(items):
        assert lengths[n] == len(clip) and y[n] == label
        assert torch.equal(x[: len(clip), n], clip) and not x[len(clip) :, n].any()


def test_grey_and_rgb_modalities(ds_root) -> None:
    grey = ClipDataset(ds_root, camera="davis", modality="grey", classes=["AU2", "AU4"])
    x, _ = grey[0]
    assert x.shape[1:] == (1, 64, 64) and x.min() >= 0 and x.max() <= 1
    rgb = ClipDataset(ds_root, camera="webcam", modality="rgb", classes=["AU2", "AU4"])
    xr, _ = rgb[0]
    assert xr.shape == (x.shape[0], 3, 64, 64)
    # the synthetic webcam frame is the grey crop, resized into a centred square: crops agree
    assert torch.allclose(xr[:, 0], x[:, 0], atol=0.02)


def test_missing_camera_files_are_skipped_and_unknown_ids_rejected(ds_root) -> None:
    assert len(ClipDataset(ds_root, camera="evk4", classes=["AU2", "AU4"])) == 0
    with pytest.raises(ConfigError, match=r"not in manifest\.csv"):
        ClipDataset(ds_root, camera="davis", classes=["AU2"], clip_ids=["nope"])
    with pytest.raises(ConfigError, match=r"manifest\.csv: dataset manifest not found"):
        read_clips(ds_root / "clips")


def test_reconstruction_pairs_align_frames_and_slices(ds_root) -> None:
    pairs = ReconstructionPairs(
        ds_root, event_camera="davis", target_camera="davis", window_slices=2, cap=4.0
    )
    clips = {c.clip_id: c for c in read_clips(ds_root)}
    assert len(pairs) == sum(len(np.load(c.dir / "crops_davis.npy")) for c in clips.values())
    cid, j = pairs.sources[5]
    ev = np.load(clips[cid].dir / "evframes_davis.npy").astype(np.float32)
    expected = np.minimum(ev[max(0, j - 1) : j + 1].sum(0), 4.0) / 4.0  # frame j sits in slice j
    cond, target = pairs[5]
    assert torch.allclose(cond, torch.from_numpy(expected))
    assert torch.allclose(
        target[0], torch.from_numpy(np.load(clips[cid].dir / "crops_davis.npy")[j] / 255.0).float()
    )
    assert pairs.subjects[5] == clips[cid].subject
