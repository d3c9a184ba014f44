"""The long-lived streaming engine: event packets in, one :class:`SlicePrediction` per slice out.

Per closed slice of ``slice_us`` sensor time: the face crop's count frame (:mod:`.framer`), one
step of the model (membrane state kept between slices), scores over a window, top-k,
onsets/offsets with hysteresis and an emotion estimate (:mod:`.decisions`,
:func:`microexp.aus.estimate_emotion`). A silence longer than ``gap_reset_us`` in sensor time, or a
lost face in ``tracked`` mode, resets the model, the decisions and the face tracker; labels that
were active then end, reported as offsets of the next prediction (``reset_before`` set).

The model is anything with ``classes``, ``step(frame[2, S, S]) -> rates[C]`` and ``reset()``
(:class:`microexp.stream.predictor.Predictor`). Latency is measured on ``time.monotonic_ns``: from
``now_ns`` (when the data arrived; default: when the push call started) to the prediction.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from microexp.aus import estimate_emotion
from microexp.events.types import EventArray
from microexp.stream.config import StreamConfig
from microexp.stream.decisions import HysteresisDetector, ScoreWindow, top_k
from microexp.stream.framer import Box, CropFramer
from microexp.stream.slicer import EventSlicer, SlicePart

__all__ = [
    "EngineStats",
    "FaceTrackerLike",
    "SliceModel",
    "SlicePrediction",
    "StreamingEngine",
    "as_box",
    "warm_up",
]

log = logging.getLogger(__name__)

BoxLike = Box | Sequence[int] | Any


def as_box(box: BoxLike) -> Box:
    """A :class:`Box` from a Box, an ``(x, y, w, h)`` sequence or an object with x, y, w, h."""
    if isinstance(box, Box):
        return box
    if all(hasattr(box, a) for a in ("x", "y", "w", "h")):
        obj: Any = box
        return Box(int(obj.x), int(obj.y), int(obj.w), int(obj.h))
    x, y, w, h = (int(v) for v in box)
    return Box(x, y, w, h)


def _square(box: Box, margin: float) -> Box:
    from microexp.faces.crops import square_box
    from microexp.faces.types import Box as FaceBox

    sq = square_box(FaceBox(box.x, box.y, box.width, box.height), margin=margin)
    return Box(sq.x, sq.y, sq.w, sq.h)


class SliceModel(Protocol):
    """What the engine steps: one slice in, per-class firing rates out; state kept until reset."""

    @property
    def classes(self) -> tuple[str, ...]: ...

    def step(self, frame: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...

    def reset(self) -> None: ...


class FaceTrackerLike(Protocol):
    """A face tracker the engine resets together with the model."""

    def reset(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SlicePrediction:
    """What the engine says about one slice (``scores``: see :mod:`microexp.stream.decisions`)."""

    index: int  # slice index since the last reset
    t_start_us: int  # sensor time
    t_end_us: int
    stamp_ns: int  # ROS time of the slice end (t_end_us · 1000 + the stream's stamp offset)
    labels: tuple[str, ...]
    rates: npt.NDArray[np.float32]  # the model's raw output for this slice (zeros without face)
    scores: npt.NDArray[np.float32]
    topk: tuple[tuple[str, float], ...]
    onsets: tuple[str, ...]
    offsets: tuple[str, ...]
    active: tuple[str, ...]
    emotion: str | None
    emotion_score: float
    events_in_slice: int
    latency_ms: float
    face_box: tuple[int, int, int, int] | None
    reset_before: bool = False


@dataclass(slots=True)
class EngineStats:
    slices: int = 0
    events: int = 0
    resets_gap: int = 0
    resets_face: int = 0
    steps: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class StreamingEngine:
    """Stateful, one model step per slice; feed it packets in sensor-time order."""

    def __init__(
        self,
        model: SliceModel,
        *,
        config: StreamConfig,
        width: int,
        height: int,
        face_tracker: FaceTrackerLike | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.model = model
        self.config = config
        self.width, self.height = int(width), int(height)
        self.labels: tuple[str, ...] = tuple(model.classes)
        self.face_tracker = face_tracker
        self._clock = clock_ns
        self._slicer = EventSlicer(slice_us=config.slice_us)
        self._framer = CropFramer(
            width=self.width, height=self.height, size=config.size, clip=config.clip_counts
        )
        self._window = ScoreWindow(
            num_classes=len(self.labels),
            window_slices=config.window_slices,
            mode=config.score_mode,
            temperature=config.softmax_temperature,
        )
        self._hyst = HysteresisDetector(
            self.labels,
            theta_on=config.theta_on,
            theta_off=config.theta_off,
            k_on=config.k_on,
            m_off=config.m_off,
            top1_only=config.onset_top1_only,
        )
        if config.crop == "fixed":
            roi = config.roi or (0, 0, self.width, self.height)
            self._box: Box | None = Box(*roi)
        else:
            self._box = None
        self._framer.set_box(self._box)
        self._slice_events = 0
        self._last_t_us: int | None = None
        self._stamp_offset_ns = 0
        self._pending_offsets: tuple[str, ...] = ()
        self._reset_before = False
        self._face_seen = False
        self._decoders: dict[str, Any] = {}
        self.stats = EngineStats()
        self.last_frame: npt.NDArray[np.float32] | None = None  # the last closed slice's crop

    # ------------------------------------------------------------------ input
    def push_events(
        self,
        events: EventArray,
        *,
        now_ns: int | None = None,
        stamp_offset_ns: int | None = None,
    ) -> list[SlicePrediction]:
        """Add events (sorted by ``t``); returns the predictions of the slices they closed.

        ``stamp_offset_ns`` (ROS time − sensor time, in ns) is used for ``stamp_ns`` from now on.
        """
        entry = self._clock() if now_ns is None else int(now_ns)
        if stamp_offset_ns is not None:
            self._stamp_offset_ns = int(stamp_offset_ns)
        n = int(events.shape[0])
        if n == 0:
            return []
        self.stats.events += n
        t = events["t"]
        out: list[SlicePrediction] = []
        # Sort if needed (counted by the slicer's statistics), then split at silences longer than
        # gap_reset_us (before the packet or inside it; only a packet that spans more can hold one).
        if n > 1 and not bool(np.all(t[1:] >= t[:-1])):
            self._slicer.unsorted_packets += 1
            events = events[np.argsort(t, kind="stable")]
            t = events["t"]
        gap = self.config.gap_reset_us
        starts = [0]
        if int(t[-1]) - int(t[0]) > gap:
            starts += (np.flatnonzero(np.diff(t) > gap) + 1).tolist()
        for a, b in zip(starts, [*starts[1:], n], strict=True):
            chunk = events[a:b]
            if self._last_t_us is not None and int(chunk["t"][0]) - self._last_t_us > gap:
                out.extend(self._close(self._slicer.flush(), entry))
                self._reset(reason="gap")
            self._last_t_us = int(chunk["t"][-1])
            out.extend(self._close(self._slicer.push(chunk, known_sorted=True), entry))
        return out

    def push_packet(
        self,
        data: bytes | memoryview | npt.NDArray[np.uint8],
        *,
        encoding: str,
        now_ns: int | None = None,
        stamp_offset_ns: int | None = None,
    ) -> list[SlicePrediction]:
        """Decode one encoded packet (``EventPacket.events``; ``encoding`` e.g. ``"evt3"``) and push it.

        One long-lived decoder per encoding keeps the codec state (EVT 3.0 time wrap) across
        packets; :meth:`reset_decoders` after lost packets.
        """
        entry = self._clock() if now_ns is None else int(now_ns)
        decoder = self._decoders.get(encoding)
        if decoder is None:
            from microexp.events.packet import make_packet_decoder

            decoder = make_packet_decoder(encoding, width=self.width, height=self.height)
            self._decoders[encoding] = decoder
        decoded = decoder.decode(data)
        return self.push_events(decoded.events, now_ns=entry, stamp_offset_ns=stamp_offset_ns)

    def reset_decoders(self) -> None:
        for decoder in self._decoders.values():
            decoder.reset()

    def update_face_box(self, box: BoxLike | None) -> None:
        """New face box in sensor pixels (``tracked`` mode); None = face lost.

        The box applies from the next slice on (or at once if the open slice has no events yet).
        It is squared and enlarged by ``box_margin`` as the exporter does for the training crops.
        Losing a face that was found resets model, decisions and tracker when ``face_lost_reset``
        (the events of the open slice are dropped with it).
        """
        if self.config.crop != "tracked":
            return
        new = None if box is None else _square(as_box(box), self.config.box_margin)
        if new is None and self._face_seen and self.config.face_lost_reset:
            self._reset(reason="face")
            self._face_seen = False
        if new is not None:
            self._face_seen = True
        self._box = new
        if self._slice_events == 0:
            self._framer.set_box(self._box)

    def advance_to(self, t_us: int, *, now_ns: int | None = None) -> list[SlicePrediction]:
        """No event before ``t_us`` (sensor µs) will come: close the slices that end by then.

        Silence is bridged with empty slices only up to ``gap_reset_us`` after the last event;
        beyond that the stream counts as paused (the next event resets the engine).
        """
        entry = self._clock() if now_ns is None else int(now_ns)
        if self._last_t_us is None:
            return []
        t_us = min(int(t_us), self._last_t_us + self.config.gap_reset_us)
        return self._close(self._slicer.advance_to(t_us), entry)

    def flush(self, *, now_ns: int | None = None) -> list[SlicePrediction]:
        """End of stream: close the open slice."""
        entry = self._clock() if now_ns is None else int(now_ns)
        if self._slicer.open_span is None:
            return []
        return self._close(self._slicer.flush(), entry)

    def reset(self) -> None:
        """Full reset: model state, decisions, tracker, slicer and codec state."""
        self._reset(reason="manual")
        self.reset_decoders()

    # --------------------------------------------------------------- internals
    def _reset(self, *, reason: str) -> None:
        log.info("stream reset (%s)", reason)
        if reason == "gap":
            self.stats.resets_gap += 1
        elif reason == "face":
            self.stats.resets_face += 1
        self.model.reset()
        self._window.reset()
        ended = self._hyst.reset()
        self._pending_offsets = tuple(dict.fromkeys((*self._pending_offsets, *ended)))
        self._reset_before = True
        if self.face_tracker is not None:
            self.face_tracker.reset()
        self._slicer.reset()
        self._framer.clear()
        self._slice_events = 0
        self._last_t_us = None

    def _close(self, parts: list[SlicePart], entry_ns: int) -> list[SlicePrediction]:
        out: list[SlicePrediction] = []
        for part in parts:
            k = int(part.events.shape[0])
            if k:
                self._framer.add(part.events)
                self._slice_events += k
            if part.closes:
                out.append(self._predict(part, entry_ns))
        return out

    def _predict(self, part: SlicePart, entry_ns: int) -> SlicePrediction:
        box = self._framer.box
        frame = self._framer.take()
        self.last_frame = frame
        n_events = self._slice_events
        self._slice_events = 0
        self._framer.set_box(self._box)  # the box of the next slice
        if box is not None:
            rates = np.asarray(self.model.step(frame), dtype=np.float32).reshape(-1)
            self.stats.steps += 1
            scores = self._window.update(rates)
            trans = self._hyst.update(scores)
            onsets, offsets = trans.onsets, trans.offsets
        else:
            rates = np.zeros(len(self.labels), dtype=np.float32)
            scores = rates
            onsets, offsets = (), ()
        if self._pending_offsets:
            offsets = tuple(dict.fromkeys((*self._pending_offsets, *offsets)))
            self._pending_offsets = ()
        reset_before, self._reset_before = self._reset_before, False
        emo = estimate_emotion(
            dict(zip(self.labels, scores.tolist(), strict=True)),
            threshold=self.config.emotion_threshold,
        )
        best = top_k(self.labels, scores, self.config.top_k)
        self.stats.slices += 1
        span = part.span
        return SlicePrediction(
            index=span.index,
            t_start_us=span.t_start_us,
            t_end_us=span.t_end_us,
            stamp_ns=span.t_end_us * 1000 + self._stamp_offset_ns,
            labels=self.labels,
            rates=rates,
            scores=scores,
            topk=tuple(zip(*best, strict=True)),
            onsets=onsets,
            offsets=offsets,
            active=self._hyst.active,
            emotion=None if emo is None else emo[0],
            emotion_score=0.0 if emo is None else float(emo[1]),
            events_in_slice=n_events,
            latency_ms=(self._clock() - entry_ns) / 1e6,
            face_box=None if box is None else box.as_tuple(),
            reset_before=reset_before,
        )


def warm_up(model: SliceModel, *, config: StreamConfig) -> None:
    """Run one throwaway slice (first torch calls, numba compilation), then reset the model.

    Call it before live data flows so that the first real slice is not seconds late.
    """
    from microexp.events.types import make_events

    size = config.size
    engine = StreamingEngine(model, config=dataclasses.replace(config, crop="fixed", roi=None),
                             width=size, height=size)  # fmt: skip
    n = 64
    ev = make_events(x=np.arange(n) % size, y=np.arange(n) % size, t=np.arange(n) * 1000,
                     p=np.arange(n) % 2)  # fmt: skip
    engine.push_events(ev)
    engine.flush()
    model.reset()
