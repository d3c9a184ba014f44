"""Streaming rosbag2 reader that copes with real, messy bags.

``open_bag(path)`` takes a bag folder (with or without ``metadata.yaml``) or a bare ``.mcap`` /
``.db3`` file and streams messages one at a time; it never loads a bag into memory.

Approach (the simplest that is robust): read the storages ourselves — sqlite3 through the standard
library, MCAP with a forward record scanner (:mod:`microexp.bagio._mcap`) — and deserialize with our
typestore. rosbags' ``Reader``/``AnyReader`` trust ``metadata.yaml`` and the bag's schemas, which is
what fails on real recordings: an empty ``storage_identifier``, ``ros2idl`` schemas it cannot parse,
no metadata at all, or an MCAP without footer after a crash. Here the storage kind comes from the
file (extension, then magic bytes), counts come from the storage itself, known types are decoded
with our definitions (the bag's schema is used for types we do not know, and for a type whose
recorded RIHS01 hash differs from ours when the bag carries its ``ros2msg`` definition: a bag
written with another version of the message, e.g. ``microexp_msgs/Consent``), and a cut-off file is
read up to its last complete chunk. Every such workaround is appended to :attr:`BagReader.notes` and
logged as a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import yaml
from rosbags.typesys import Stores, get_types_from_idl, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from microexp.bagio._mcap import MAGIC as MCAP_MAGIC
from microexp.bagio._mcap import McapFile, zstd_decompress
from microexp.bagio._sqlite import SQLITE_MAGIC, SqliteFile
from microexp.bagio.typestore import build_typestore, new_typestore
from microexp.errors import BagError, DecodeError

__all__ = ["BagReader", "RawMessage", "StorageKind", "TopicInfo", "open_bag"]

log = logging.getLogger(__name__)

StorageKind = Literal["mcap", "sqlite3"]
_SUFFIX: dict[str, StorageKind] = {".mcap": "mcap", ".db3": "sqlite3"}


@dataclass(frozen=True, slots=True)
class TopicInfo:
    msgtype: str
    count: int
    serialization: str


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One serialized message; ``index`` is its 0-based position on its topic in this iteration."""

    topic: str
    msgtype: str
    log_time_ns: int
    data: bytes | memoryview
    index: int


def _kind_of(path: Path) -> StorageKind | None:
    if path.suffix in _SUFFIX:
        return _SUFFIX[path.suffix]
    try:
        with path.open("rb") as bio:
            head = bio.read(16)
    except OSError:
        return None
    if head.startswith(MCAP_MAGIC):
        return "mcap"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite3"
    return None


