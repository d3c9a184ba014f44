"""Prophesee EVT 2.0: a stateful vectorised decoder and a matching encoder.

Format (Prophesee "EVT 2.0 Format" documentation): 32-bit little-endian words, the top 4
bits give the type. CD_OFF (0x0) / CD_ON (0x1): bits 22-27 the 6 low bits of the µs
timestamp, bits 11-21 x, bits 0-10 y. EVT_TIME_HIGH (0x8): bits 0-27 the 28 high bits of the
timestamp. EXT_TRIGGER (0xA): bits 22-27 timestamp low bits, bits 8-12 channel, bit 0 value.
OTHERS (0xE) and CONTINUED (0xF) are skipped; other types raise DecodeError. The 34-bit time
wraps after 2^34 µs (4.77 h); a TIME_HIGH smaller than the previous one counts as a wrap.
"""

from __future__ import annotations

import numpy as np

from microexp.errors import DecodeError
from microexp.events._words import as_bytes_array
from microexp.events.types import (
    EVENT_DTYPE,
    TRIGGER_DTYPE,
    DecodedEvents,
    EventArray,
    TriggerArray,
    empty_triggers,
)

__all__ = ["Evt2Decoder", "Evt2Encoder"]

CD_OFF, CD_ON, TIME_HIGH, EXT_TRIGGER, OTHERS, CONTINUED = 0x0, 0x1, 0x8, 0xA, 0xE, 0xF
_HIGH_BITS = 28
_HIGH_WRAP = 1 << _HIGH_BITS


class Evt2Decoder:
    """Long-lived EVT 2.0 decoder; time high and its wrap count carry across packets.

    Words before the first TIME_HIGH are decoded with time high 0.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the time high and wrap count."""
        self._high = 0  # unrolled, units of 64 µs

    def decode(self, data: bytes | memoryview | np.ndarray, *, time_base: int = 0) -> DecodedEvents:
        """Decode one packet (``time_base`` is ignored: EVT 2.0 carries absolute sensor time)."""
        del time_base
        raw = as_bytes_array(data)
        if raw.size % 4:
            raise DecodeError(f"EVT 2.0: {raw.size} bytes is not a multiple of the 4-byte word")
        words = raw.view("<u4")
        codes = words >> 28
        known = (codes <= CD_ON) | (codes == TIME_HIGH) | (codes == EXT_TRIGGER)
        known |= (codes == OTHERS) | (codes == CONTINUED)
        if not known.all():
            i = int(np.argmin(known))
            raise DecodeError(
                f"EVT 2.0: unknown event type 0x{int(codes[i]):x} in word {i} of a "
                f"{raw.size}-byte packet"
            )
        is_th = codes == TIME_HIGH
        th_vals = (words[is_th] & 0x0FFFFFFF).astype(np.int64)
        highs = np.empty(th_vals.size + 1, dtype=np.int64)
        highs[0] = self._high
        if th_vals.size:
            prev = np.empty_like(th_vals)
            prev[0] = self._high % _HIGH_WRAP
            prev[1:] = th_vals[:-1]
            rolls = np.cumsum(th_vals < prev) + self._high // _HIGH_WRAP
            highs[1:] = rolls * _HIGH_WRAP + th_vals
        high_at = highs[np.cumsum(is_th)]

        cd = np.flatnonzero(codes <= CD_ON)
        w = words[cd]
        events = np.empty(cd.size, dtype=EVENT_DTYPE)
        events["t"] = (high_at[cd] << 6) | ((w >> 22) & 0x3F)
        events["x"] = (w >> 11) & 0x7FF
        events["y"] = w & 0x7FF
        events["p"] = codes[cd]
        tr = np.flatnonzero(codes == EXT_TRIGGER)
        w = words[tr]
        triggers = np.empty(tr.size, dtype=TRIGGER_DTYPE)
        triggers["t"] = (high_at[tr] << 6) | ((w >> 22) & 0x3F)
        triggers["channel"] = (w >> 8) & 0x1F
        triggers["value"] = w & 1
        self._high = int(highs[-1])
        return DecodedEvents(events=events, triggers=triggers)


class Evt2Encoder:
    """Stateful EVT 2.0 encoder (TIME_HIGH on every change, then CD / trigger words).

    Events and triggers must be sorted by time (across calls too); consecutive items may not
    be 2^34 µs or more apart (a wrap must be visible to the decoder).
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self._high = -1

    def encode(self, events: EventArray, triggers: TriggerArray | None = None) -> bytes:
        """Encode events (and triggers) into EVT 2.0 bytes."""
        if triggers is None:
            triggers = empty_triggers(0)
        t = np.concatenate([events["t"], triggers["t"]]).astype(np.int64)
        is_tr = np.concatenate([np.zeros(events.size, bool), np.ones(triggers.size, bool)])
        ref = np.concatenate([np.arange(events.size), np.arange(triggers.size)])
        order = np.argsort(t, kind="stable")
        t, is_tr, ref = t[order], is_tr[order], ref[order]
        if t.size == 0:
            return b""
        if t[0] < 0 or np.any(np.diff(t) >= 1 << 34):
            raise ValueError("EVT 2.0 encoder: times must be >= 0 and gaps < 2^34 µs")
        high = t >> 6
        prev = np.concatenate([[self._high], high[:-1]])
        if self._high >= 0 and high[0] < self._high:
            raise ValueError("EVT 2.0 encoder: times must be non-decreasing across calls")
        th = high != prev
        n_words = th.astype(np.int64) + 1
        pos = np.cumsum(n_words) - n_words
        out = np.zeros(int(n_words.sum()), dtype=np.uint32)
        i = np.flatnonzero(th)
        out[pos[i]] = (np.uint32(TIME_HIGH) << np.uint32(28)) | (high[i] % _HIGH_WRAP).astype(
            np.uint32
        )
        pos = pos + th
        low = (t & 0x3F).astype(np.uint32) << np.uint32(22)
        e = np.flatnonzero(~is_tr)
        ev = events[ref[e]]
        out[pos[e]] = (
            (ev["p"].astype(np.uint32) << np.uint32(28))
            | low[e]
            | (ev["x"].astype(np.uint32) << np.uint32(11))
            | ev["y"].astype(np.uint32)
        )
        g = np.flatnonzero(is_tr)
        tr = triggers[ref[g]]
        out[pos[g]] = (
            (np.uint32(EXT_TRIGGER) << np.uint32(28))
            | low[g]
            | (tr["channel"].astype(np.uint32) << np.uint32(8))
            | tr["value"].astype(np.uint32)
        )
        self._high = int(high[-1])
        return out.astype("<u4").tobytes()
