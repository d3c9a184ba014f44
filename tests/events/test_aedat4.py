"""AEDAT4 through dv-processing: the real DVXplorer sample, round trips, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microexp.errors import DecodeError, OutputExistsError
from microexp.events.aedat4 import read_aedat4, write_aedat4
from microexp.events.types import SensorSize, empty_triggers, make_events


def test_real_sample_exact(sample_aedat4: Path) -> None:
    rec = read_aedat4(sample_aedat4)
    ev = rec.events
    assert ev.size == 111_954
    assert int(np.count_nonzero(ev["p"] == 1)) == 55_023
    assert rec.size == SensorSize(width=320, height=240)
    assert int(ev["t"].min()) == 1_605_537_493_718_345
    assert int(ev["t"].max()) == 1_605_537_494_308_262
    assert int(ev["x"].max()) <= 319 and int(ev["y"].max()) <= 239
    assert np.all(np.diff(ev["t"]) >= 0)


def test_write_read_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 3000
    events = make_events(
        x=rng.integers(0, 346, n),
        y=rng.integers(0, 260, n),
        t=np.sort(rng.integers(10**15, 10**15 + 10**6, n)),
        p=rng.integers(0, 2, n),
    )
    triggers = empty_triggers(3)
    triggers["t"] = [10**15 + 1, 10**15 + 2, 10**15 + 3]
    triggers["channel"] = [1, 2, 5]
    triggers["value"] = [1, 0, 0]
    path = tmp_path / "rt.aedat4"
    write_aedat4(path, events, size=SensorSize(width=346, height=260), triggers=triggers)
    rec = read_aedat4(path)
    assert rec.size == SensorSize(width=346, height=260)
    assert np.array_equal(rec.events, events)
    assert np.array_equal(rec.triggers, triggers)
    with pytest.raises(OutputExistsError, match=r"rt\.aedat4: exists"):
        write_aedat4(path, events, size=SensorSize(width=346, height=260))


def test_missing_file_named(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match=r"nothing\.aedat4: AEDAT4 file not found"):
        read_aedat4(tmp_path / "nothing.aedat4")


def test_corrupt_file_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.aedat4"
    path.write_bytes(b"#!AER-DAT4.0\r\n" + b"\x07" * 200)
    with pytest.raises(DecodeError, match=r"broken\.aedat4: not a readable AEDAT4 file"):
        read_aedat4(path)


def test_truncated_real_file_named(sample_aedat4: Path, tmp_path: Path) -> None:
    path = tmp_path / "half.aedat4"
    path.write_bytes(sample_aedat4.read_bytes()[:5000])
    with pytest.raises(DecodeError, match=r"half\.aedat4"):
        read_aedat4(path)
