"""rosbag2 writer (MCAP or sqlite3) over rosbags' ``Writer``, readable by ``ros2 bag`` on Humble and Jazzy.

Decisions:

- **Final name, never overwrite.** The bag is written under its final name and
  :class:`~microexp.errors.OutputExistsError` is raised if that path exists. Writing to a temporary
  name and renaming on close would leave nothing under the final name after a SIGKILL during a live
  recording; with MCAP every 1 MiB chunk is complete on disk once written (we flush after each), so
  a killed recording stays readable up to its last chunk by :func:`microexp.bagio.reader.open_bag`
  (it lacks ``metadata.yaml`` and the MCAP summary, which the reader copes with). sqlite3 bags are
  committed every ``commit_every`` messages for the same reason.
- **Metadata version 8** with integer QoS enums: Jazzy reads it, and Humble's parser accepts it
  (version 9's string QoS enums break Humble's ``ros2 bag info``). Type hashes (RIHS01) and full
  message definitions come from our typestore, so ``type_description_hash`` matches what rosidl
  generates.
- ``compression="zstd"``: MCAP chunk compression (storage level), or per-message zstd for sqlite3.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from rosbags.interfaces import (
    Connection,
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import Writer
from rosbags.rosbag2.enums import CompressionFormat, CompressionMode, StoragePlugin
from rosbags.rosbag2.errors import WriterError

from microexp import __version__
from microexp.bagio.typestore import Distro, build_typestore
from microexp.errors import BagError, OutputExistsError

__all__ = ["QOS_PRESETS", "BagWriter", "QosPreset", "qos_profile"]

QosPreset = Literal["reliable", "sensor_data", "latched"]
_T0 = QosTime(0, 0)


def qos_profile(preset: QosPreset) -> Qos:
    """The offered QoS recorded for a topic: ``sensor_data`` (best effort, depth 5, as camera
    drivers publish), ``reliable`` (depth 10) or ``latched`` (reliable, transient local, depth 1)."""
    reliability = QosReliability.BEST_EFFORT if preset == "sensor_data" else QosReliability.RELIABLE
    durability = QosDurability.TRANSIENT_LOCAL if preset == "latched" else QosDurability.VOLATILE
    depth = {"sensor_data": 5, "reliable": 10, "latched": 1}[preset]
    return Qos(
        QosHistory.KEEP_LAST,
        depth,
        reliability,
        durability,
        _T0,
        _T0,
        QosLiveliness.AUTOMATIC,
        _T0,
        False,
    )


QOS_PRESETS: tuple[QosPreset, ...] = ("reliable", "sensor_data", "latched")


class BagWriter:
    """Write a new rosbag2 bag; ``with BagWriter(path) as bag: bag.add_topic(...); bag.write(...)``."""

    def __init__(
        self,
        path: Path | str,
        *,
        storage: Literal["mcap", "sqlite3"] = "mcap",
        distro: Distro = "jazzy",
        compression: Literal["zstd"] | None = None,
        commit_every: int = 1000,
    ) -> None:
        self.path = Path(path)
        if self.path.exists():
            raise OutputExistsError(f"{self.path}: exists already, not overwriting")
        if storage not in ("mcap", "sqlite3"):
            raise BagError(f"{self.path}: unknown storage {storage!r} (mcap or sqlite3)")
        if compression not in (None, "zstd"):
            raise BagError(f"{self.path}: unknown compression {compression!r} (None or 'zstd')")
        self.storage = storage
        self.typestore = build_typestore(distro=distro)
        plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
        self._writer = Writer(self.path, version=8, storage_plugin=plugin)
        if compression == "zstd":
            mode = CompressionMode.STORAGE if storage == "mcap" else CompressionMode.MESSAGE
            self._writer.set_compression(mode, CompressionFormat.ZSTD)
        # a non-empty custom_data map: a null one fails yaml-cpp's map conversion in ros2 bag info
        self._writer.set_custom_data("microexp.writer", f"microexp {__version__} ({distro})")
        self._connections: dict[str, Connection] = {}
        self._commit_every = commit_every
        self._since_flush = 0
        self._chunks = 0
        self._open = False

    def __enter__(self) -> BagWriter:
        try:
            self._writer.open()
        except WriterError as err:
            raise OutputExistsError(f"{self.path}: {err}") from err
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Finish the bag: summary, ``metadata.yaml`` (also after an exception, to keep the data)."""
        if self._open:
            self._open = False
            self._writer.close()

    def add_topic(self, name: str, msgtype: str, *, qos: QosPreset | Qos = "reliable") -> None:
        """Declare a topic before writing to it; the type must be in our typestore."""
        self._require_open()
        if name in self._connections:
            raise BagError(f"{self.path}: topic {name} added twice")
        if msgtype not in self.typestore.fielddefs:
            raise BagError(f"{self.path}: topic {name}: unknown message type {msgtype}")
        profile = qos if isinstance(qos, Qos) else qos_profile(qos)
        self._connections[name] = self._writer.add_connection(
            name, msgtype, typestore=self.typestore, offered_qos_profiles=[profile]
        )

    def write(self, topic: str, log_time_ns: int, data: bytes | memoryview) -> None:
        """Append one serialized (CDR) message received at ``log_time_ns``."""
        self._require_open()
        conn = self._connections.get(topic)
        if conn is None:
            raise BagError(
                f"{self.path}: topic {topic} was not added (has {sorted(self._connections)})"
            )
        self._writer.write(conn, int(log_time_ns), data)
        self._since_flush += 1
        self._flush_if_due()

    def write_message(self, topic: str, log_time_ns: int, msg: Any) -> None:
        """Serialize ``msg`` with the topic's type and append it."""
        conn = self._connections.get(topic)
        if conn is None:
            raise BagError(f"{self.path}: topic {topic} was not added")
        self.write(topic, log_time_ns, self.typestore.serialize_cdr(msg, conn.msgtype))

    def flush(self) -> None:
        """Push what is written so far to disk (complete chunks / committed rows)."""
        storage: Any = self._writer.storage
        if storage is None:
            return
        if hasattr(storage, "conn"):
            storage.conn.commit()
        if hasattr(storage, "bio"):
            storage.bio.flush()
        self._since_flush = 0

    def _flush_if_due(self) -> None:
        storage: Any = self._writer.storage
        chunks = len(getattr(storage, "chunks", ()))
        if chunks != self._chunks or (
            self.storage == "sqlite3" and self._since_flush >= self._commit_every
        ):
            self._chunks = chunks
            self.flush()

    def _require_open(self) -> None:
        if not self._open:
            raise BagError(f"{self.path}: writer is not open (use it as a context manager)")
