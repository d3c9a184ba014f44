"""AEDAT4 files (iniVation DV) read and written through dv-processing 2.0.

``read_aedat4`` returns events in the house dtype, external triggers (channel = the
``dv.TriggerType`` value, value = 0 for falling-edge types, 1 otherwise), the sensor size and,
when the file has a frame stream, the grey frames with their timestamps. ``write_aedat4``
writes events (and triggers) for tests and imports; dv-processing has no bulk numpy
constructor for its EventStore, so it appends event by event (about a million per second).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from microexp.errors import DecodeError, OutputExistsError
from microexp.events.types import (
    EVENT_DTYPE,
    TRIGGER_DTYPE,
    EventArray,
    SensorSize,
    TriggerArray,
    empty_events,
    empty_triggers,
)

__all__ = ["Aedat4Recording", "read_aedat4", "write_aedat4"]

log = logging.getLogger(__name__)
_FALLING_TYPES = (2, 5)  # EXTERNAL_SIGNAL_FALLING_EDGE, EXTERNAL_GENERATOR_FALLING_EDGE


@dataclass(frozen=True)
class Aedat4Recording:
    """Contents of one AEDAT4 file."""

    events: EventArray
    triggers: TriggerArray
    size: SensorSize
    frames: list[npt.NDArray[np.uint8]] = field(default_factory=list)
    frame_t_us: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))


def _reason(err: Exception) -> str:
    """The informative line of a dv-processing error (they carry a full C++ stack trace)."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    for line in lines:
        if "Error info" in line:
            return line
    return lines[0] if lines else type(err).__name__


def _open(path: Path):
    import dv_processing as dv

    if not path.is_file():
        raise DecodeError(f"{path}: AEDAT4 file not found")
    try:
        return dv.io.MonoCameraRecording(str(path))
    except Exception as err:  # dv-processing raises plain RuntimeError on any bad file
        raise DecodeError(f"{path}: not a readable AEDAT4 file ({_reason(err)})") from err


def read_aedat4(path: str | Path, *, frames: bool = False) -> Aedat4Recording:
    """Read every event (and trigger; frames when asked) of an AEDAT4 recording."""
    path = Path(path)
    rec = _open(path)
    if not rec.isEventStreamAvailable():
        raise DecodeError(f"{path}: AEDAT4 file has no event stream")
    width, height = rec.getEventResolution()
    parts: list[EventArray] = []
    try:
        while (batch := rec.getNextEventBatch()) is not None:
            raw = batch.numpy()
            part = np.empty(raw.shape[0], dtype=EVENT_DTYPE)
            part["x"] = raw["x"]
            part["y"] = raw["y"]
            part["t"] = raw["timestamp"]
            part["p"] = raw["polarity"]
            parts.append(part)
        trig_parts: list[TriggerArray] = []
        if rec.isTriggerStreamAvailable():
            while (tb := rec.getNextTriggerBatch()) is not None:
                trig = np.empty(len(tb), dtype=TRIGGER_DTYPE)
                for i, tr in enumerate(tb):
                    kind = int(tr.type)
                    trig[i] = (int(tr.timestamp), kind, 0 if kind in _FALLING_TYPES else 1)
                trig_parts.append(trig)
        images: list[npt.NDArray[np.uint8]] = []
        image_t: list[int] = []
        if frames and rec.isFrameStreamAvailable():
            while (frame := rec.getNextFrame()) is not None:
                images.append(np.asarray(frame.image).copy())
                image_t.append(int(frame.timestamp))
    except RuntimeError as err:
        raise DecodeError(f"{path}: corrupt AEDAT4 data ({_reason(err)})") from err
    events = np.concatenate(parts) if parts else empty_events(0)
    triggers = np.concatenate(trig_parts) if trig_parts else empty_triggers(0)
    log.debug("read %d events, %d triggers from %s", events.size, triggers.size, path)
    return Aedat4Recording(
        events=events,
        triggers=triggers,
        size=SensorSize(width=int(width), height=int(height)),
        frames=images,
        frame_t_us=np.asarray(image_t, dtype=np.int64),
    )


def write_aedat4(
    path: str | Path,
    events: EventArray,
    *,
    size: SensorSize,
    triggers: TriggerArray | None = None,
    camera_name: str = "microexp",
    overwrite: bool = False,
) -> None:
    """Write events (time-sorted) and optional triggers (channel = dv TriggerType) to AEDAT4."""
    import dv_processing as dv

    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: exists (pass overwrite=True to replace it)")
    if events.size and np.any(np.diff(events["t"]) < 0):
        raise ValueError(f"{path}: events must be sorted by time to be written")
    config = dv.io.MonoCameraWriter.EventOnlyConfig(camera_name, (size.width, size.height))
    if triggers is not None:
        config.addTriggerStream("triggers")
    writer = dv.io.MonoCameraWriter(str(path), config)
    store = dv.EventStore()
    for t, x, y, p in zip(
        events["t"].tolist(),
        events["x"].tolist(),
        events["y"].tolist(),
        events["p"].tolist(),
        strict=True,
    ):
        store.push_back(t, x, y, bool(p))
    writer.writeEvents(store)
    if triggers is not None:
        for t, kind in zip(triggers["t"].tolist(), triggers["channel"].tolist(), strict=True):
            writer.writeTrigger(dv.Trigger(t, dv.TriggerType(kind)))
    del writer  # dv-processing flushes and closes the file when the writer is destroyed
