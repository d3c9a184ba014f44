"""Write a simulated session into a rosbag2 bag, topic for topic as a real recording.

Streams the session in time chunks (memory stays bounded): every camera simulates one chunk,
its driver output turns it into CDR messages, and the chunk's messages of all topics are written
in receive-time order together with the protocol events, the session info and the consent
record (latched, first) and the ground truth (each at its offset time).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.typesys.store import Typestore

from microexp.bagio.messages import build_message, header, serialize
from microexp.bagio.writer import BagWriter
from microexp.consent.record import CONSENT_TOPIC, CONSENT_TYPE, consent_fields
from microexp.consent.scope import ConsentScope
from microexp.protocol.events import ProtocolEvent, SessionInfo
from microexp.sim.camera_sim import CameraChunk, CameraSimulator
from microexp.sim.driver_output import DavisOutput, Evk4Output, OutMessage, WebcamOutput
from microexp.sim.scene import PerformedAction
from microexp.sim.sensors import SensorProfile
from microexp.sim.session import SimulatedSession

__all__ = [
    "AU_GROUND_TRUTH",
    "GROUND_TRUTH_TOPIC",
    "PROTOCOL_EVENT",
    "PROTOCOL_TOPIC",
    "SESSION_INFO",
    "SESSION_TOPIC",
    "BagSummary",
    "consent_cdr",
    "ground_truth_cdr",
    "make_output",
    "protocol_event_cdr",
    "seconds_progress",
    "session_info_cdr",
    "write_session_bag",
]

log = logging.getLogger(__name__)

PROTOCOL_TOPIC = "/microexp/protocol"
SESSION_TOPIC = "/microexp/session"
GROUND_TRUTH_TOPIC = "/microexp/ground_truth"
PROTOCOL_EVENT = "microexp_msgs/msg/ProtocolEvent"
SESSION_INFO = "microexp_msgs/msg/SessionInfo"
AU_GROUND_TRUTH = "microexp_msgs/msg/AuGroundTruth"

Output = DavisOutput | Evk4Output | WebcamOutput


def protocol_event_cdr(ts: Typestore, ev: ProtocolEvent) -> bytes:
    """CDR of ``microexp_msgs/msg/ProtocolEvent``."""
    msg = build_message(
        ts,
        PROTOCOL_EVENT,
        header=header(ts, stamp_ns=ev.stamp_ns, frame_id="protocol"),
        kind=int(ev.kind),
        phase=int(ev.phase),
        session_id=ev.session_id,
        subject_id=ev.subject_id,
        segment_index=ev.segment_index,
        attempt=ev.attempt,
        label=ev.label,
        au_numbers=np.array(ev.au_numbers, dtype=np.uint16),
        valid=ev.valid,
        detail=ev.detail,
    )
    return serialize(ts, msg)


def session_info_cdr(ts: Typestore, info: SessionInfo, *, stamp_ns: int) -> bytes:
    """CDR of ``microexp_msgs/msg/SessionInfo``."""
    msg = build_message(
        ts,
        SESSION_INFO,
        header=header(ts, stamp_ns=stamp_ns, frame_id="session"),
        subject_id=info.subject_id,
        session_id=info.session_id,
        plan_name=info.plan_name,
        glasses=info.glasses,
        lux=float(info.lux),
        lighting=info.lighting,
        notes=info.notes,
        consent=info.consent,
        microexp_version=info.microexp_version,
    )
    return serialize(ts, msg)


def consent_cdr(ts: Typestore, scope: ConsentScope, *, stamp_ns: int) -> bytes:
    """CDR of ``microexp_msgs/msg/Consent``."""
    fields = consent_fields(scope)
    msg = build_message(
        ts, CONSENT_TYPE, header=header(ts, stamp_ns=stamp_ns, frame_id="session"), **fields
    )
    return serialize(ts, msg)


def ground_truth_cdr(
    ts: Typestore, action: PerformedAction, *, subject_id: str, start_ns: int
) -> bytes:
    """CDR of ``microexp_msgs/msg/AuGroundTruth`` (times in ROS ns)."""
    pr = action.profile
    msg = build_message(
        ts,
        AU_GROUND_TRUTH,
        header=header(ts, stamp_ns=start_ns + pr.onset_us * 1000, frame_id="sim"),
        subject_id=subject_id,
        label=action.label,
        au_numbers=np.array(action.au_numbers, dtype=np.uint16),
        segment_index=max(action.segment_index, 0),
        attempt=action.attempt,
        onset_ns=start_ns + pr.onset_us * 1000,
        apex_ns=start_ns + pr.apex_us * 1000,
        offset_ns=start_ns + pr.offset_us * 1000,
        intensity=float(pr.peak),
    )
    return serialize(ts, msg)


def make_output(
    sensor: SensorProfile, ts: Typestore, *, start_ns: int, seed: int, compressed: bool = False
) -> Output:
    """The driver output matching a sensor profile's name."""
    if sensor.name == "davis":
        return DavisOutput(sensor, ts, start_ns=start_ns, seed=seed)
    if sensor.name == "evk4":
        return Evk4Output(sensor, ts, start_ns=start_ns, seed=seed)
    return WebcamOutput(sensor, ts, start_ns=start_ns, seed=seed, compressed=compressed)


