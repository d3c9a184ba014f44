"""Export of a bag written by the simulator (``microexp sim``): the real integration path."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from microexp.bagio.event_topics import EventTopicDecoder
from microexp.bagio.reader import open_bag
from microexp.cli.main import main
from microexp.dataset.manifest import read_manifest, read_rejects

START_NS = 1_767_225_600_000_000_000  # the simulator's default session start
EVK4_EXTRA_US, DAVIS_EXTRA_US = 2_500_000, -700_000


@pytest.mark.slow
def test_export_simulated_session(
    tiny_plan_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("dlib", reason="dlib-bin is not installed")
    bag, out = tmp_path / "bag", tmp_path / "ds"
    assert (
        main(
            [
                "sim",
                "-o",
                str(bag),
                "--plan",
                str(tiny_plan_path),
                "--subject",
                "S3",
                "--seed",
                "4",
                "--cameras",
                "davis,evk4,webcam",
                "--webcam-size",
                "320x240",
                "--clock-offset",
                f"evk4={EVK4_EXTRA_US}",
                "--clock-offset",
                f"davis={DAVIS_EXTRA_US}",
                "--no-progress",
            ]
        )
        == 0
    )
    assert main(["export", str(bag), "-o", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "clips written: 2" in text
    assert "no face found" not in text  # 320x240: dlib finds the simulated face in every clip
    recs = read_manifest(out / "manifest.csv")
    assert [r.label for r in recs] == ["AU12", "AU4"]
    assert [r.reason for r in read_rejects(out / "rejects.csv")] == ["demo run (not exported)"]
    # sensor -> ROS offsets: true offset plus the simulated host latency
    true = {"evk4": START_NS - (3_000_000 + EVK4_EXTRA_US) * 1000, "davis": -DAVIS_EXTRA_US * 1000}
    latency_us = {"evk4": (100, 400), "davis": (200, 1500 + 1000)}  # davis: + packet length
    # independent count: decode the bag with bagio's decoders, map with the true clock offsets
    events: dict[str, list[np.ndarray]] = {"davis": [], "evk4": []}
    with open_bag(bag) as reader:
        decoders = {c: EventTopicDecoder(f"/{c}/events") for c in events}
        for raw in reader.messages(topics=["/davis/events", "/evk4/events"]):
            cam = raw.topic.split("/")[1]
            events[cam].append(decoders[cam].decode(raw).events["t"] * 1000 + true[cam])
    ros = {c: np.concatenate(v) for c, v in events.items()}
    for rec in recs:
        lab = json.loads((out / rec.dir / "label.json").read_text())
        for cam in ("davis", "evk4"):
            bias_us = (lab["time_offset_ns"][cam] - true[cam]) / 1000
            assert latency_us[cam][0] - 50 <= bias_us <= latency_us[cam][1], (cam, bias_us)
            expected = int(((ros[cam] >= rec.start_ns) & (ros[cam] < rec.end_ns)).sum())
            with h5py.File(out / rec.dir / f"events_{cam}.h5") as f:
                got = f["events"].shape[0]
            assert abs(got - expected) <= 0.005 * expected, (cam, got, expected)
        # dlib HOG finds the simulated face on the DAVIS frames; evk4 boxes mapped from them
        boxes = np.load(out / rec.dir / "faces_davis.npy")
        assert (boxes[:, 2] > 0).mean() > 0.9
        assert lab["event_face_box"]["evk4"]["source"].startswith("mapped:davis centered")
        # the mapped box holds the moving face: EVK4 event density inside well above outside
        bx, by, bw, bh = lab["event_face_box"]["evk4"]["box"]
        with h5py.File(out / rec.dir / "events_evk4.h5") as f:
            e = f["events"][:]
        inside = (e["x"] >= bx) & (e["x"] < bx + bw) & (e["y"] >= by) & (e["y"] < by + bh)
        density_ratio = (inside.sum() / (bw * bh)) / ((~inside).sum() / (1280 * 720 - bw * bh))
        assert density_ratio > 1.2
        ev = np.load(out / rec.dir / "evframes_davis.npy")
        assert ev.shape[1:] == (2, 64, 64) and ev.sum() > 0


def test_blank_crops_are_reported(
    tiny_plan_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A webcam too small for the detector: every clip is exported, and each says its crops are blank."""
    pytest.importorskip("dlib", reason="dlib-bin is not installed")
    bag, out = tmp_path / "bag", tmp_path / "ds"
    sim = ["sim", "-o", str(bag), "--plan", str(tiny_plan_path), "--subject", "S3", "--seed", "4",
           "--cameras", "davis,webcam", "--webcam-size", "96x72", "--no-progress"]  # fmt: skip
    assert main(sim) == 0
    capsys.readouterr()
    assert main(["export", str(bag), "-o", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "clips written: 2" in text
    assert text.count("camera webcam: no face found in any frame") == 2
    assert "camera davis: no face found" not in text
    crops = [np.load(p) for p in sorted(out.glob("clips/*/crops_webcam.npy"))]
    assert len(crops) == 2 and all(int(c.max()) == 0 for c in crops)
