"""Run the streaming engine over a recorded bag: what the live node would have published.

The bag's event topic is decoded message by message (one long-lived
:class:`~microexp.bagio.event_topics.EventTopicDecoder`) and pushed into a
:class:`~microexp.stream.engine.StreamingEngine`, exactly as the ROS node does with live
messages. Sensor time is mapped to ROS time per stream with the exporter's rule: a sample
``header.stamp − first event time`` per packet when the stamp is plausible (within 60 s of the
bag's receive time), else ``receive time − last event time``; the running median of the last
``window`` samples is used. Truth for scoring is read from ``/microexp/ground_truth`` (simulator)
or, failing that, from the protocol's valid segments on ``/microexp/protocol``.
"""

from __future__ import annotations

import csv
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microexp.errors import BagError, DecodeError, OutputExistsError
from microexp.stream.config import StreamConfig
from microexp.stream.engine import SliceModel, SlicePrediction, StreamingEngine, warm_up
from microexp.stream.scoring import TrueAction

__all__ = [
    "GROUND_TRUTH_TOPIC",
    "PROTOCOL_TOPIC",
    "ReplayResult",
    "StampMapper",
    "actions_from_protocol",
    "face_tracker_for",
    "pick_event_topic",
    "replay_bag",
    "write_predictions_csv",
]

log = logging.getLogger(__name__)

PROTOCOL_TOPIC = "/microexp/protocol"
GROUND_TRUTH_TOPIC = "/microexp/ground_truth"
EVENT_TYPES = ("event_camera_msgs/msg/EventPacket", "dv_ros2_msgs/msg/EventArray")
PREFERRED_TOPICS = ("/davis/events", "/evk4/events")
PLAUSIBLE_NS = 60_000_000_000


class StampMapper:
    """Sensor µs → ROS ns offset, a running median of per-packet samples (module docstring)."""

    def __init__(self, *, window: int = 32) -> None:
        self._samples: deque[int] = deque(maxlen=max(1, window))
        self.offset_ns = 0

    def update(self, *, t_first_us: int, t_last_us: int, stamp_ns: int, receive_ns: int) -> int:
        if abs(stamp_ns - receive_ns) < PLAUSIBLE_NS:
            sample = stamp_ns - t_first_us * 1000
        else:
            sample = receive_ns - t_last_us * 1000
        self._samples.append(sample)
        ordered = sorted(self._samples)
        n = len(ordered)
        mid = n // 2
        self.offset_ns = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) // 2
        return self.offset_ns


def pick_event_topic(topics: Mapping[str, Any], topic: str | None, *, where: str) -> str:
    """``topic`` if the bag has it as an event topic, else the first of /davis/events, /evk4/events
    or any event topic."""
    events = [name for name, info in topics.items() if info.msgtype in EVENT_TYPES]
    if topic is not None:
        if topic not in topics:
            raise BagError(f"{where}: no topic {topic} (has {sorted(topics)})")
        if topic not in events:
            raise BagError(f"{where}: topic {topic} is {topics[topic].msgtype}, not an event topic")
        return topic
    for name in (*PREFERRED_TOPICS, *sorted(events)):
        if name in events:
            return name
    raise BagError(f"{where}: no event topic (EventPacket or dv EventArray) in {sorted(topics)}")


def actions_from_protocol(messages: Iterable[Any]) -> list[TrueAction]:
    """True actions from ``ProtocolEvent`` messages: valid attempts with a perform window."""
    from microexp.protocol.events import event_from_msg
    from microexp.protocol.labels import segments_from_events

    events = [event_from_msg(m) for m in messages]
    out = []
    for seg in segments_from_events(events):
        if not seg.valid or seg.perform_start_ns < 0 or seg.run == "demo":
            continue
        end = seg.perform_end_ns if seg.perform_end_ns >= 0 else seg.end_ns
        out.append(TrueAction(seg.label, seg.perform_start_ns, end, "protocol"))
    return out


@dataclass(slots=True)
class ReplayResult:
    predictions: list[SlicePrediction]
    actions: list[TrueAction]
    topic: str
    messages: int = 0
    events: int = 0
    decode_errors: int = 0
    frames: int = 0
    frames_with_face: int = 0
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def face_tracker_for(detector: Any) -> Any:
    """A :class:`microexp.faces.FaceTracker` set up from a ``DetectorConfig`` (as the exporter)."""
    from microexp.faces import FaceTracker, make_detector

    return FaceTracker(
        make_detector(detector),
        every_n_frames=detector.every_n_frames,
        hold_frames=detector.hold_frames,
        smoothing=detector.smoothing,
    )


