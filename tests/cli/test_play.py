"""``microexp play`` checks its inputs before ROS starts: ``ERROR: <where>: <problem>``, exit 1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from microexp.cli.main import main


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--topics", "/davis/events"], r"no topic \['/davis/events'\] to play"),
        (["--qos", "/event_camera/events=fast"], "QoS 'fast' is not one of"),
        (["--qos", "/davis/events=reliable"], "QoS override for topic"),
        (["--rate", "0"], "rate must be a positive number"),
        (["--remap", "/a:/b"], "--remap '/a:/b': expected /FROM:=/TO"),
    ],
)
def test_bad_requests_are_refused_before_anything_starts(
    real_bag: Path, capsys: pytest.CaptureFixture[str], extra: list[str], match: str
) -> None:
    assert main(["play", str(real_bag), *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: ")
    assert re.search(match, err), err


def test_a_missing_bag_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["play", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err == f"ERROR: {tmp_path / 'nope'}: bag does not exist\n"


def test_a_bag_topic_error_names_the_bag(
    real_bag: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["play", str(real_bag), "--topics", "/x"]) == 1
    assert str(real_bag.resolve()) in capsys.readouterr().err
