"""The sync monitor: per-topic stats plus, at each sync flash of the protocol, each camera's
offset (camera time - protocol time at the flash onset). ROS-free; the node feeds it bytes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from microexp.errors import DecodeError
from microexp.recording.cdr import peek_event_packet_seq, peek_header_stamp_ns
from microexp.recording.stats import TopicStats, TopicStatsSnapshot
from microexp.sync.streams import EVENT_PACKET, EventStream, FrameStream, make_stream

__all__ = ["FlashOffset", "SyncMonitor"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlashOffset:
    """What ``microexp_msgs/CameraSync`` carries."""

    camera: str
    topic: str
    offset_ns: int
    uncertainty_ns: int
    flash_index: int
    flash_ns: int


class SyncMonitor:
    """Feed :meth:`on_message` (camera topics) and :meth:`on_flash` (protocol sync flashes); call
    :meth:`poll` regularly: it returns the offsets of flashes whose window has passed."""

    def __init__(
        self,
        topics: Sequence[tuple[str, str]],
        *,
        window_ns: int = 150_000_000,  # < on + off of a flash pattern (0.1 s + 0.1 s)
        guard_ns: int = 50_000_000,
        bin_ns: int = 1_000_000,
        history_ns: int = 6_000_000_000,
        max_wait_ns: int = 5_000_000_000,
    ) -> None:
        self.window_ns = window_ns
        self.max_wait_ns = max_wait_ns
        self.guard_ns = guard_ns
        self.streams: dict[str, EventStream | FrameStream] = {
            t: make_stream(t, m, bin_ns=bin_ns, history_ns=history_ns) for t, m in topics
        }
        self.stats = {t: TopicStats(topic=t) for t, _ in topics}
        self._pending: list[tuple[int, int]] = []  # (flash_index, flash_ns)
        self.decode_errors = 0

    @staticmethod
    def camera_of(topic: str) -> str:
        return topic.strip("/").split("/")[0]

    def on_message(self, topic: str, data: bytes, arrival_ns: int) -> None:
        stream = self.streams.get(topic)
        if stream is None:
            return
        try:
            stamp = peek_header_stamp_ns(data, what=topic)
            seq = (
                peek_event_packet_seq(data, what=topic) if stream.msgtype == EVENT_PACKET else None
            )
            self.stats[topic].observe(
                arrival_ns=arrival_ns, size=len(data), stamp_ns=stamp, seq=seq
            )
            stream.add(data, arrival_ns)
        except DecodeError as err:
            self.decode_errors += 1
            log.warning("sync: %s", err)

    def on_flash(self, *, flash_index: int, flash_ns: int) -> None:
        self._pending.append((flash_index, flash_ns))

    def poll(self, *, now_ns: int, force: bool = False) -> list[FlashOffset]:
        """Offsets of every pending flash whose window has passed on all streams (or, for a
        stream that stalls or trails, on the clock ``now_ns`` by ``max_wait_ns``; or ``force``);
        streams without an onset are skipped."""
        out: list[FlashOffset] = []
        keep = []
        for index, flash_ns in self._pending:
            end = flash_ns + self.window_ns
            ready = (
                force
                or now_ns > end + self.max_wait_ns
                or all(s.latest_ns is not None and s.latest_ns > end for s in self.streams.values())
            )
            if not ready:
                keep.append((index, flash_ns))
                continue
            for topic, stream in self.streams.items():
                onset = stream.onset(flash_ns, window_ns=self.window_ns, guard_ns=self.guard_ns)
                if onset is None:
                    log.info("sync: no flash onset on %s near flash %d", topic, index)
                    continue
                out.append(
                    FlashOffset(
                        self.camera_of(topic),
                        topic,
                        onset.t_ns - flash_ns,
                        onset.uncertainty_ns,
                        index,
                        flash_ns,
                    )
                )
        self._pending = keep
        return out

    @property
    def pending(self) -> list[tuple[int, int]]:
        """``(flash_index, flash_ns)`` of the flashes not evaluated yet."""
        return list(self._pending)

    def snapshots(self) -> list[TopicStatsSnapshot]:
        return [s.snapshot() for s in self.stats.values()]
