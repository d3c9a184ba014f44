"""Prophesee .raw files: header parsing, streaming decode, errors naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from event_strategies import sorted_events, triggers_within
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microexp.errors import DecodeError, OutputExistsError
from microexp.events.raw_file import iter_raw, read_raw, read_raw_header, write_raw
from microexp.events.types import DecodedEvents, SensorSize

SIZE = SensorSize(width=1280, height=720)


@pytest.mark.parametrize("encoding", ["evt3", "evt2"])
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_write_then_stream_back(tmp_path: Path, encoding: str, data: st.DataObject) -> None:
    events = data.draw(sorted_events(width=1280, height=720))
    triggers = data.draw(triggers_within(events))
    chunk = data.draw(st.integers(1, 5000))
    path = tmp_path / f"rec_{encoding}.raw"
    write_raw(path, events, size=SIZE, triggers=triggers, encoding=encoding, overwrite=True)
    header = read_raw_header(path)
    assert header.encoding == encoding and header.size == SIZE
    out = DecodedEvents.concatenate(list(iter_raw(path, chunk_bytes=chunk)))
    assert np.array_equal(out.events, events)
    assert np.array_equal(out.triggers, triggers)


def test_header_without_end_line_and_old_keys(tmp_path: Path) -> None:
    path = tmp_path / "old.raw"
    body = (
        b"% evt 3.0\n% Width 640\n% Height 480\n"
        + np.array([0x8001, 0x6002, 0x0003, 0x2004], dtype="<u2").tobytes()
    )
    path.write_bytes(body)
    header = read_raw_header(path)
    assert header.encoding == "evt3"
    assert header.size == SensorSize(width=640, height=480)
    assert header.data_offset == len(b"% evt 3.0\n% Width 640\n% Height 480\n")
    assert read_raw(path).events.tolist() == [(4, 3, 1 << 12 | 2, 0)]


def test_not_a_raw_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.raw"
    path.write_bytes(b"\x00\x80\x00\x60")
    with pytest.raises(DecodeError, match=r"plain\.raw: no '%' header lines"):
        read_raw_header(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match=r"absent\.raw: cannot read RAW file"):
        read_raw_header(tmp_path / "absent.raw")


def test_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "evt21.raw"
    path.write_bytes(b"% format EVT21;height=720;width=1280\n% end\n")
    with pytest.raises(DecodeError, match=r"evt21\.raw: unsupported or missing RAW event format"):
        read_raw_header(path)


def test_truncated_stream_names_file_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "cut.raw"
    path.write_bytes(b"% evt 3.0\n% end\n" + b"\x01\x80\x02\x60\x03")
    with pytest.raises(DecodeError, match=r"cut\.raw: truncated evt3 stream: 5 bytes at offset 16"):
        list(iter_raw(path))


def test_bad_word_names_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.raw"
    path.write_bytes(b"% evt 3.0\n% end\n" + np.array([0x8001, 0x6001, 0xC000], "<u2").tobytes())
    with pytest.raises(DecodeError, match=r"bad\.raw: at byte 16: EVT 3.0: unknown event type 0xc"):
        read_raw(path)


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "exists.raw"
    path.write_bytes(b"")
    empty = np.zeros(0, dtype=[("x", "<u2"), ("y", "<u2"), ("t", "<i8"), ("p", "u1")])
    with pytest.raises(OutputExistsError, match=r"exists\.raw: exists"):
        write_raw(path, empty, size=SIZE)
