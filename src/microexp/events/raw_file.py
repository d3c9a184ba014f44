"""Prophesee ``.raw`` files: ASCII header lines starting with ``%``, then an EVT stream.

Header lines look like ``% evt 3.0``, ``% format EVT3;height=720;width=1280``,
``% geometry 1280x720`` and end with ``% end`` in current Metavision versions (older files
simply start the binary data after the last ``%`` line). EVT 3.0 and EVT 2.0 are decoded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from microexp.errors import DecodeError, OutputExistsError
from microexp.events.evt2 import Evt2Decoder, Evt2Encoder
from microexp.events.evt3 import Evt3Decoder, Evt3Encoder
from microexp.events.types import DecodedEvents, EventArray, SensorSize, TriggerArray

__all__ = ["RawHeader", "iter_raw", "read_raw", "read_raw_header", "write_raw"]

log = logging.getLogger(__name__)
_MAX_HEADER_LINE = 4096
_WORD_BYTES = {"evt3": 2, "evt2": 4}


@dataclass(frozen=True)
class RawHeader:
    """Parsed header of a ``.raw`` file."""

    encoding: str  # "evt3" or "evt2"
    size: SensorSize | None
    data_offset: int  # byte offset of the event stream
    fields: dict[str, str] = field(default_factory=dict)


def _encoding_of(fields: dict[str, str], path: Path) -> str:
    fmt = fields.get("format", "")
    name = fmt.split(";", 1)[0].strip().upper() if fmt else ""
    if not name and "evt" in fields:
        name = "EVT" + fields["evt"].strip().replace(".0", "")
    mapping = {"EVT3": "evt3", "EVT2": "evt2"}
    if name not in mapping:
        found = fmt or fields.get("evt", "none")
        raise DecodeError(f"{path}: unsupported or missing RAW event format {found!r}")
    return mapping[name]


def _size_of(fields: dict[str, str]) -> SensorSize | None:
    opts = dict(kv.split("=", 1) for kv in fields.get("format", "").split(";")[1:] if "=" in kv)
    try:
        if "width" in opts and "height" in opts:
            return SensorSize(width=int(opts["width"]), height=int(opts["height"]))
        if "geometry" in fields:
            w, h = fields["geometry"].lower().split("x")
            return SensorSize(width=int(w), height=int(h))
        if "width" in fields and "height" in fields:
            return SensorSize(width=int(fields["width"]), height=int(fields["height"]))
    except ValueError:
        return None
    return None


def read_raw_header(path: str | Path) -> RawHeader:
    """Parse the ``%`` header lines of a ``.raw`` file."""
    path = Path(path)
    fields: dict[str, str] = {}
    try:
        with path.open("rb") as fh:
            offset = 0
            while True:
                first = fh.peek(1)[:1] if hasattr(fh, "peek") else b""
                if first != b"%":
                    break
                line = fh.readline(_MAX_HEADER_LINE)
                offset += len(line)
                text = line[1:].decode("ascii", errors="replace").strip()
                if text.lower() == "end":
                    break
                key, _, value = text.partition(" ")
                if key:
                    fields[key.lower() if key.lower() in ("width", "height") else key] = value
    except OSError as err:
        raise DecodeError(f"{path}: cannot read RAW file ({err.strerror})") from err
    if not fields:
        raise DecodeError(f"{path}: no '%' header lines; not a Prophesee RAW file")
    return RawHeader(
        encoding=_encoding_of(fields, path),
        size=_size_of(fields),
        data_offset=offset,
        fields=fields,
    )


def iter_raw(path: str | Path, *, chunk_bytes: int = 1 << 22) -> Iterator[DecodedEvents]:
    """Stream the events of a ``.raw`` file, ``chunk_bytes`` of encoded data at a time."""
    path = Path(path)
    header = read_raw_header(path)
    word = _WORD_BYTES[header.encoding]
    chunk = max(word, chunk_bytes - chunk_bytes % word)
    decoder = Evt3Decoder() if header.encoding == "evt3" else Evt2Decoder()
    with path.open("rb") as fh:
        fh.seek(header.data_offset)
        position = header.data_offset
        while data := fh.read(chunk):
            if len(data) % word:
                raise DecodeError(
                    f"{path}: truncated {header.encoding} stream: {len(data)} bytes at offset "
                    f"{position} is not a multiple of {word}"
                )
            try:
                yield decoder.decode(data)
            except DecodeError as err:
                raise DecodeError(f"{path}: at byte {position}: {err}") from err
            position += len(data)


def read_raw(path: str | Path) -> DecodedEvents:
    """All events and triggers of a ``.raw`` file at once."""
    return DecodedEvents.concatenate(list(iter_raw(path)))


def write_raw(
    path: str | Path,
    events: EventArray,
    *,
    size: SensorSize,
    triggers: TriggerArray | None = None,
    encoding: str = "evt3",
    overwrite: bool = False,
) -> None:
    """Write a ``.raw`` file (header + EVT 3.0 or 2.0 stream) of time-sorted events."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: exists (pass overwrite=True to replace it)")
    if encoding == "evt3":
        body = Evt3Encoder().encode(events, triggers)
        lines = ["evt 3.0", f"format EVT3;height={size.height};width={size.width}"]
    elif encoding == "evt2":
        body = Evt2Encoder().encode(events, triggers)
        lines = ["evt 2.0", f"format EVT2;height={size.height};width={size.width}"]
    else:
        raise ValueError(f"{path}: RAW encoding must be 'evt3' or 'evt2', got {encoding!r}")
    lines += [f"geometry {size.width}x{size.height}", "generator microexp", "end"]
    header = "".join(f"% {line}\n" for line in lines).encode("ascii")
    path.write_bytes(header + body)
    log.debug("wrote %d events to %s", events.size, path)
