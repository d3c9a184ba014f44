"""The ``libcaer`` and ``libcaer_cmp`` EventPacket encodings of ros-event-camera/libcaer_driver.

Layouts from ros-event-camera/event_camera_codecs (``libcaer_decoder.h``,
``libcaer_cmp_decoder.h``, ``libcaer_cmp_types.h``); times there are ns and
``EventPacket.time_base`` (ns) is added. Decoded ``t`` here is that time in µs (floor).

``libcaer``: 8 bytes per event, libcaer's polarity event: uint32 ``data`` (bit 0 valid mark,
bit 1 polarity, bits 2-16 y, bits 17-31 x) and int32 ``timestamp`` (µs). Time in ns is
``time_base + ts * 1000``, plus ``2^31 * 1000`` each time ``ts`` drops inside the packet.

``libcaer_cmp``: 16-bit words, code in the top 4 bits: TIME_HIGH (0) and TIME_LOW (1) give
the high/low 12 bits of a µs offset that restarts at 0 in every packet; ADDR_X (2) sets x;
ADDR_Y (3) emits one event at (x, y) with polarity bit 11; VECT_BASE_Y (4) sets base y and
polarity; VECT_8 (5) emits events at base y + set bits of an 8-bit mask, then base y += 8.
Time in ns is ``time_base + ((high << 12) | low) * 1000``. x, base y and polarity carry over
to the next packet (the upstream decoder keeps them); time does not. VECT_12 (6) is declared
upstream but not decoded there; it and codes above 6 raise DecodeError here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from microexp.errors import DecodeError
from microexp.events._words import as_bytes_array, as_words
from microexp.events.types import (
    EVENT_DTYPE,
    DecodedEvents,
    EventArray,
    empty_events,
    empty_triggers,
)

__all__ = ["LibcaerCmpDecoder", "LibcaerCmpEncoder", "LibcaerDecoder", "LibcaerEncoder"]

_TS_WRAP = 1 << 31
_TIME_HIGH, _TIME_LOW, _ADDR_X, _ADDR_Y, _VECT_BASE_Y, _VECT_8 = range(6)


class LibcaerDecoder:
    """Decoder of ``libcaer`` packets (no state crosses packets, as upstream)."""

    def reset(self) -> None:
        """Nothing to forget."""

    def decode(self, data: bytes | memoryview | np.ndarray, *, time_base: int = 0) -> DecodedEvents:
        """Decode one packet; ``time_base`` is ``EventPacket.time_base`` (ns)."""
        raw = as_bytes_array(data)
        if raw.size % 8:
            raise DecodeError(f"libcaer: {raw.size} bytes is not a multiple of 8 (one event = 8)")
        pairs = raw.view("<u4").reshape(-1, 2)
        d = pairs[:, 0]
        ts = pairs[:, 1].view("<i4").astype(np.int64)
        if ts.size and ts.min() < 0:
            i = int(np.argmin(ts))
            raise DecodeError(f"libcaer: negative timestamp {int(ts[i])} in event {i}")
        rolls = np.zeros(ts.size, dtype=np.int64)
        if ts.size > 1:
            rolls[1:] = np.cumsum(ts[1:] < ts[:-1])
        t_ns = int(time_base) + (ts + rolls * _TS_WRAP) * 1000
        events = np.empty(d.size, dtype=EVENT_DTYPE)
        events["t"] = t_ns // 1000
        events["x"] = (d >> 17) & 0x7FFF
        events["y"] = (d >> 2) & 0x7FFF
        events["p"] = (d >> 1) & 1
        return DecodedEvents(events=events, triggers=empty_triggers(0))


class LibcaerEncoder:
    """Encoder of ``libcaer`` packets (valid bit set), inverse of :class:`LibcaerDecoder`."""

    def encode(self, events: EventArray, *, time_base: int = 0) -> bytes:
        """Pack time-sorted events; times are µs offsets from ``time_base // 1000``."""
        ts = events["t"].astype(np.int64) - int(time_base) // 1000
        if ts.size and (ts.min() < 0 or np.any(np.diff(ts) < 0) or np.any(np.diff(ts) >= _TS_WRAP)):
            raise ValueError("libcaer encoder: times must be sorted, >= time_base, gaps < 2^31 µs")
        d = (
            (events["x"].astype(np.uint32) << np.uint32(17))
            | (events["y"].astype(np.uint32) << np.uint32(2))
            | (events["p"].astype(np.uint32) << np.uint32(1))
            | np.uint32(1)
        )
        out = np.empty((ts.size, 2), dtype="<u4")
        out[:, 0] = d
        out[:, 1] = (ts % _TS_WRAP).astype(np.uint32)
        return out.tobytes()


