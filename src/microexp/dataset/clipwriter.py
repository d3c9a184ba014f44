"""Writes one clip directory incrementally: events (h5), frames, face boxes, crops, event frames.

The clip is built in ``clips/<id>.partial/`` and renamed to ``clips/<id>/`` once complete; the
last file written inside is ``DONE`` (so a directory without it is never trusted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import h5py
import numpy as np
import numpy.typing as npt

from microexp.dataset.atomic import NpyAppender, atomic_write_json, atomic_write_npy, remove_tree
from microexp.dataset.representation import CropFrameAccumulator
from microexp.events.types import EVENT_DTYPE, EventArray
from microexp.faces.crops import crop_resize, square_box
from microexp.faces.tracker import FaceTracker
from microexp.faces.types import NO_BOX, Box

__all__ = ["DONE_MARKER", "ClipWriter", "EventSink", "FrameSink", "is_complete"]

log = logging.getLogger(__name__)

DONE_MARKER = "DONE"
_FLUSH_EVENTS = 1 << 20
_READ_CHUNK = 1 << 21
_RAW = np.dtype((np.void, EVENT_DTYPE.itemsize))


def is_complete(clip_dir: Path) -> bool:
    return (clip_dir / DONE_MARKER).is_file()


@dataclass
class EventSink:
    """Events of one camera for one clip, appended to ``events_<camera>.h5`` in blocks."""

    path: Path
    t0_ns: int
    width: int = 0
    height: int = 0
    count: int = 0
    _pending: list[tuple[EventArray, int]] = field(default_factory=list)
    _pending_n: int = 0
    _file: Any = None

    def add(self, events: EventArray, *, width: int, height: int, t_shift: int = 0) -> None:
        """Queue ``events`` (not copied: the caller hands them over) with ``t_shift`` µs to add
        to their ``t`` when they are written."""
        if width > self.width or height > self.height:
            self.width, self.height = max(self.width, width), max(self.height, height)
        self._pending.append((events, t_shift))
        self._pending_n += events.size
        self.count += events.size
        if self._pending_n >= _FLUSH_EVENTS:
            self.flush()

    def flush(self) -> None:
        if self._file is None:
            self._file = h5py.File(self.path, "w")
            self._file.create_dataset(
                "events", shape=(0,), maxshape=(None,), dtype=EVENT_DTYPE, chunks=(1 << 16,)
            )
        if not self._pending:
            return
        # concatenate as plain bytes: numpy copies packed structured arrays field by field
        block = np.concatenate([e.view(_RAW) for e, _ in self._pending]).view(EVENT_DTYPE)
        shifts = [s for _, s in self._pending]
        if min(shifts) == max(shifts):
            block["t"] += shifts[0]
        else:  # the offset estimate moved between packets
            block["t"] += np.repeat(np.array(shifts, np.int64), [e.size for e, _ in self._pending])
        ds = self._file["events"]
        n = ds.shape[0]
        ds.resize((n + block.size,))
        ds[n:] = block
        self._pending, self._pending_n = [], 0

    def close(self) -> None:
        self.flush()
        ds = self._file["events"]
        ds.attrs["width"], ds.attrs["height"], ds.attrs["t0_ns"] = (
            self.width,
            self.height,
            self.t0_ns,
        )
        self._file.attrs.update({"width": self.width, "height": self.height, "t0_ns": self.t0_ns})
        self._file.close()
        self._file = None

    def chunks(self) -> Any:
        with h5py.File(self.path, "r") as f:
            ds = f["events"]
            for i in range(0, ds.shape[0], _READ_CHUNK):
                yield ds[i : i + _READ_CHUNK]


@dataclass
class FrameSink:
    """Frames of one camera for one clip, with face tracking and crops. With ``keep=False``
    (frames the subject's consent does not let this dataset hold) the face is tracked, for the
    event crops, and nothing is written."""

    directory: Path
    camera: str
    tracker: FaceTracker
    crop_size: int
    margin: float
    max_side: int
    frames: NpyAppender | None = None
    crops: NpyAppender | None = None
    times_ns: list[int] = field(default_factory=list)
    boxes: list[npt.NDArray[np.int32]] = field(default_factory=list)
    shape: tuple[int, ...] = ()
    keep: bool = True

    def add(self, image: npt.NDArray[np.uint8], stamp_ns: int) -> None:
        if not self.shape:
            self.shape = image.shape
        if self.frames is None and self.keep:
            self.frames = NpyAppender(
                self.directory / f"frames_{self.camera}.npy",
                row_shape=image.shape,
                dtype=np.dtype(np.uint8),
            )
            self.crops = NpyAppender(
                self.directory / f"crops_{self.camera}.npy",
                row_shape=(self.crop_size, self.crop_size),
                dtype=np.dtype(np.uint8),
            )
        if image.shape != self.shape:
            raise ValueError(f"{self.camera}: frame shape changed {self.shape} -> {image.shape}")
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        scale = min(1.0, self.max_side / max(gray.shape))
        small = (
            gray
            if scale == 1.0
            else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        )
        box = self.tracker.update(np.asarray(small, dtype=np.uint8))
        if box is not None and scale != 1.0:
            box = Box(
                round(box.x / scale),
                round(box.y / scale),
                max(1, round(box.w / scale)),
                max(1, round(box.h / scale)),
                box.score,
            )
        self.boxes.append(NO_BOX.copy() if box is None else box.as_array())
        self.times_ns.append(stamp_ns)
        if self.frames is None:
            return
        self.frames.append(image[None])
        assert self.crops is not None
        if box is None:
            self.crops.append(np.zeros((1, self.crop_size, self.crop_size), np.uint8))
        else:
            self.crops.append(
                crop_resize(
                    np.asarray(gray, dtype=np.uint8), box, self.crop_size, margin=self.margin
                )[None]
            )

    def median_box(self) -> Box | None:
        found = [b for b in self.boxes if b[2] > 0]
        if not found:
            return None
        m = np.median(np.stack(found), axis=0)
        return Box(round(m[0]), round(m[1]), max(1, round(m[2])), max(1, round(m[3])))

    def close(self, *, time_origin_ns: int = 0) -> None:
        """Finish the files (frame times written as ROS ns − ``time_origin_ns``)."""
        if self.frames is None:
            return
        self.frames.close()
        assert self.crops is not None
        self.crops.close()
        atomic_write_npy(
            self.directory / f"frame_times_{self.camera}.npy",
            np.asarray(self.times_ns, dtype=np.int64) - time_origin_ns,
        )
        atomic_write_npy(
            self.directory / f"faces_{self.camera}.npy", np.stack(self.boxes).astype(np.int32)
        )


class ClipWriter:
    """One clip being written: sinks per camera, then :meth:`finish` (or :meth:`abort`)."""

    def __init__(self, final_dir: Path, *, start_ns: int, end_ns: int) -> None:
        self.final_dir = final_dir
        self.dir = final_dir.with_name(final_dir.name + ".partial")
        remove_tree(self.dir)
        self.dir.mkdir(parents=True)
        self.start_ns, self.end_ns = start_ns, end_ns
        self.events: dict[str, EventSink] = {}
        self.frames: dict[str, FrameSink] = {}

    def event_sink(self, camera: str) -> EventSink:
        if camera not in self.events:
            self.events[camera] = EventSink(self.dir / f"events_{camera}.h5", self.start_ns)
        return self.events[camera]

    def add_events(
        self,
        camera: str,
        events: EventArray,
        *,
        offset_ns: int,
        width: int,
        height: int,
        t_min: int | None = None,
        t_max: int | None = None,
    ) -> None:
        """Keep the events whose ROS time ``t·1000 + offset_ns`` lies in [start, end).

        ``t`` is sensor µs; stored ``t`` is ROS µs since the clip start. Works in µs with exact
        integer bounds (no per-event ns arithmetic); a packet wholly inside is copied unmasked.
        """
        lo = -((offset_ns - self.start_ns) // 1000)  # ceil((start - offset) / 1000)
        hi = -((offset_ns - self.end_ns) // 1000)
        t = events["t"]
        t_min = int(t.min()) if t_min is None else t_min
        t_max = int(t.max()) if t_max is None else t_max
        if t_max < lo or t_min >= hi:
            return
        if t_min >= lo and t_max < hi:
            sel = events  # decoded packets are fresh arrays, never modified: no copy
        else:
            sel = events[(t >= lo) & (t < hi)]
            if sel.size == 0:
                return
        shift = (offset_ns - self.start_ns) // 1000
        self.event_sink(camera).add(sel, width=width, height=height, t_shift=shift)

    def event_frames(
        self, camera: str, box: Box, *, size: int, slice_us: int, margin: float
    ) -> npt.NDArray[np.uint8]:
        sink = self.events[camera]
        sq = square_box(box, margin=margin)
        acc = CropFrameAccumulator(
            box=sq, size=size, slice_us=slice_us, duration_us=(self.end_ns - self.start_ns) // 1000
        )
        acc.add_chunks(sink.chunks())
        return acc.frames()

    def close_sinks(self, *, time_origin_ns: int = 0) -> None:
        """Finish every sink; recorded absolute times (the h5 ``t0_ns``, frame times) count
        from ``time_origin_ns`` (a shared dataset: the session start)."""
        for s in self.events.values():
            s.t0_ns -= time_origin_ns
            s.close()
        for f in self.frames.values():
            f.close(time_origin_ns=time_origin_ns)

    def finish(self, label: dict[str, Any]) -> None:
        """Write label.json and the DONE marker, then rename ``.partial`` to the final name."""
        atomic_write_json(self.dir / "label.json", label)
        (self.dir / DONE_MARKER).write_text("ok\n", encoding="utf-8")
        remove_tree(self.final_dir)
        self.dir.rename(self.final_dir)

    def abort(self) -> None:
        for s in self.events.values():
            if s._file is not None:
                s._file.close()
        remove_tree(self.dir)
