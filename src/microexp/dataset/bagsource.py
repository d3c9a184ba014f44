"""Bag access for the export: raw messages by topic, message deserialisation, event decoding.

Reads through :func:`microexp.bagio.open_bag`; event messages are decoded by
:class:`microexp.bagio.event_topics.EventTopicDecoder` (numpy/numba, no per-event objects).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from microexp.bagio.event_topics import DV_EVENT_ARRAY, EVENT_PACKET, EVENT_TYPES, EventTopicDecoder
from microexp.bagio.reader import RawMessage as RawMsg
from microexp.bagio.reader import open_bag
from microexp.errors import BagError, DecodeError
from microexp.events.types import EventArray

__all__ = [
    "DV_EVENT_ARRAY",
    "EVENT_PACKET",
    "BagSource",
    "DecodedPacket",
    "EventMessageDecoder",
    "RawMsg",
]

log = logging.getLogger(__name__)


class BagSource:
    """A bag opened for reading through :func:`microexp.bagio.open_bag` (mcap or sqlite3)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise BagError(f"{self.path}: bag does not exist")
        try:
            self._reader = open_bag(self.path)
        except (BagError, DecodeError):
            raise
        except Exception as err:  # corrupt input raises assorted errors
            raise BagError(f"{self.path}: cannot open bag: {err}") from err
        self.topics: dict[str, str] = {t: info.msgtype for t, info in self._reader.topics.items()}

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> BagSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def messages(self, topics: Sequence[str]) -> Iterator[RawMsg]:
        """Raw messages of those ``topics`` the bag has, in log-time order.

        Raises BagError naming the bag and the last good message if reading breaks (truncation).
        """
        present = [t for t in topics if t in self.topics]
        if not present:
            return
        count = 0
        try:
            for msg in self._reader.messages(topics=present):
                count += 1
                yield msg
        except (BagError, DecodeError) as err:
            raise BagError(f"{err} (after {count} messages of {present})") from err
        except Exception as err:
            raise BagError(
                f"{self.path}: reading failed after {count} messages of {present}: "
                f"{type(err).__name__}: {err} (truncated or corrupt bag?)"
            ) from err

    def deserialize(self, msg: RawMsg) -> Any:
        return self._reader.deserialize(msg)

    @property
    def notes(self) -> list[str]:
        """Workarounds the reader applied (e.g. a recording cut off: complete chunks read)."""
        return list(self._reader.notes)

    @property
    def message_counts(self) -> dict[str, int]:
        return {t: int(info.count) for t, info in self._reader.topics.items()}


@dataclass(frozen=True, slots=True)
class DecodedPacket:
    events: EventArray  # t in sensor µs
    stamp_ns: int  # header.stamp
    width: int
    height: int


class EventMessageDecoder:
    """Long-lived decoder of one event topic (:class:`microexp.bagio.event_topics.EventTopicDecoder`:
    state persists across packets, EVT 3.0 time wraps)."""

    def __init__(self, *, topic: str, msgtype: str, source: BagSource) -> None:
        if msgtype not in EVENT_TYPES:
            raise DecodeError(
                f"{source.path}: {topic} has message type {msgtype}, not one of {EVENT_TYPES}"
            )
        self.topic = topic
        self.msgtype = msgtype
        self.source = source
        self._decoder = EventTopicDecoder(topic)

    def decode(self, msg: RawMsg) -> DecodedPacket:
        try:
            chunk = self._decoder.decode(msg)
        except DecodeError as err:
            raise DecodeError(f"{self.source.path}: {err}") from err
        # EVT 3.0 time is sensor time; time_base is not added (events.evt3.event_time_to_ros_ns)
        return DecodedPacket(chunk.events, chunk.stamp_ns, chunk.width, chunk.height)