def _last_value(
    mask: npt.NDArray[np.bool_], values: npt.NDArray[np.int64], initial: int
) -> npt.NDArray[np.int64]:
    """At every position, ``values`` at the last position where ``mask`` held (else initial)."""
    table = np.empty(int(np.count_nonzero(mask)) + 1, dtype=np.int64)
    table[0] = initial
    table[1:] = values[mask]
    return table[np.cumsum(mask)]


class LibcaerCmpDecoder:
    """Stateful decoder of ``libcaer_cmp`` packets (x, base y and polarity carry over)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget x, base y and polarity."""
        self._x = 0
        self._base_y = 0
        self._polarity = 0

    def decode(self, data: bytes | memoryview | np.ndarray, *, time_base: int = 0) -> DecodedEvents:
        """Decode one packet; ``time_base`` is ``EventPacket.time_base`` (ns)."""
        words = as_words(data, what="libcaer_cmp packet").astype(np.int64)
        if words.size == 0:
            return DecodedEvents.empty()
        codes = words >> 12
        bad = codes > _VECT_8
        if bad.any():
            i = int(np.argmax(bad))
            raise DecodeError(
                f"libcaer_cmp: unsupported code {int(codes[i])} in word {i} of a "
                f"{2 * words.size}-byte packet"
            )
        pay = words & 0xFFF
        high = _last_value(codes == _TIME_HIGH, pay, 0)
        low = _last_value(codes == _TIME_LOW, pay, 0)
        t_us = (int(time_base) + ((high << 12) | low) * 1000) // 1000
        x = _last_value(codes == _ADDR_X, pay & 0x7FF, self._x)

        is_base = codes == _VECT_BASE_Y
        is_v8 = codes == _VECT_8
        adv = np.where(is_v8, 8, 0)
        adv_before = np.cumsum(adv) - adv
        base0 = _last_value(is_base, pay & 0x7FF, self._base_y)
        adv0 = _last_value(is_base, adv_before, 0)
        base_y = base0 + adv_before - adv0
        pol = _last_value(is_base, pay >> 11, self._polarity)

        is_y = codes == _ADDR_Y
        masks = np.where(is_v8, pay & 0xFF, 0)
        counts = np.where(is_y, 1, _POP8[masks])
        ev_words = np.flatnonzero(counts)
        counts = counts[ev_words]
        total = int(counts.sum())
        events = empty_events(total)
        if total:
            starts = np.cumsum(counts) - counts
            rank = np.arange(total) - np.repeat(starts, counts)
            w_rep = np.repeat(ev_words, counts)
            single = is_y[w_rep]
            bit = _BIT8[masks[w_rep], np.minimum(rank, 7)]
            events["x"] = x[w_rep]
            events["y"] = np.where(single, pay[w_rep] & 0x7FF, base_y[w_rep] + bit)
            events["p"] = np.where(single, pay[w_rep] >> 11, pol[w_rep])
            events["t"] = t_us[w_rep]
        self._x = int(x[-1])
        self._base_y = int(base_y[-1] + adv[-1])
        self._polarity = int(pol[-1])
        return DecodedEvents(events=events, triggers=empty_triggers(0))


