"""rosbag2 sqlite3 storage, read with the standard library, one row at a time.

Opened read-only. A crashed recorder can leave a ``-wal`` file beside the database; SQLite replays
its committed, complete frames on open (a frame cut off mid-write fails its checksum and is ignored,
which is SQLite's own recovery). Replaying needs a writable folder for the ``-shm`` index, so when
the bag sits on a read-only folder the database and WAL are copied to a temporary folder first
(noted), rather than ignoring the WAL and losing its messages.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from microexp.errors import BagError

__all__ = ["SQLITE_MAGIC", "SqliteFile", "SqliteTopic"]

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True, slots=True)
class SqliteTopic:
    id: int
    name: str
    msgtype: str
    serialization: str
    type_hash: str


@dataclass
class SqliteFile:
    """One ``.db3`` file of a bag."""

    path: Path
    notes: list[str] = field(default_factory=list)
    topics: dict[int, SqliteTopic] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    msgdefs: dict[str, tuple[str, str]] = field(default_factory=dict)
    _tmpdir: tempfile.TemporaryDirectory[str] | None = None
    _conn: sqlite3.Connection | None = None

    def __post_init__(self) -> None:
        wal = self.path.with_name(self.path.name + "-wal")
        try:
            self._conn = self._connect(self.path)
            self._load()
        except sqlite3.OperationalError as err:
            if not wal.exists():
                raise BagError(f"{self.path}: cannot read sqlite3 storage ({err})") from err
            self._open_copy(wal, err)
        except sqlite3.DatabaseError as err:
            raise BagError(f"{self.path}: corrupt sqlite3 storage ({err})") from err
        if wal.exists() and wal.stat().st_size:
            self.notes.append(
                f"{self.path.name}: write-ahead log present (recording not closed cleanly); "
                "replayed its committed frames"
            )

    def _open_copy(self, wal: Path, first: Exception) -> None:
        self.close()
        self._tmpdir = tempfile.TemporaryDirectory(prefix="microexp-bag-")
        copy = Path(self._tmpdir.name) / self.path.name
        shutil.copy2(self.path, copy)
        shutil.copy2(wal, copy.with_name(copy.name + "-wal"))
        self.notes.append(
            f"{self.path.name}: could not replay the write-ahead log in place ({first}); "
            f"read a copy in {self._tmpdir.name}"
        )
        try:
            self._conn = self._connect(copy)
            self._load()
        except sqlite3.DatabaseError as err:
            raise BagError(
                f"{self.path}: cannot read sqlite3 storage with its WAL ({err})"
            ) from err

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn

    def _load(self) -> None:
        assert self._conn is not None
        tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master")}
        if not {"topics", "messages"} <= tables:
            raise BagError(f"{self.path}: not a rosbag2 database (tables: {sorted(tables)})")
        cols = {r[1] for r in self._conn.execute("PRAGMA table_info(topics)")}
        hash_col = "type_description_hash" if "type_description_hash" in cols else "''"
        for tid, name, msgtype, ser, thash in self._conn.execute(
            f"SELECT id, name, type, serialization_format, {hash_col} FROM topics"
        ):
            self.topics[int(tid)] = SqliteTopic(int(tid), name, msgtype, ser, thash or "")
        for tid, count in self._conn.execute(
            "SELECT topic_id, count(*) FROM messages GROUP BY topic_id"
        ):
            self.counts[int(tid)] = int(count)
        if "message_definitions" in tables:
            for msgtype, encoding, text in self._conn.execute(
                "SELECT topic_type, encoding, encoded_message_definition FROM message_definitions"
            ):
                if text:
                    self.msgdefs[msgtype] = (encoding, text)

    def messages(
        self,
        *,
        topic_ids: Sequence[int] | None = None,
        start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> Iterator[tuple[int, int, bytes]]:
        """Yield ``(topic_id, log_time_ns, data)`` in log-time order, streaming from the cursor."""
        assert self._conn is not None
        where: list[str] = []
        params: list[int] = []
        if topic_ids is not None:
            where.append(f"topic_id IN ({','.join('?' * len(topic_ids))})")
            params.extend(topic_ids)
        if start_ns is not None:
            where.append("timestamp >= ?")
            params.append(start_ns)
        if stop_ns is not None:
            where.append("timestamp < ?")
            params.append(stop_ns)
        sql = "SELECT topic_id, timestamp, data FROM messages"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY timestamp, id"
        try:
            for tid, stamp, data in self._conn.execute(sql, params):
                yield int(tid), int(stamp), data
        except sqlite3.DatabaseError as err:
            note = f"{self.path.name}: corrupt rows ({err}); stopped reading there"
            if note not in self.notes:
                self.notes.append(note)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None
