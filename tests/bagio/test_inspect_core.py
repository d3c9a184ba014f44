from __future__ import annotations

from pathlib import Path

import numpy as np

from microexp.bagio import messages as M
from microexp.bagio.inspect import PROTOCOL_EVENT, inspect_bag
from microexp.bagio.typestore import build_typestore
from microexp.bagio.writer import BagWriter
from microexp.events.evt3 import Evt3Encoder
from microexp.events.types import make_events

TS = build_typestore()
S = 1_000_000_000


def _protocol(kind: int, stamp_ns: int, *, index: int, attempt: int, label: str,
              valid: bool = True) -> object:  # fmt: skip
    return M.build_message(TS, PROTOCOL_EVENT, header=M.header(TS, stamp_ns=stamp_ns), kind=kind,
                           segment_index=index, attempt=attempt, label=label, valid=valid)  # fmt: skip


def test_seq_gaps_segments_and_decode_errors(tmp_path: Path) -> None:
    bag = tmp_path / "session"
    rng = np.random.default_rng(5)
    encoder = Evt3Encoder()
    seqs = [10, 11, 12, 15, 16, 20]  # 2 + 3 lost
    n_on = n_off = 0
    with BagWriter(bag) as w:
        w.add_topic("/evk4/events", M.EVENT_PACKET, qos="sensor_data")
        w.add_topic("/microexp/protocol", PROTOCOL_EVENT, qos="reliable")
        for i, seq in enumerate(seqs):
            ev = make_events(x=rng.integers(0, 100, 200), y=rng.integers(0, 80, 200),
                             t=1_000 + i * 10_000 + np.sort(rng.integers(0, 10_000, 200)),
                             p=rng.integers(0, 2, 200))  # fmt: skip
            n_on += int(ev["p"].sum())
            n_off += int((ev["p"] == 0).sum())
            w.write_message("/evk4/events", S + i, M.event_packet(
                TS, events=encoder.encode(ev), stamp_ns=S + i, frame_id="evk4", width=100,
                height=80, seq=seq))  # fmt: skip
        w.write("/evk4/events", S + 50, b"\x00\x01\x00\x00\x01")  # one corrupt message
        for msg in [
            _protocol(3, 2 * S, index=0, attempt=1, label="AU12"),
            _protocol(7, 3 * S, index=0, attempt=1, label="AU12"),
            _protocol(4, 3 * S + 1, index=0, attempt=1, label="AU12"),
            _protocol(3, 4 * S, index=0, attempt=2, label="AU12"),
            _protocol(4, 6 * S, index=0, attempt=2, label="AU12"),
            _protocol(3, 7 * S, index=1, attempt=1, label="AU4"),
        ]:
            w.write_message("/microexp/protocol", msg.header.stamp.sec * S, msg)  # type: ignore[attr-defined]
    summary = inspect_bag(bag)
    ev = summary.topics["/evk4/events"].events
    assert ev is not None
    assert summary.topics["/evk4/events"].messages == 7
    assert (ev.events_on, ev.events_off, ev.triggers) == (n_on, n_off, 0)
    assert (ev.seq_first, ev.seq_last, ev.seq_gaps, ev.decode_errors) == (10, 20, 5, 1)
    assert (ev.width, ev.height, ev.encoding) == (100, 80, "evt3")
    assert ev.t_first_us is not None and ev.t_last_us is not None
    assert 1_000 <= ev.t_first_us <= ev.t_last_us < 61_000
    assert any("/evk4/events message 6" in n for n in summary.notes)
    segs = summary.topics["/microexp/protocol"].segments
    assert segs is not None
    assert [(s.segment_index, s.attempt, s.label, s.valid) for s in segs] == [
        (0, 1, "AU12", False),
        (0, 2, "AU12", True),
        (1, 1, "AU4", True),
    ]
    assert (segs[1].start_ns, segs[1].end_ns) == (4 * S, 6 * S)
    assert segs[2].end_ns is None
    counts_only = inspect_bag(bag, decode_events=False)
    assert counts_only.topics["/evk4/events"].events is None
    assert counts_only.topics["/evk4/events"].messages == 7