def replay_bag(
    path: str | Path,
    model: SliceModel,
    *,
    config: StreamConfig,
    topic: str | None = None,
    face_topic: str | None = None,
    detector: Any = None,
    progress: Callable[[int], Any] | None = None,
) -> ReplayResult:
    """Stream the bag's event topic through a fresh engine; ``progress(n)`` after n messages.

    With ``face_topic`` (images of the same sensor, e.g. ``/davis/image``), a face tracker with
    ``detector`` (a :class:`microexp.dataset.config.DetectorConfig`; default: its defaults) gives
    the crop box (``tracked`` mode), as the exporter crops the training clips.
    """
    import dataclasses

    import cv2

    from microexp.bagio.event_topics import EventTopicDecoder
    from microexp.bagio.reader import open_bag

    started = time.perf_counter()
    warm_up(model, config=config)  # so that latency_ms of the first slices is not torch's start-up
    tracker = None
    if face_topic is not None:
        from microexp.dataset.config import DetectorConfig
        from microexp.dataset.streams import decode_image

        tracker = face_tracker_for(detector if detector is not None else DetectorConfig())
        config = dataclasses.replace(config, crop="tracked")
    with open_bag(path) as bag:
        topics = bag.topics
        event_topic = pick_event_topic(topics, topic, where=str(path))
        wanted = [event_topic] + [t for t in (PROTOCOL_TOPIC, GROUND_TRUTH_TOPIC) if t in topics]
        if face_topic is not None:
            if face_topic not in topics:
                raise BagError(f"{path}: no topic {face_topic} (has {sorted(topics)})")
            if "Image" not in topics[face_topic].msgtype:
                raise BagError(
                    f"{path}: topic {face_topic} is {topics[face_topic].msgtype}, not an image"
                )
            wanted.append(face_topic)
        box: Any = None
        decoder = EventTopicDecoder(event_topic)
        mapper = StampMapper()
        engine: StreamingEngine | None = None
        result = ReplayResult([], [], event_topic)
        protocol_msgs: list[Any] = []
        truth: list[TrueAction] = []
        last_seq: int | None = None
        for raw in bag.messages(topics=wanted):
            if raw.topic == face_topic:
                where = f"{path}: topic {face_topic} message {raw.index}"
                try:
                    img, _ = decode_image(bag.deserialize(raw), raw.msgtype, where=where)
                except DecodeError as err:
                    result.decode_errors += 1
                    log.warning("%s", err)
                    continue
                if engine is not None and img.shape[:2] != (engine.height, engine.width):
                    raise BagError(
                        f"{where}: image {img.shape[1]}x{img.shape[0]} is not from the event "
                        f"sensor ({engine.width}x{engine.height}); give frames of the same camera"
                    )
                gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
                assert tracker is not None
                box = tracker.update(gray)
                result.frames += 1
                result.frames_with_face += box is not None
                if engine is not None:
                    engine.update_face_box(box)
                continue
            if raw.topic == PROTOCOL_TOPIC:
                protocol_msgs.append(bag.deserialize(raw))
                continue
            if raw.topic == GROUND_TRUTH_TOPIC:
                gt = bag.deserialize(raw)
                truth.append(
                    TrueAction(str(gt.label), int(gt.onset_ns), int(gt.offset_ns), "ground_truth")
                )
                continue
            result.messages += 1
            if progress is not None:
                progress(result.messages)
            try:
                chunk = decoder.decode(raw)
            except DecodeError as err:
                result.decode_errors += 1
                log.warning("%s", err)
                continue
            if chunk.seq is not None and last_seq is not None and chunk.seq != last_seq + 1:
                result.notes.append(f"message {raw.index}: seq {chunk.seq} after {last_seq}")
            last_seq = chunk.seq
            if engine is None:
                engine = StreamingEngine(
                    model, config=config, width=chunk.width, height=chunk.height
                )
            ev = chunk.events
            if ev.shape[0] == 0:
                continue
            result.events += int(ev.shape[0])
            offset = mapper.update(
                t_first_us=int(ev["t"][0]),
                t_last_us=int(ev["t"][-1]),
                stamp_ns=chunk.stamp_ns,
                receive_ns=raw.log_time_ns,
            )
            result.predictions.extend(engine.push_events(ev, stamp_offset_ns=offset))
        if engine is not None:
            result.predictions.extend(engine.flush())
        result.notes.extend(bag.notes)
    result.actions = truth if truth else actions_from_protocol(protocol_msgs)
    result.wall_s = time.perf_counter() - started
    return result


CSV_FIXED = [
    "index", "t_start_us", "t_end_us", "stamp_ns", "events", "face_x", "face_y", "face_w",
    "face_h", "top1", "top1_score", "topk", "onsets", "offsets", "active", "emotion",
    "emotion_score", "latency_ms", "reset_before",
]  # fmt: skip


def write_predictions_csv(
    path: str | Path, predictions: Sequence[SlicePrediction], *, overwrite: bool = False
) -> Path:
    """One row per slice: the fixed columns above, then ``score_<label>`` per class."""
    out = Path(path)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out} exists (use --force to overwrite)")
    labels = predictions[0].labels if predictions else ()
    tmp = out.with_name(out.name + ".partial")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*CSV_FIXED, *(f"score_{lb}" for lb in labels)])
        for p in predictions:
            box = p.face_box or ("", "", "", "")
            top1, top1_score = p.topk[0] if p.topk else ("", 0.0)
            w.writerow([
                p.index, p.t_start_us, p.t_end_us, p.stamp_ns, p.events_in_slice, *box,
                top1, f"{top1_score:.4f}", ";".join(f"{lb}:{s:.4f}" for lb, s in p.topk),
                ";".join(p.onsets), ";".join(p.offsets), ";".join(p.active), p.emotion or "",
                f"{p.emotion_score:.4f}", f"{p.latency_ms:.3f}", int(p.reset_before),
                *(f"{s:.4f}" for s in p.scores.tolist()),
            ])  # fmt: skip
    tmp.replace(out)
    return out
