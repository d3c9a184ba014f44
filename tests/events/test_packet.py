"""make_packet_decoder: every encoding, geometry checks, unknown encodings."""

from __future__ import annotations

import numpy as np
import pytest

from microexp.errors import DecodeError
from microexp.events.evt2 import Evt2Encoder
from microexp.events.evt3 import Evt3Encoder
from microexp.events.libcaer import LibcaerCmpEncoder, LibcaerEncoder
from microexp.events.mono import MonoEncoder
from microexp.events.packet import ENCODINGS, PacketDecoder, make_packet_decoder
from microexp.events.types import make_events

EVENTS = make_events(x=[0, 5, 345], y=[0, 259, 7], t=[1_000, 1_000, 1_250], p=[1, 0, 1])


def encode(encoding: str, events: np.ndarray) -> bytes:
    if encoding == "evt3":
        return Evt3Encoder().encode(events)
    if encoding == "evt2":
        return Evt2Encoder().encode(events)
    if encoding == "libcaer_cmp":
        return LibcaerCmpEncoder().encode(events)
    if encoding == "libcaer":
        return LibcaerEncoder().encode(events)
    return MonoEncoder().encode(events)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoding_decodes_through_the_factory(encoding: str) -> None:
    decoder = make_packet_decoder(encoding, width=346, height=260)
    assert isinstance(decoder, PacketDecoder)
    out = decoder.decode(encode(encoding, EVENTS), time_base=0)
    assert np.array_equal(out.events, EVENTS)
    decoder.reset()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_x_outside_geometry_is_named(encoding: str) -> None:
    decoder = make_packet_decoder(encoding, width=300, height=260)
    with pytest.raises(DecodeError, match=rf"{encoding}: event x=345 outside the 300x260"):
        decoder.decode(encode(encoding, EVENTS))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_y_outside_geometry_is_named(encoding: str) -> None:
    decoder = make_packet_decoder(encoding, width=346, height=200)
    with pytest.raises(DecodeError, match=rf"{encoding}: event y=259 outside the 346x200"):
        decoder.decode(encode(encoding, EVENTS))


def test_unknown_encoding_is_named() -> None:
    with pytest.raises(DecodeError, match="unknown event encoding 'evt4'"):
        make_packet_decoder("evt4", width=640, height=480)


def test_bad_geometry_rejected() -> None:
    with pytest.raises(DecodeError, match="invalid sensor geometry 0x480"):
        make_packet_decoder("evt3", width=0, height=480)


def test_real_packets_fit_their_geometry(evt3_packets) -> None:
    first = evt3_packets[0]
    decoder = make_packet_decoder(first.encoding, width=first.width, height=first.height)
    total = sum(decoder.decode(p.events, time_base=p.time_base).events.size for p in evt3_packets)
    assert total == 125_183 + 218_291
