"""Prophesee EVT 3.0: a stateful, vectorised decoder and a matching encoder.

Format (Prophesee "EVT 3.0 Format" documentation; field layout as in
ros-event-camera/event_camera_codecs ``include/event_camera_codecs/evt3_types.h``):
16-bit little-endian words, the top 4 bits give the type.

=====  ============  ==========================================================
code   name          payload (low 12 bits)
=====  ============  ==========================================================
0x0    ADDR_Y        y (bits 0-10), system type (bit 11)
0x2    ADDR_X        x (bits 0-10), polarity (bit 11): one CD event
0x3    VECT_BASE_X   base x (bits 0-10), polarity (bit 11)
0x4    VECT_12       12-bit mask: events at base x + set bits; base x += 12
0x5    VECT_8        8-bit mask: events at base x + set bits; base x += 8
0x6    TIME_LOW      low 12 bits of the 24-bit µs time
0x7    CONTINUED_4   auxiliary data (skipped)
0x8    TIME_HIGH     high 12 bits of the 24-bit µs time
0x9    (padding)     skipped (seen on Lucid cameras, per event_camera_codecs)
0xA    EXT_TRIGGER   edge value (bit 0), channel (bits 8-11)
0xE    OTHERS        auxiliary data (skipped)
0xF    CONTINUED_12  auxiliary data (skipped)
=====  ============  ==========================================================

The 24-bit time wraps every 2^24 µs (16.78 s). Like event_camera_codecs, a wrap is counted
when a TIME_HIGH value is smaller than the previous one by more than 10 (smaller steps back
are sensor jitter, not wraps), and nothing is decoded before the stream has shown a
TIME_HIGH followed by a TIME_LOW. Times are returned unrolled, as int64 µs since the
sensor's time origin.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import numpy as np
import numpy.typing as npt

from microexp.errors import DecodeError
from microexp.events._evt3_codes import (
    ADDR_X,
    ADDR_Y,
    EXT_TRIGGER,
    HIGH_JITTER,
    KNOWN_CODES,
    TIME_HIGH,
    TIME_LOW,
    VECT_8,
    VECT_12,
    VECT_BASE_X,
    WRAP_US,
)
from microexp.events._words import as_words
from microexp.events.types import (
    EVENT_DTYPE,
    TRIGGER_DTYPE,
    DecodedEvents,
    EventArray,
    empty_events,
)

__all__ = [
    "WRAP_US",
    "Evt3Backend",
    "Evt3Decoder",
    "Evt3Encoder",
    "event_time_to_ros_ns",
]


_NUMPY_CHUNK_WORDS = 1 << 16

Evt3Backend = Literal["auto", "numpy", "numba"]


def _load_numba_kernel() -> ModuleType | None:
    try:
        return importlib.import_module("microexp.events._evt3_numba")
    except ImportError:
        return None


def event_time_to_ros_ns(t_us: npt.ArrayLike, *, time_base: int = 0) -> npt.NDArray[np.int64]:
    """Sensor time of decoded EVT 3.0 events (µs) in the nanoseconds event_camera_codecs reports.

    The rule, read from ros-event-camera/event_camera_codecs
    (``include/event_camera_codecs/evt3_decoder.h``): the EVT 3.0 decoder's ``setTimeBase`` is a
    no-op and its event time is ``(time_high | time_low) * 1000`` ns with the wrap unrolled, i.e.
    ``EventPacket.time_base`` is *not* added for ``evt3`` (metavision_driver writes 0 there; the
    libcaer and mono codecs, by contrast, do add it — see :mod:`microexp.events.libcaer`). The
    result is therefore sensor time, not ROS time: map it to ROS time with a per-stream offset
    (header stamp minus sensor time), as the exporter does. ``time_base`` is accepted for
    symmetry with the other encodings and ignored.
    """
    del time_base  # ignored for evt3 by design, see the docstring
    return np.asarray(t_us, dtype=np.int64) * 1000


def _popcount_table(bits: int) -> npt.NDArray[np.uint8]:
    values = np.arange(1 << bits, dtype=np.uint32)
    counts = np.zeros(values.shape, dtype=np.uint8)
    for b in range(bits):
        counts += ((values >> b) & 1).astype(np.uint8)
    return counts


def _bit_position_table() -> npt.NDArray[np.uint8]:
    """``table[mask, k]`` = position of the k-th set bit of a 12-bit mask."""
    table = np.zeros((4096, 12), dtype=np.uint8)
    for mask in range(4096):
        positions = [b for b in range(12) if mask >> b & 1]
        table[mask, : len(positions)] = positions
    return table


_POPCOUNT12 = _popcount_table(12)
_BIT_POSITIONS = _bit_position_table()


def _unroll_highs(values: npt.NDArray[np.int64], last_high: int) -> npt.NDArray[np.int64]:
    """Unrolled high time (in units of 4096 µs) of successive TIME_HIGH payloads."""
    prev_mod = np.empty_like(values)
    prev_mod[0] = last_high & 0xFFF
    prev_mod[1:] = values[:-1]
    wraps = (values < prev_mod) & (prev_mod - values > HIGH_JITTER)
    rolls = np.cumsum(wraps, dtype=np.int64) + (last_high >> 12)
    return (rolls << 12) | values


@dataclass(slots=True)
class _Evt3State:
    high: int = 0  # unrolled TIME_HIGH, in units of 4096 µs
    low: int = 0
    y: int = 0
    base_x: int = 0
    polarity: int = 0
    seen_high: bool = False  # a TIME_HIGH has been seen (in this or an earlier packet)
    valid: bool = False  # a TIME_HIGH then a TIME_LOW have been seen


class Evt3Decoder:
    """Long-lived EVT 3.0 decoder: keep one per stream, feed packets in order, ``reset()`` on seek.

    State (time high with wrap count, time low, y, vector base x, polarity) carries across
    ``decode`` calls, so a stream may be cut anywhere on a word boundary — including between a
    VECT_BASE_X and its vectors.
    """

    def __init__(self, *, backend: Evt3Backend = "auto") -> None:
        kernel = None if backend == "numpy" else _load_numba_kernel()
        if backend == "numba" and kernel is None:
            raise ImportError("Evt3Decoder(backend='numba') needs numba (pip install numba)")
        self._kernel = kernel
        self._state = _Evt3State()

    @property
    def backend(self) -> str:
        """ "numba" when the compiled kernel is used, else "numpy"."""
        return "numpy" if self._kernel is None else "numba"

    def reset(self) -> None:
        """Forget all stream state (time, wrap count, y, base x)."""
        self._state = _Evt3State()

    @property
    def time_us(self) -> int | None:
        """The current unrolled sensor time (µs), or None before the stream had a valid time."""
        s = self._state
        return (s.high << 12 | s.low) if s.valid else None

    def decode(self, data: bytes | memoryview | np.ndarray, *, time_base: int = 0) -> DecodedEvents:
        """Decode one packet. ``time_base`` is ignored (see :func:`event_time_to_ros_ns`)."""
        del time_base
        words = as_words(data, what="EVT 3.0 packet")
        if words.size == 0:
            return DecodedEvents.empty()
        n_bytes = 2 * words.size
        if not self._state.valid:
            words = self._find_valid_time(words)
            if words.size == 0:
                return DecodedEvents.empty()
        skipped = n_bytes // 2 - words.size
        if self._kernel is not None:
            return self._decode_numba(words, skipped, n_bytes)
        if words.size <= _NUMPY_CHUNK_WORDS:
            return self._decode_valid(words, skipped, n_bytes)
        # numpy path: cache-sized chunks (state carries over) run several times faster
        parts = [
            self._decode_valid(words[i : i + _NUMPY_CHUNK_WORDS], skipped + i, n_bytes)
            for i in range(0, words.size, _NUMPY_CHUNK_WORDS)
        ]
        return DecodedEvents.concatenate(parts)

    @staticmethod
    def _unknown(words: npt.NDArray[np.uint16], i: int, skipped: int, n_bytes: int) -> DecodeError:
        return DecodeError(
            f"EVT 3.0: unknown event type 0x{int(words[i]) >> 12:x} in word {i + skipped} "
            f"(0x{int(words[i]):04x}) of a {n_bytes}-byte packet"
        )

    def _decode_numba(
        self, words: npt.NDArray[np.uint16], skipped: int, n_bytes: int
    ) -> DecodedEvents:
        assert self._kernel is not None
        s = self._state
        n_ev, n_tr, bad = self._kernel.count_evt3(words)
        if bad >= 0:
            raise self._unknown(words, bad, skipped, n_bytes)
        events = np.empty(n_ev, dtype=EVENT_DTYPE)
        triggers = np.empty(n_tr, dtype=TRIGGER_DTYPE)
        state = np.array([s.high, s.low, s.y, s.base_x, s.polarity], dtype=np.int64)
        self._kernel.decode_evt3_words(words, state, events, triggers)
        s.high, s.low, s.y, s.base_x, s.polarity = (int(v) for v in state)
        return DecodedEvents(events=events, triggers=triggers)

    # -- internals ---------------------------------------------------------------------------

    def _find_valid_time(self, words: npt.NDArray[np.uint16]) -> npt.NDArray[np.uint16]:
        """Skip to the first TIME_LOW after a TIME_HIGH, updating time state on the way.

        Like event_camera_codecs, nothing before that point is decoded; unlike it, a
        TIME_HIGH at the very end of one packet counts for the next one.
        """
        s = self._state
        span = 1024
        while True:
            head = words[:span]
            codes = head >> 12
            th = np.flatnonzero(codes == TIME_HIGH)
            first_high = 0 if s.seen_high else (int(th[0]) if th.size else head.size)
            tl_after = np.flatnonzero(codes[first_high:] == TIME_LOW)
            if tl_after.size or span >= words.size:
                break
            span *= 8
        end = first_high + int(tl_after[0]) if tl_after.size else head.size
        prefix_th = th[th < end]
        if prefix_th.size:
            highs = _unroll_highs((head[prefix_th] & 0xFFF).astype(np.int64), s.high)
            s.high = int(highs[-1])
            s.seen_high = True
        if not tl_after.size:
            tl = np.flatnonzero(codes == TIME_LOW)
            if tl.size:
                s.low = int(head[tl[-1]] & 0xFFF)
            return words[:0]
        s.low = int(words[end] & 0xFFF)
        s.valid = True
        return words[end + 1 :]

    def _decode_valid(
        self, words: npt.NDArray[np.uint16], skipped: int, n_bytes: int
    ) -> DecodedEvents:
        s = self._state
        codes = (words >> 12).astype(np.uint8)
        # cheap SIMD checks (uint8 wrap-around): unknown codes are 1 and 11..13
        if np.any((codes == 1) | ((codes - np.uint8(11)) <= 2)):
            unknown = ~np.isin(codes, KNOWN_CODES)
            raise self._unknown(words, int(np.argmax(unknown)), skipped, n_bytes)
        payload = words & 0x0FFF

        # --- time at every word: high of the last TIME_HIGH, low of the last TIME_LOW
        is_th = codes == TIME_HIGH
        is_tl = codes == TIME_LOW
        is_time = is_th | is_tl
        time_pos = np.flatnonzero(is_time)
        time_of_word_idx = np.cumsum(is_time, dtype=np.int32)  # 0 = state before packet
        tw_is_th = is_th[time_pos]
        th_vals = payload[time_pos[tw_is_th]].astype(np.int64)
        highs = np.empty(th_vals.size + 1, dtype=np.int64)
        highs[0] = s.high
        if th_vals.size:
            highs[1:] = _unroll_highs(th_vals, s.high)
        lows = np.empty(time_pos.size - th_vals.size + 1, dtype=np.int64)
        lows[0] = s.low
        lows[1:] = payload[time_pos[~tw_is_th]]
        tw_time = np.empty(time_pos.size + 1, dtype=np.int64)
        tw_time[0] = s.high << 12 | s.low
        tw_time[1:] = (highs[np.cumsum(tw_is_th)] << 12) | lows[np.cumsum(~tw_is_th)]

        # --- y at every word
        is_y = codes == ADDR_Y
        y_vals = np.empty(int(np.count_nonzero(is_y)) + 1, dtype=np.uint16)
        y_vals[0] = s.y
        y_vals[1:] = payload[np.flatnonzero(is_y)] & 0x7FF
        y_of_word_idx = np.cumsum(is_y, dtype=np.int32)

        # --- CD events
        is_addr_x = codes == ADDR_X
        has_vectors = bool(np.any((codes - np.uint8(VECT_BASE_X)) <= 2))
        if has_vectors:
            is_vec = (codes == VECT_12) | (codes == VECT_8) | (codes == VECT_BASE_X)
            events = self._vector_events(words, codes, payload, is_addr_x, is_vec)
            ev_pos = events[1]
            ev = events[0]
            ev["t"] = tw_time[time_of_word_idx[ev_pos]]
            ev["y"] = y_vals[y_of_word_idx[ev_pos]]
        else:
            ax = np.flatnonzero(is_addr_x)
            ev = np.empty(ax.size, dtype=EVENT_DTYPE)
            pay = payload[ax]
            ev["x"] = pay & 0x7FF
            ev["y"] = y_vals[y_of_word_idx[ax]]
            ev["t"] = tw_time[time_of_word_idx[ax]]
            ev["p"] = pay >> 11

        # --- triggers
        trig_pos = np.flatnonzero(codes == EXT_TRIGGER)
        trig = np.empty(trig_pos.size, dtype=TRIGGER_DTYPE)
        if trig_pos.size:
            tp = payload[trig_pos]
            trig["t"] = tw_time[time_of_word_idx[trig_pos]]
            trig["value"] = tp & 1
            trig["channel"] = (tp >> 8) & 0xF

        # --- carry state to the next packet
        if th_vals.size:
            s.high = int(highs[-1])
        if lows.size > 1:
            s.low = int(lows[-1])
        s.y = int(y_vals[-1])
        return DecodedEvents(events=ev, triggers=trig)

    def _vector_events(
        self,
        words: npt.NDArray[np.uint16],
        codes: npt.NDArray[np.uint8],
        payload: npt.NDArray[np.integer],
        is_addr_x: npt.NDArray[np.bool_],
        is_vec: npt.NDArray[np.bool_],
    ) -> tuple[EventArray, npt.NDArray[np.intp]]:
        """Events of ADDR_X and vector words, in stream order, with their word positions."""
        s = self._state
        vec_pos = np.flatnonzero(is_vec)
        vcodes = codes[vec_pos]
        vpay = payload[vec_pos].astype(np.int64)
        is_base = vcodes == VECT_BASE_X
        advance = np.where(vcodes == VECT_12, 12, np.where(vcodes == VECT_8, 8, 0))
        adv_cum = np.cumsum(advance) - advance  # advance accumulated before each word
        base_idx = np.cumsum(is_base)  # 0 = base from the state
        base_x0 = np.empty(int(is_base.sum()) + 1, dtype=np.int64)
        base_x0[0] = s.base_x
        base_x0[1:] = vpay[is_base] & 0x7FF
        adv0 = np.zeros_like(base_x0)
        adv0[1:] = adv_cum[is_base]
        pols = np.empty_like(base_x0)
        pols[0] = s.polarity
        pols[1:] = vpay[is_base] >> 11
        base_here = base_x0[base_idx] + adv_cum - adv0[base_idx]
        pol_here = pols[base_idx]
        # carry base x and polarity
        s.base_x = int(base_here[-1] + advance[-1])
        s.polarity = int(pols[-1])

        masks = np.where(vcodes == VECT_8, vpay & 0xFF, vpay & 0xFFF)
        masks[is_base] = 0
        vcount = _POPCOUNT12[masks]
        # merge ADDR_X (one event each) with vector words (popcount events each)
        ax_pos = np.flatnonzero(is_addr_x)
        word_pos = np.concatenate([ax_pos, vec_pos])
        counts = np.concatenate([np.ones(ax_pos.size, dtype=np.int64), vcount.astype(np.int64)])
        order = np.argsort(word_pos, kind="stable")
        word_pos = word_pos[order]
        counts = counts[order]
        ax_pay = payload[ax_pos].astype(np.int64)
        x_first = np.concatenate([ax_pay & 0x7FF, base_here])[order]
        p_all = np.concatenate([ax_pay >> 11, pol_here])[order]
        m_all = np.concatenate([np.zeros(ax_pos.size, dtype=np.int64), masks])[order]
        is_vec_word = np.concatenate([np.zeros(ax_pos.size, bool), np.ones(vec_pos.size, bool)])
        is_vec_word = is_vec_word[order]

        total = int(counts.sum())
        ev = empty_events(total)
        ev_word = np.repeat(word_pos, counts)
        starts = np.cumsum(counts) - counts
        rank = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
        m_rep = np.repeat(m_all, counts)
        offset = np.where(np.repeat(is_vec_word, counts), _BIT_POSITIONS[m_rep, rank], 0)
        ev["x"] = np.repeat(x_first, counts) + offset
        ev["p"] = np.repeat(p_all, counts)
        return ev, ev_word


from microexp.events.evt3_encoder import Evt3Encoder  # noqa: E402  (re-export)
