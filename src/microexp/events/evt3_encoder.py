"""Stateful EVT 3.0 encoder, the inverse of :class:`microexp.events.evt3.Evt3Decoder`.

The simulator publishes EVT 3.0 like metavision_driver does; tests use it for round trips.
Word layouts: see :mod:`microexp.events.evt3`.
"""

from __future__ import annotations

import numpy as np

from microexp.events._evt3_codes import (
    ADDR_X,
    ADDR_Y,
    EXT_TRIGGER,
    TIME_HIGH,
    TIME_LOW,
    VECT_12,
    VECT_BASE_X,
)
from microexp.events.types import EventArray, TriggerArray, empty_triggers

__all__ = ["Evt3Encoder"]

_MAX_HIGH_STEP = 2048  # largest TIME_HIGH step between two emitted TIME_HIGH words


class Evt3Encoder:
    """Stateful EVT 3.0 encoder, the inverse of :class:`Evt3Decoder`.

    Emits TIME_HIGH (with intermediate TIME_HIGH words so that the decoder unrolls every wrap),
    TIME_LOW, ADDR_Y, and either ADDR_X or VECT_BASE_X + VECT_12 for runs of same-time,
    same-row, same-polarity events with increasing x inside one 12-pixel block. Events (and
    triggers) must be sorted by time, across calls too. ``decode(encode(x)) == x``.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start a new stream (the decoder must be reset too)."""
        self._high = 0  # unrolled high the decoder holds (it starts at 0)
        self._low = -1
        self._y = -1
        self._started = False
        self._last_t = -1

    def encode(self, events: EventArray, triggers: TriggerArray | None = None) -> bytes:
        """Encode events (and triggers) into EVT 3.0 bytes."""
        if triggers is None:
            triggers = empty_triggers(0)
        ev_t = np.asarray(events["t"], dtype=np.int64)
        tr_t = np.asarray(triggers["t"], dtype=np.int64)
        for name, t in (("event", ev_t), ("trigger", tr_t)):
            if t.size and (t[0] < max(self._last_t, 0) or np.any(np.diff(t) < 0)):
                raise ValueError(f"EVT 3.0 encoder: {name} times must be non-decreasing")
        if np.any(events["x"] > 0x7FF) or np.any(events["y"] > 0x7FF):
            raise ValueError("EVT 3.0 encoder: x and y must be < 2048")
        if np.any(triggers["channel"] > 0xF) or np.any(triggers["value"] > 1):
            raise ValueError("EVT 3.0 encoder: trigger channel must be < 16, value 0 or 1")

        # runs of events: same t, y, p, x block, strictly increasing x -> one vector
        x = events["x"].astype(np.int64)
        y = events["y"].astype(np.int64)
        p = events["p"].astype(np.int64)
        n = x.size
        new_run = np.ones(n, dtype=bool)
        if n > 1:
            new_run[1:] = (
                (ev_t[1:] != ev_t[:-1])
                | (y[1:] != y[:-1])
                | (p[1:] != p[:-1])
                | (x[1:] // 12 != x[:-1] // 12)
                | (x[1:] <= x[:-1])
            )
        run_start = np.flatnonzero(new_run)
        run_len = np.diff(np.append(run_start, n))
        run_id = np.cumsum(new_run) - 1
        masks = np.zeros(run_start.size, dtype=np.int64)
        np.add.at(masks, run_id, 1 << (x % 12))  # bits are distinct inside a run

        # items in time order: runs (kind 0) and triggers (kind 1)
        item_t = np.concatenate([ev_t[run_start], tr_t])
        kind = np.concatenate([np.zeros(run_start.size, np.int8), np.ones(tr_t.size, np.int8)])
        ref = np.concatenate([np.arange(run_start.size), np.arange(tr_t.size)])
        order = np.argsort(item_t, kind="stable")
        item_t, kind, ref = item_t[order], kind[order], ref[order]
        m = item_t.size
        if m == 0:
            return b""
        is_run = kind == 0

        high = item_t >> 12
        low = item_t & 0xFFF
        prev_high = np.concatenate([[self._high], high[:-1]])
        high_changed = high != prev_high
        if not self._started:
            high_changed[0] = True
        step = high - prev_high
        n_fill = np.maximum((step + _MAX_HIGH_STEP - 1) // _MAX_HIGH_STEP - 1, 0)
        prev_low = np.concatenate([[self._low], low[:-1]])
        low_changed = high_changed | (low != prev_low)

        run_of_item = np.where(is_run, ref, 0)
        item_y = np.where(is_run, y[run_start][run_of_item] if n else 0, -1)
        # y of the previous run item (triggers do not touch y)
        run_items = np.flatnonzero(is_run)
        prev_y = np.full(m, -2, dtype=np.int64)
        if run_items.size:
            ys = item_y[run_items]
            prev_ys = np.concatenate([[self._y], ys[:-1]])
            prev_y[run_items] = prev_ys
        y_changed = is_run & (item_y != prev_y)
        single = is_run & (run_len[run_of_item] == 1) if n else np.zeros(m, bool)
        vec = is_run & ~single

        n_words = n_fill + high_changed + low_changed + y_changed + 1 + vec
        starts = np.cumsum(n_words) - n_words
        out = np.zeros(int(n_words.sum()), dtype=np.uint16)
        # filler TIME_HIGH words
        fill_items = np.repeat(np.arange(m), n_fill)
        if fill_items.size:
            fill_rank = np.arange(fill_items.size) - np.repeat(np.cumsum(n_fill) - n_fill, n_fill)
            fill_high = prev_high[fill_items] + (fill_rank + 1) * _MAX_HIGH_STEP
            out[starts[fill_items] + fill_rank] = (TIME_HIGH << 12) | (fill_high & 0xFFF)
        pos = starts + n_fill
        th = np.flatnonzero(high_changed)
        out[pos[th]] = (TIME_HIGH << 12) | (high[th] & 0xFFF)
        pos = pos + high_changed
        tl = np.flatnonzero(low_changed)
        out[pos[tl]] = (TIME_LOW << 12) | low[tl]
        pos = pos + low_changed
        yc = np.flatnonzero(y_changed)
        out[pos[yc]] = (ADDR_Y << 12) | item_y[yc]
        pos = pos + y_changed
        if n:
            rs = run_start[run_of_item]
            sx = np.flatnonzero(single)
            out[pos[sx]] = (ADDR_X << 12) | (p[rs[sx]] << 11) | x[rs[sx]]
            vx = np.flatnonzero(vec)
            base = (x[rs[vx]] // 12) * 12
            out[pos[vx]] = (VECT_BASE_X << 12) | (p[rs[vx]] << 11) | base
            out[pos[vx] + 1] = (VECT_12 << 12) | masks[run_of_item[vx]]
        tr = np.flatnonzero(~is_run)
        if tr.size:
            trig = triggers[ref[tr]]
            out[pos[tr]] = (
                (EXT_TRIGGER << 12)
                | (trig["channel"].astype(np.int64) << 8)
                | trig["value"].astype(np.int64)
            )

        self._high = int(high[-1])
        self._low = int(low[-1])
        if run_items.size:
            self._y = int(item_y[run_items[-1]])
        self._started = True
        self._last_t = int(item_t[-1])
        return out.astype("<u2").tobytes()