class BagReader:
    """A rosbag2 bag opened for streaming. Use :func:`open_bag` as a context manager."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._notes: list[str] = []
        self._compressed_messages = False
        self._files: list[McapFile | SqliteFile] = []
        self._defs: dict[str, tuple[str, str]] = {}
        self._private_store: Typestore | None = None
        self._foreign: dict[str, Typestore] = {}  # types whose hash differs: the bag's definition
        self._typestore = build_typestore(distro="jazzy")
        try:
            for file, kind in self._locate():
                self._files.append(McapFile(file) if kind == "mcap" else SqliteFile(file))
            self._topics = self._collect_topics()
        except BaseException:
            self.close()
            raise
        self._sync_notes()

    # -- opening ------------------------------------------------------------------------------
    def _locate(self) -> list[tuple[Path, StorageKind]]:
        path = self.path
        if not path.exists():
            raise BagError(f"{path}: bag does not exist")
        if path.is_file():
            kind = _kind_of(path)
            if kind is None:
                raise BagError(f"{path}: neither an MCAP nor a sqlite3 rosbag2 file")
            return [(path, kind)]
        meta = path / "metadata.yaml"
        if meta.is_file():
            return self._from_metadata(meta)
        found = sorted(p for p in path.iterdir() if p.suffix in _SUFFIX)
        if not found:
            raise BagError(f"{path}: no metadata.yaml and no .mcap/.db3 file in the folder")
        self._note(f"no metadata.yaml; reading {', '.join(p.name for p in found)}")
        return [(p, _SUFFIX[p.suffix]) for p in found]

    def _from_metadata(self, meta: Path) -> list[tuple[Path, StorageKind]]:
        try:
            doc = yaml.safe_load(meta.read_text(encoding="utf-8"))
            info: dict[str, Any] = doc["rosbag2_bagfile_information"]
        except (yaml.YAMLError, KeyError, TypeError) as err:
            raise BagError(f"{meta}: unreadable metadata ({err!r})") from err
        compression = info.get("compression_mode") or ""
        if compression.lower() == "file":
            raise BagError(f"{meta}: file-compressed bags are not supported; decompress first")
        self._compressed_messages = compression.lower() == "message"
        storage = info.get("storage_identifier") or ""
        out: list[tuple[Path, StorageKind]] = []
        for rel in info.get("relative_file_paths") or []:
            file = meta.parent / rel
            if not file.exists():
                self._note(f"metadata lists {rel} but it is missing; skipped")
                continue
            kind = _kind_of(file)  # the file decides; metadata can be wrong or empty
            if kind is None:
                raise BagError(f"{file}: neither an MCAP nor a sqlite3 rosbag2 file")
            if storage in ("mcap", "sqlite3") and storage != kind:
                self._note(f"metadata.yaml says {storage} but {rel} is {kind}; read as {kind}")
            out.append((file, kind))
        if storage not in ("mcap", "sqlite3") and out:
            self._note(
                f"metadata.yaml storage_identifier is {storage!r}; "
                f"inferred {out[0][1]} from the file"
            )
        if not out:
            found = sorted(p for p in meta.parent.iterdir() if p.suffix in _SUFFIX)
            if not found:
                raise BagError(f"{self.path}: metadata.yaml lists no existing storage file")
            self._note(f"metadata.yaml lists no existing file; reading {found[0].name} etc.")
            out = [(p, _SUFFIX[p.suffix]) for p in found]
        return out

    def _collect_topics(self) -> dict[str, TopicInfo]:
        topics: dict[str, TopicInfo] = {}
        for file in self._files:
            entries: list[tuple[str, str, int, str, str]] = []  # name, type, count, ser, hash
            if isinstance(file, SqliteFile):
                self._defs.update(file.msgdefs)
                for tid, t in file.topics.items():
                    entries.append(
                        (t.name, t.msgtype, file.counts.get(tid, 0), t.serialization, t.type_hash)
                    )
            else:
                counts = file.scan_counts()
                for cid, ch in file.channels.items():
                    schema = file.schemas.get(ch.schema_id)
                    if schema is not None and schema.data:
                        self._defs.setdefault(schema.name, (schema.encoding, schema.data))
                    msgtype = schema.name if schema else ""
                    entries.append(
                        (
                            ch.topic,
                            msgtype,
                            counts.get(cid, 0),
                            ch.message_encoding,
                            ch.metadata.get("topic_type_hash", ""),
                        )
                    )
            for name, msgtype, count, ser, thash in entries:
                self._check_hash(name, msgtype, thash)
                if self._defs.get(msgtype, ("",))[0] == "ros2idl" and (
                    msgtype in self._typestore.fielddefs
                ):
                    self._note(f"{name}: bag has a ros2idl schema for {msgtype}; decoded with ours")
                prev = topics.get(name)
                topics[name] = TopicInfo(msgtype, count + (prev.count if prev else 0), ser)
        return topics

    def _check_hash(self, topic: str, msgtype: str, thash: str) -> None:
        if not thash.startswith("RIHS01_") or msgtype not in self._typestore.fielddefs:
            return
        ours = self._typestore.hash_rihs01(msgtype)
        if ours == thash or msgtype in self._foreign:
            return
        encoding, text = self._defs.get(msgtype, ("", ""))
        if encoding == "ros2msg":
            store = get_typestore(Stores.ROS2_JAZZY)
            try:
                store.register(get_types_from_msg(text, msgtype))
            except Exception as err:  # rosbags raises assorted errors on a bad definition
                self._note(
                    f"{topic}: bag's {msgtype} definition unusable ({err}); decoded with ours"
                )
                return
            if store.hash_rihs01(msgtype) == thash:
                self._foreign[msgtype] = store
                self._note(
                    f"{topic}: bag's {msgtype} hash {thash} differs from ours {ours}: decoded "
                    "with the definition stored in the bag"
                )
                return
        self._note(f"{topic}: bag's {msgtype} hash {thash} differs from ours {ours}")

    # -- public API ---------------------------------------------------------------------------
    @property
    def topics(self) -> dict[str, TopicInfo]:
        """Topic name -> type, message count and serialization format."""
        return dict(self._topics)

    @property
    def notes(self) -> list[str]:
        """Every workaround applied to this bag so far (also logged as warnings)."""
        self._sync_notes()
        return list(self._notes)

    def messages(
        self,
        *,
        topics: Sequence[str] | None = None,
        start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> Iterator[RawMessage]:
        """Stream messages (optionally of some topics, with ``start_ns <= log_time < stop_ns``)."""
        if topics is not None:
            missing = sorted(set(topics) - set(self._topics))
            if missing:
                raise BagError(f"{self.path}: no topic {missing} (has {sorted(self._topics)})")
        wanted = None if topics is None else set(topics)
        index: dict[str, int] = {}
        for file in self._files:
            stream: Iterator[tuple[str, str, int, bytes | memoryview]]
            if isinstance(file, SqliteFile):
                ids = (
                    None
                    if wanted is None
                    else [i for i, t in file.topics.items() if t.name in wanted]
                )
                stream = (
                    (file.topics[tid].name, file.topics[tid].msgtype, stamp, data)
                    for tid, stamp, data in file.messages(
                        topic_ids=ids, start_ns=start_ns, stop_ns=stop_ns
                    )
                )
            else:
                stream = self._mcap_stream(file, start_ns, stop_ns)
            for name, msgtype, stamp, data in stream:
                if wanted is not None and name not in wanted:
                    continue
                if self._compressed_messages:
                    data = zstd_decompress(data)
                i = index.get(name, 0)
                index[name] = i + 1
                yield RawMessage(name, msgtype, stamp, data, i)
            self._sync_notes()

    @staticmethod
    def _mcap_stream(
        file: McapFile, start_ns: int | None, stop_ns: int | None
    ) -> Iterator[tuple[str, str, int, bytes | memoryview]]:
        for cid, stamp, data in file.messages(start_ns=start_ns, stop_ns=stop_ns):
            ch = file.channels[cid]
            schema = file.schemas.get(ch.schema_id)
            yield ch.topic, schema.name if schema else "", stamp, data

    def deserialize(self, raw: RawMessage) -> Any:
        """The message object of ``raw`` (our definitions for known types, else the bag's)."""
        store = self._store_for(raw.msgtype, raw.topic)
        try:
            return store.deserialize_cdr(raw.data, raw.msgtype)
        except Exception as err:  # rosbags raises assorted errors on bad CDR
            raise DecodeError(
                f"{self.path}: topic {raw.topic} message {raw.index} ({raw.msgtype}): {err}"
            ) from err

    def _store_for(self, msgtype: str, topic: str) -> Typestore:
        if msgtype in self._foreign:
            return self._foreign[msgtype]
        if msgtype in self._typestore.fielddefs:
            return self._typestore
        if self._private_store is None:
            self._private_store = new_typestore(distro="jazzy")
        store = self._private_store
        if msgtype in store.fielddefs:
            return store
        encoding, text = self._defs.get(msgtype, ("", ""))
        try:
            if encoding == "ros2msg":
                store.register(get_types_from_msg(text, msgtype))
            elif encoding == "ros2idl":
                sep = "=" * 80 + "\n"
                parts = text.split(sep)[1:] if text.startswith(sep) else [f"IDL: x\n{text}"]
                for part in parts:
                    store.register(get_types_from_idl(part.split("\n", 1)[1]))
            else:
                raise DecodeError(f"no definition in the bag (encoding {encoding!r})")
        except Exception as err:
            raise DecodeError(
                f"{self.path}: topic {topic}: unknown type {msgtype} and the bag's "
                f"{encoding or 'missing'} definition cannot be used: {err}"
            ) from err
        self._note(f"{topic}: {msgtype} registered from the bag's {encoding} definition")
        return store

    # -- bookkeeping ----------------------------------------------------------------------------
    def _note(self, note: str) -> None:
        if note not in self._notes:
            self._notes.append(note)
            log.warning("%s: %s", self.path, note)

    def _sync_notes(self) -> None:
        for file in self._files:
            for note in file.notes:
                self._note(note)

    def close(self) -> None:
        for file in self._files:
            if isinstance(file, SqliteFile):
                file.close()

    def __enter__(self) -> BagReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_bag(path: Path | str) -> BagReader:
    """Open a bag folder or a bare ``.mcap``/``.db3`` file for streaming (a context manager)."""
    return BagReader(path)
