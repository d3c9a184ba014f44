"""``microexp inspect BAG [--json]``: what a rosbag2 bag holds (computed by microexp.bagio.inspect)."""

from __future__ import annotations

import argparse
import json

from microexp.bagio.inspect import BagSummary, inspect_bag

__all__ = ["HELP", "configure", "format_table", "run"]

HELP = (
    "Summarise a rosbag2 bag: topics, event statistics, lost messages, protocol segments, the "
    "subject's consent."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bag", help="bag folder, or a bare .mcap / .db3 file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--no-decode", action="store_true", help="topic counts only; do not decode events"
    )


def run(args: argparse.Namespace) -> int:
    summary = inspect_bag(args.bag, decode_events=not args.no_decode)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print(format_table(summary))
    return 0


def _num(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    fmt = [
        h.ljust(w) if i < 2 else h.rjust(w)
        for i, (h, w) in enumerate(zip(header, widths, strict=True))
    ]
    out = ["  ".join(fmt), line]
    for row in rows:
        out.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=True))))  # fmt: skip
    return out


def format_table(summary: BagSummary) -> str:
    """The human-readable report: topics, event topics, protocol segments, reader notes."""
    lines = [f"bag: {summary.path}", ""]
    lines += _table(
        ["topic", "type", "messages", "lost"],
        [[n, t.type, _num(t.messages), _num(t.lost)] for n, t in summary.topics.items()],
    )
    events = [(n, t.events) for n, t in summary.topics.items() if t.events is not None]
    if events:
        header = ["event topic", "encoding", "size", "ON", "OFF", "triggers", "first µs",
                  "last µs", "ev/s", "seq gaps", "errors"]  # fmt: skip
        rows = [
            [
                n,
                e.encoding,
                f"{e.width}x{e.height}",
                _num(e.events_on),
                _num(e.events_off),
                _num(e.triggers),
                _num(e.t_first_us),
                _num(e.t_last_us),
                _num(e.event_rate_hz),
                _num(e.seq_gaps if e.seq_first is not None else None),
                _num(e.decode_errors),
            ]
            for n, e in events
        ]
        lines += ["", *_table(header, rows)]
    for name, topic in summary.topics.items():
        if topic.segments is None:
            continue
        rows = [
            [
                str(s.segment_index),
                s.label,
                _num(s.attempt),
                _num(s.start_ns),
                _num(s.end_ns),
                _num(
                    None
                    if s.start_ns is None or s.end_ns is None
                    else (s.end_ns - s.start_ns) / 1e6
                ),
                "yes" if s.valid else "no",
            ]
            for s in topic.segments
        ]
        lines += ["", f"segments on {name}:"]
        lines += _table(["#", "label", "attempt", "start ns", "end ns", "ms", "valid"], rows)
    lines += ["", "consent: " + (
        summary.consent.describe() if summary.consent is not None
        else "none recorded (no /microexp/consent, no SessionInfo with consent=true)"
    )]  # fmt: skip
    if summary.notes:
        lines += ["", "notes:", *(f"  - {note}" for note in summary.notes)]
    return "\n".join(lines)
