from __future__ import annotations

import math

import numpy as np
import pytest

from microexp.bagio import messages as M
from microexp.bagio.typestore import build_typestore
from microexp.errors import ConfigError

TS = build_typestore()
OURS = ["ProtocolEvent", "SessionInfo", "AuPrediction", "CameraSync", "SyncSummary",
        "AuGroundTruth", "Consent"]  # fmt: skip


@pytest.mark.parametrize("name", OURS)
def test_our_messages_round_trip(name: str) -> None:
    msgtype = f"microexp_msgs/msg/{name}"
    msg = M.build_message(TS, msgtype, header=M.header(TS, stamp_ns=3_000_000_007, frame_id="p"))
    back = M.deserialize(TS, M.serialize(TS, msg), msgtype)
    assert (back.header.stamp.sec, back.header.stamp.nanosec) == (3, 7)
    assert back.header.frame_id == "p"


def test_fields_are_set_and_arrays_keep_their_dtype() -> None:
    msg = M.build_message(
        TS, "microexp_msgs/msg/ProtocolEvent", kind=3, label="AU12",
        au_numbers=np.array([6, 12], dtype=np.uint16), valid=True, attempt=2,
    )  # fmt: skip
    back = M.deserialize(TS, M.serialize(TS, msg), msg.__msgtype__)
    assert (back.kind, back.label, back.attempt, back.valid) == (3, "AU12", 2, True)
    assert back.au_numbers.tolist() == [6, 12]
    info = M.build_message(TS, "microexp_msgs/msg/SessionInfo", lux=float("nan"))
    assert math.isnan(M.deserialize(TS, M.serialize(TS, info), info.__msgtype__).lux)
    summary = M.build_message(
        TS,
        "microexp_msgs/msg/SyncSummary",
        offsets=[M.build_message(TS, "microexp_msgs/msg/CameraSync", camera="davis", offset_ns=-5)],
    )
    back = M.deserialize(TS, M.serialize(TS, summary), summary.__msgtype__)
    assert back.offsets[0].camera == "davis" and back.offsets[0].offset_ns == -5
    assert back.messages.dtype == np.uint64


def test_unknown_field_and_type() -> None:
    with pytest.raises(ConfigError, match=r"ProtocolEvent has no field .*'colour'"):
        M.build_message(TS, "microexp_msgs/msg/ProtocolEvent", colour=1)
    with pytest.raises(ConfigError, match="unknown message type foo/msg/Bar"):
        M.build_message(TS, "foo/msg/Bar")


def test_event_packet_carries_the_payload() -> None:
    msg = M.event_packet(TS, events=b"\x01\x02\x03", stamp_ns=1_500_000_000, frame_id="evk4",
                         width=1280, height=720, seq=42, time_base=7)  # fmt: skip
    back = M.deserialize(TS, M.serialize(TS, msg), M.EVENT_PACKET)
    assert back.events.tobytes() == b"\x01\x02\x03"
    assert (back.width, back.height, back.seq, back.time_base, back.encoding) == (
        1280,
        720,
        42,
        7,
        "evt3",
    )
    assert back.is_bigendian is False


@pytest.mark.parametrize("encoding,shape", [("mono8", (4, 6)), ("rgb8", (4, 6, 3))])
def test_images(encoding: str, shape: tuple[int, ...]) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    msg = M.image(TS, pixels=pixels, stamp_ns=1, frame_id="cam", encoding=encoding)  # type: ignore[arg-type]
    back = M.deserialize(TS, M.serialize(TS, msg), "sensor_msgs/msg/Image")
    assert (back.height, back.width, back.encoding) == (4, 6, encoding)
    assert back.step == 6 * (3 if encoding == "rgb8" else 1)
    assert np.array_equal(back.data.reshape(shape), pixels)


def test_image_shape_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"rgb8 image needs uint8 pixels.*\(4, 6\)"):
        M.image(TS, pixels=np.zeros((4, 6), np.uint8), stamp_ns=0, frame_id="", encoding="rgb8")


def test_compressed_image() -> None:
    msg = M.compressed_image(TS, data=b"\xff\xd8jpeg", stamp_ns=2, frame_id="webcam")
    back = M.deserialize(TS, M.serialize(TS, msg), "sensor_msgs/msg/CompressedImage")
    assert back.format == "jpeg" and back.data.tobytes() == b"\xff\xd8jpeg"