@dataclass(slots=True)
class BagSummary:
    """What was written: messages per topic, events per camera, drops, renders."""

    path: Path
    duration_s: float
    messages: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    renders: dict[str, int] = field(default_factory=dict)


@contextmanager
def seconds_progress(
    total_us: int, *, desc: str, enabled: bool = True, **tqdm_kwargs: Any
) -> Iterator[Callable[[int], None]]:
    """A ``progress`` callback for :func:`write_session_bag` that moves a tqdm bar in simulated
    seconds (closed on exit); a no-op callback when not ``enabled``."""
    if not enabled:
        yield lambda _done_us: None
        return
    from tqdm import tqdm

    bar = tqdm(total=round(total_us / 1e6, 1), unit="s", desc=desc, **tqdm_kwargs)

    def progress(done_us: int) -> None:
        bar.n = round(done_us / 1e6, 1)
        bar.refresh()

    try:
        yield progress
    finally:
        bar.close()


def write_session_bag(
    path: Path | str,
    session: SimulatedSession,
    sensors: Sequence[SensorProfile],
    *,
    seed: int = 0,
    chunk_us: int = 1_000_000,
    compressed_webcam: bool = False,
    storage: str = "mcap",
    progress: Callable[[int], Any] | None = None,
    on_chunk: Callable[[CameraChunk], Any] | None = None,
) -> BagSummary:
    """Simulate every sensor over the session and write the bag at ``path`` (must not exist).

    ``progress`` is called with the protocol µs done after each chunk, ``on_chunk`` with every
    camera chunk (e.g. to plot event rates).
    """
    start = session.start_ns
    summary = BagSummary(Path(path), session.scene.duration_us / 1e6)
    with BagWriter(path, storage=storage) as bag:  # type: ignore[arg-type]
        ts = bag.typestore
        sims: list[tuple[CameraSimulator, Output]] = []
        for i, sensor in enumerate(sensors):
            sim = CameraSimulator(session.scene, sensor, seed=seed * 1000 + i)
            out = make_output(
                sensor, ts, start_ns=start, seed=seed * 1000 + i, compressed=compressed_webcam
            )
            for topic, msgtype in out.topics.items():
                qos = "sensor_data" if sensor.name == "evk4" else "reliable"
                bag.add_topic(topic, msgtype, qos=qos)  # type: ignore[arg-type]
            sims.append((sim, out))
        bag.add_topic(SESSION_TOPIC, SESSION_INFO, qos="latched")
        bag.add_topic(CONSENT_TOPIC, CONSENT_TYPE, qos="latched")
        bag.add_topic(PROTOCOL_TOPIC, PROTOCOL_EVENT)
        bag.add_topic(GROUND_TRUTH_TOPIC, AU_GROUND_TRUTH)

        def put(msgs: list[OutMessage]) -> None:
            for m in sorted(msgs, key=lambda m: m.log_time_ns):
                bag.write(m.topic, m.log_time_ns, m.data)
                summary.messages[m.topic] = summary.messages.get(m.topic, 0) + 1

        put(
            [
                OutMessage(
                    SESSION_TOPIC, start, session_info_cdr(ts, session.info, stamp_ns=start)
                ),
                OutMessage(CONSENT_TOPIC, start, consent_cdr(ts, session.consent, stamp_ns=start)),
            ]
        )
        pending: list[OutMessage] = [
            OutMessage(PROTOCOL_TOPIC, ev.stamp_ns + 100_000, protocol_event_cdr(ts, ev))
            for ev in session.events
        ]
        pending += [
            OutMessage(
                GROUND_TRUTH_TOPIC,
                start + a.profile.offset_us * 1000,
                ground_truth_cdr(ts, a, subject_id=session.info.subject_id, start_ns=start),
            )
            for a in session.ground_truth
        ]
        pending.sort(key=lambda m: m.log_time_ns)
        streams = [sim.chunks(chunk_us=chunk_us) for sim, _ in sims]
        t_done = 0
        while True:
            msgs: list[OutMessage] = []
            finished = False
            for stream, (_sim, out) in zip(streams, sims, strict=True):
                chunk = next(stream, None)
                if chunk is None:
                    finished = True
                    continue
                msgs.extend(out.convert(chunk))
                if on_chunk is not None:
                    on_chunk(chunk)
                name = out.sensor.name
                summary.events[name] = summary.events.get(name, 0) + int(chunk.events.size)
                t_done = chunk.t1_us
            if finished and not msgs:
                break
            horizon = start + t_done * 1000
            k = 0
            while k < len(pending) and pending[k].log_time_ns < horizon:
                k += 1
            msgs.extend(pending[:k])
            pending = pending[k:]
            put(msgs)
            if progress is not None:
                progress(t_done)
            if finished:
                break
        put(pending)
        for sim, out in sims:
            summary.dropped[out.sensor.name] = out.dropped
            summary.renders[out.sensor.name] = sim.renders
    log.info("wrote %s: %s", path, summary.messages)
    return summary
