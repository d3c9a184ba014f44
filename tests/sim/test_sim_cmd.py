from __future__ import annotations

from pathlib import Path

import pytest

from microexp.bagio.inspect import inspect_bag
from microexp.bagio.reader import open_bag
from microexp.cli.main import main


def test_sim_writes_a_bag_and_refuses_to_overwrite(
    tiny_plan_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bag"
    args = ["sim", "-o", str(out), "--plan", str(tiny_plan_path), "--subject", "s09",
            "--cameras", "davis,webcam", "--webcam-size", "80x60", "--webcam-compressed",
            "--seed", "2", "--no-progress", "--davis-fps", "10"]  # fmt: skip
    assert main(args) == 0
    assert "wrote" in capsys.readouterr().out
    with open_bag(out) as bag:
        topics = {n: t.msgtype for n, t in bag.topics.items()}
        jpeg = bag.deserialize(next(bag.messages(topics=["/webcam/image_raw/compressed"])))
    assert topics["/webcam/image_raw/compressed"] == "sensor_msgs/msg/CompressedImage"
    assert "/evk4/events" not in topics
    assert jpeg.format == "jpeg" and bytes(jpeg.data[:2]) == b"\xff\xd8"
    assert main(args) == 1
    assert "ERROR:" in capsys.readouterr().err


def test_sim_records_the_consent_file_given(
    tiny_plan_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consent = tmp_path / "s09.yaml"
    consent.write_text(
        "version: 1\nsubject_id: s09\nform: f v1\ngiven_on: 2026-01-01\n"
        "valid_until: 2027-01-01\non_expiry: delete\nstudy: [events, grey]\nsharing: []\n"
        "publication: []\n"
    )
    args = ["sim", "-o", str(tmp_path / "bag"), "--plan", str(tiny_plan_path), "--subject", "s09",
            "--cameras", "davis", "--no-progress", "--davis-fps", "5", "--consent", str(consent)]  # fmt: skip
    assert main(args) == 0
    scope = inspect_bag(tmp_path / "bag", decode_events=False).consent
    assert scope is not None and scope.study == {"events", "grey"} and scope.sharing == set()
    assert scope.session_id == "sim-s09-0" and scope.on_expiry.value == "delete"
    args[args.index("s09")] = "s10"
    args[args.index(str(tmp_path / "bag"))] = str(tmp_path / "other")
    assert main(args) == 1
    assert "consent of subject 's09' for simulated subject 's10'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--webcam-size", "80by60"], "--webcam-size"),
        (["--cameras", "davis,kinect"], "kinect"),
        (["--clock-offset", "evk4=5"], "evk4"),
        (["--preview", "x.png", "--preview-labels", "AU99"], "AU99"),
    ],
)
def test_sim_bad_arguments_name_the_value(
    tiny_plan_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    args = ["sim", "-o", str(tmp_path / "b"), "--plan", str(tiny_plan_path), "--no-progress",
            "--cameras", "davis", *extra]  # fmt: skip
    assert main(args) == 1
    assert message in capsys.readouterr().err


def test_sim_preview_writes_the_apex_grid(tmp_path: Path) -> None:
    png = tmp_path / "grid.png"
    args = ["sim", "--preview", str(png), "--subject", "s01", "--preview-labels", "AU12,smile"]
    assert main(args) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
