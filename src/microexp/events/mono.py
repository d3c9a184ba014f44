"""The ``mono`` EventPacket encoding of ros-event-camera (64 bits per CD event).

Layout, from ros-event-camera/event_camera_codecs ``include/event_camera_codecs/mono_decoder.h``
and ``mono_encoder.h``: one little-endian uint64 per event, bits 0-31 the time offset in ns
(unsigned; added to ``EventPacket.time_base``, itself ns), bits 32-47 x, bits 48-62 y,
bit 63 polarity. The encoding carries no trigger flag (the upstream encoder packs triggers
like CD events), so this codec handles CD events only. Decoded ``t`` is
``(time_base + offset_ns) // 1000`` µs.
"""

from __future__ import annotations

import numpy as np

from microexp.errors import DecodeError
from microexp.events._words import as_bytes_array
from microexp.events.types import EVENT_DTYPE, DecodedEvents, EventArray, empty_triggers

__all__ = ["MonoDecoder", "MonoEncoder"]


class MonoDecoder:
    """Decoder of ``mono`` packets (stateless; ``reset`` exists for the common protocol)."""

    def reset(self) -> None:
        """Nothing to forget: every mono packet is self-contained."""

    def decode(self, data: bytes | memoryview | np.ndarray, *, time_base: int = 0) -> DecodedEvents:
        """Decode one packet; ``time_base`` is ``EventPacket.time_base`` (ns)."""
        raw = as_bytes_array(data)
        if raw.size % 8:
            raise DecodeError(f"mono: {raw.size} bytes is not a multiple of 8 (one event = 8)")
        packed = raw.view("<u8")
        events = np.empty(packed.size, dtype=EVENT_DTYPE)
        t_ns = (packed & 0xFFFFFFFF).astype(np.int64) + int(time_base)
        events["t"] = t_ns // 1000
        events["x"] = (packed >> 32) & 0xFFFF
        events["y"] = (packed >> 48) & 0x7FFF
        events["p"] = packed >> 63
        return DecodedEvents(events=events, triggers=empty_triggers(0))


class MonoEncoder:
    """Encoder of ``mono`` packets: the inverse of :class:`MonoDecoder` for CD events."""

    def encode(self, events: EventArray, *, time_base: int = 0) -> bytes:
        """Pack events whose ``t * 1000 - time_base`` fits in [0, 2^31) ns."""
        dt = events["t"].astype(np.int64) * 1000 - int(time_base)
        if dt.size and (dt.min() < 0 or dt.max() >= 1 << 31):
            raise ValueError("mono encoder: event time minus time_base must be in [0, 2^31) ns")
        if np.any(events["y"] > 0x7FFF):
            raise ValueError("mono encoder: y must be < 32768")
        packed = (
            (events["p"].astype(np.uint64) << np.uint64(63))
            | (events["y"].astype(np.uint64) << np.uint64(48))
            | (events["x"].astype(np.uint64) << np.uint64(32))
            | dt.astype(np.uint64)
        )
        return packed.astype("<u8").tobytes()