_POP8 = np.array([bin(v).count("1") for v in range(256)], dtype=np.int64)
_BIT8 = np.zeros((256, 8), dtype=np.int64)
for _m in range(256):
    _bits = [b for b in range(8) if _m >> b & 1]
    _BIT8[_m, : len(_bits)] = _bits


class LibcaerCmpEncoder:
    """Stateful encoder of ``libcaer_cmp`` packets, the inverse of :class:`LibcaerCmpDecoder`.

    Each packet's times are µs offsets from ``time_base // 1000`` and must fit in 24 bits.
    Runs of events with the same time, x and polarity and increasing y inside one 8-row block
    become VECT_BASE_Y + VECT_8; other events become ADDR_Y.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start a new stream (the decoder must be reset too)."""
        self._x = -1

    def encode(self, events: EventArray, *, time_base: int = 0) -> bytes:
        """Encode one packet of time-sorted events."""
        n = int(events.shape[0])
        if n == 0:
            return b""
        off = events["t"].astype(np.int64) - int(time_base) // 1000
        if off.min() < 0 or off.max() >= 1 << 24 or np.any(np.diff(off) < 0):
            raise ValueError(
                "libcaer_cmp encoder: times must be sorted and within 2^24 µs of time_base"
            )
        if np.any(events["x"] > 0x7FF) or np.any(events["y"] > 0x7FF):
            raise ValueError("libcaer_cmp encoder: x and y must be < 2048")
        x = events["x"].astype(np.int64)
        y = events["y"].astype(np.int64)
        p = events["p"].astype(np.int64)
        new_run = np.ones(n, dtype=bool)
        new_run[1:] = (
            (off[1:] != off[:-1])
            | (x[1:] != x[:-1])
            | (p[1:] != p[:-1])
            | (y[1:] // 8 != y[:-1] // 8)
            | (y[1:] <= y[:-1])
        )
        rs = np.flatnonzero(new_run)
        run_len = np.diff(np.append(rs, n))
        run_id = np.cumsum(new_run) - 1
        masks = np.zeros(rs.size, dtype=np.int64)
        np.add.at(masks, run_id, 1 << (y % 8))
        r_off, r_x, r_p, r_y = off[rs], x[rs], p[rs], y[rs]
        high, low = r_off >> 12, r_off & 0xFFF
        first = np.zeros(rs.size, dtype=bool)
        first[0] = True
        th = first | np.concatenate([[False], high[1:] != high[:-1]])
        th &= ~(first & (high == 0))  # time restarts at 0 in every packet
        tl = first | th | np.concatenate([[False], low[1:] != low[:-1]])
        tl &= ~(first & (low == 0) & ~th)
        prev_x = np.concatenate([[self._x], r_x[:-1]])
        xc = r_x != prev_x
        vec = run_len > 1
        n_words = th.astype(np.int64) + tl + xc + 1 + vec
        pos = np.cumsum(n_words) - n_words
        out = np.zeros(int(n_words.sum()), dtype=np.uint16)
        i = np.flatnonzero(th)
        out[pos[i]] = (_TIME_HIGH << 12) | high[i]
        pos = pos + th
        i = np.flatnonzero(tl)
        out[pos[i]] = (_TIME_LOW << 12) | low[i]
        pos = pos + tl
        i = np.flatnonzero(xc)
        out[pos[i]] = (_ADDR_X << 12) | r_x[i]
        pos = pos + xc
        i = np.flatnonzero(~vec)
        out[pos[i]] = (_ADDR_Y << 12) | (r_p[i] << 11) | r_y[i]
        i = np.flatnonzero(vec)
        out[pos[i]] = (_VECT_BASE_Y << 12) | (r_p[i] << 11) | (r_y[i] // 8 * 8)
        out[pos[i] + 1] = (_VECT_8 << 12) | masks[i]
        self._x = int(r_x[-1])
        return out.astype("<u2").tobytes()
