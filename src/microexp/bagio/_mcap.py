"""A linear, truncation-tolerant MCAP scanner (the ``ros2`` profile that rosbag2 and rosbags write).

Why our own scanner rather than rosbags' ``McapReader`` or Foxglove's ``mcap`` package: rosbags'
reader requires the footer (a recording killed mid-write has none) and Foxglove's is an extra core
dependency whose stream reader raises on the first short record. MCAP is a flat sequence of
``opcode u8 | length u64 | content`` records, so a forward scan that stops at the first record the
file cannot hold *is* the recovery: every complete chunk before the cut is read, the partial one is
dropped and a note says where and why. When the footer and summary are intact they give the topic
list and counts without touching the data. Chunk compression uses the codecs rosbags already
depends on (zstd, lz4). Messages come in file order, which is log-time order for bags written by a
recorder (rosbag2, rosbags, ours).
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lz4.frame import decompress as lz4_decompress

from microexp.errors import BagError

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

__all__ = ["MAGIC", "McapChannel", "McapFile", "McapSchema", "zstd_decompress"]

MAGIC = b"\x89MCAP0\r\n"
_OP_HEADER, _OP_FOOTER, _OP_SCHEMA, _OP_CHANNEL, _OP_MESSAGE, _OP_CHUNK = 1, 2, 3, 4, 5, 6
_OP_STATISTICS, _OP_DATA_END = 0x0B, 0x0F
_FOOTER_LEN = 1 + 8 + 20 + len(MAGIC)
_MAX_RECORD = 1 << 34  # 16 GiB: anything larger is a corrupt length field


@dataclass(frozen=True, slots=True)
class McapSchema:
    id: int
    name: str
    encoding: str
    data: str


@dataclass(frozen=True, slots=True)
class McapChannel:
    id: int
    schema_id: int
    topic: str
    message_encoding: str
    metadata: dict[str, str]


@dataclass(slots=True)
class _Cursor:
    buf: memoryview
    pos: int = 0

    def u16(self) -> int:
        (v,) = struct.unpack_from("<H", self.buf, self.pos)
        self.pos += 2
        return int(v)

    def u32(self) -> int:
        (v,) = struct.unpack_from("<I", self.buf, self.pos)
        self.pos += 4
        return int(v)

    def u64(self) -> int:
        (v,) = struct.unpack_from("<Q", self.buf, self.pos)
        self.pos += 8
        return int(v)

    def raw(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise struct.error(f"needs {n} bytes at {self.pos}, record has {len(self.buf)}")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def string(self) -> str:
        return bytes(self.raw(self.u32())).decode("utf-8")

    def strmap(self) -> dict[str, str]:
        end = self.pos + self.u32()
        out: dict[str, str] = {}
        while self.pos < end:
            key = self.string()
            out[key] = self.string()
        return out


@dataclass
class McapFile:
    """One MCAP file: summary (when intact) and a forward scan of its records."""

    path: Path
    notes: list[str] = field(default_factory=list)
    schemas: dict[int, McapSchema] = field(default_factory=dict)
    channels: dict[int, McapChannel] = field(default_factory=dict)
    counts: dict[int, int] | None = None
    _data_start: int = 0
    _data_end: int | None = None

    def __post_init__(self) -> None:
        try:
            size = self.path.stat().st_size
            with self.path.open("rb") as bio:
                if bio.read(len(MAGIC)) != MAGIC:
                    raise BagError(f"{self.path}: not an MCAP file (bad magic)")
                op, content = _read_record(bio)
                if op != _OP_HEADER or content is None:
                    raise BagError(f"{self.path}: MCAP header record missing or cut off")
                profile = _Cursor(memoryview(content)).string()
                if profile != "ros2":
                    self.notes.append(f"{self.path.name}: MCAP profile is {profile!r}, not 'ros2'")
                self._data_start = bio.tell()
                self._read_summary(bio, size)
        except OSError as err:
            raise BagError(f"{self.path}: cannot read ({err.strerror})") from err
        except struct.error as err:
            raise BagError(f"{self.path}: corrupt MCAP record ({err})") from err

    def _read_summary(self, bio: BinaryIO, size: int) -> None:
        if size < self._data_start + _FOOTER_LEN:
            self.notes.append(f"{self.path.name}: no MCAP footer (recording cut off?); scanning")
            return
        bio.seek(size - _FOOTER_LEN)
        tail = bio.read(_FOOTER_LEN)
        if tail[-len(MAGIC) :] != MAGIC or tail[0] != _OP_FOOTER:
            self.notes.append(f"{self.path.name}: no MCAP footer (recording cut off?); scanning")
            return
        summary_start, _summary_offset_start = struct.unpack_from("<QQ", tail, 9)
        self._data_end = summary_start or size - _FOOTER_LEN
        if not summary_start:
            self.notes.append(f"{self.path.name}: MCAP has no summary section; scanning")
            return
        bio.seek(summary_start)
        counts: dict[int, int] | None = None
        while bio.tell() < size - _FOOTER_LEN:
            op, content = _read_record(bio)
            if content is None:
                break
            cur = _Cursor(memoryview(content))
            if op == _OP_SCHEMA:
                self._add_schema(cur)
            elif op == _OP_CHANNEL:
                self._add_channel(cur)
            elif op == _OP_STATISTICS:
                cur.pos = 8 + 2 + 4 * 4 + 8 + 8
                end = cur.u32() + cur.pos
                counts = {}
                while cur.pos < end:
                    cid = cur.u16()
                    counts[cid] = cur.u64()
        self.counts = counts

    def _add_schema(self, cur: _Cursor) -> None:
        sid = cur.u16()
        name, encoding = cur.string(), cur.string()
        data = bytes(cur.raw(cur.u32())).decode("utf-8", errors="replace")
        self.schemas[sid] = McapSchema(sid, name, encoding, data)

    def _add_channel(self, cur: _Cursor) -> None:
        cid, sid = cur.u16(), cur.u16()
        topic, encoding = cur.string(), cur.string()
        self.channels[cid] = McapChannel(cid, sid, topic, encoding, cur.strmap())

    def scan_counts(self) -> dict[int, int]:
        """Message count per channel id (from the statistics, or by scanning the data)."""
        if self.counts is None:
            counts: dict[int, int] = {}
            for cid, _log_time, _data in self.messages():
                counts[cid] = counts.get(cid, 0) + 1
            self.counts = counts
        return self.counts

    def messages(
        self, *, start_ns: int | None = None, stop_ns: int | None = None
    ) -> Iterator[tuple[int, int, memoryview]]:
        """Yield ``(channel_id, log_time_ns, data)`` in file order; stops cleanly at a cut."""
        lo = -(1 << 63) if start_ns is None else start_ns
        hi = (1 << 63) if stop_ns is None else stop_ns
        with self.path.open("rb") as bio:
            bio.seek(self._data_start)
            while self._data_end is None or bio.tell() < self._data_end:
                offset = bio.tell()
                try:
                    op, content = _read_record(bio)
                except struct.error:
                    op, content = -1, None
                if content is None:
                    if op != -2:  # -2: clean end of file
                        self._note_once(
                            f"{self.path.name}: cut off at byte {offset} (record "
                            f"incomplete); read every complete chunk before it"
                        )
                    return
                if op in (_OP_DATA_END, _OP_FOOTER):
                    return
                try:
                    if op == _OP_CHUNK:
                        yield from self._chunk(memoryview(content), lo, hi)
                    else:
                        yield from self._record(op, memoryview(content), lo, hi)
                except (struct.error, UnicodeDecodeError, zstd.ZstdError, RuntimeError) as err:
                    self._note_once(
                        f"{self.path.name}: corrupt record at byte {offset} ({err}); "
                        "stopped reading there"
                    )
                    return

    def _chunk(self, buf: memoryview, lo: int, hi: int) -> Iterator[tuple[int, int, memoryview]]:
        cur = _Cursor(buf)
        t_first, t_last, size, crc = cur.u64(), cur.u64(), cur.u64(), cur.u32()
        compression = cur.string()
        payload = cur.raw(cur.u64())
        del t_first, t_last  # a chunk outside [lo, hi) may still define schemas and channels
        if compression == "":
            records = payload
        elif compression == "zstd":
            records = memoryview(zstd.decompress(payload))
        elif compression == "lz4":
            records = memoryview(lz4_decompress(bytes(payload)))
        else:
            raise RuntimeError(f"unsupported chunk compression {compression!r}")
        if len(records) != size:
            raise RuntimeError(f"chunk decompressed to {len(records)} bytes, expected {size}")
        if crc and zlib.crc32(records) != crc:
            raise RuntimeError("chunk CRC mismatch")
        inner = _Cursor(records)
        while inner.pos < len(records):
            op = records[inner.pos]
            inner.pos += 1
            length = inner.u64()
            yield from self._record(op, inner.raw(length), lo, hi)

    def _record(
        self, op: int, buf: memoryview, lo: int, hi: int
    ) -> Iterator[tuple[int, int, memoryview]]:
        cur = _Cursor(buf)
        if op == _OP_SCHEMA:
            self._add_schema(cur)
        elif op == _OP_CHANNEL:
            self._add_channel(cur)
        elif op == _OP_MESSAGE:
            cid, _seq, log_time, _pub = cur.u16(), cur.u32(), cur.u64(), cur.u64()
            if lo <= log_time < hi:
                yield cid, log_time, buf[cur.pos :]

    def _note_once(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)


def zstd_decompress(data: bytes | memoryview) -> bytes:
    """Decompress one zstd frame (rosbag2's per-message compression)."""
    return bytes(zstd.decompress(data))


def _read_record(bio: BinaryIO) -> tuple[int, bytes | None]:
    """``(opcode, content)``; content is None when the file ends inside the record (-2: at its start)."""
    head = bio.read(9)
    if len(head) == 0:
        return -2, None
    if len(head) < 9:
        return head[0], None
    op, length = struct.unpack("<BQ", head)
    if length > _MAX_RECORD:
        raise struct.error(f"record length {length} is implausible")
    content = bio.read(length)
    if len(content) < length:
        return op, None
    return op, content
