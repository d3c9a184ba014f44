"""First pass over a session bag: the small topics (protocol, session info, consent, sync
offsets and, in simulated bags, the ground truth). A bag from before consent scopes
(``SessionInfo.consent`` only) reads as :func:`~microexp.consent.scope.legacy_scope`."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from microexp.consent.record import CONSENT_TYPE, recorded_scope
from microexp.consent.scope import ConsentScope
from microexp.dataset.bagsource import BagSource
from microexp.dataset.config import ExportConfig
from microexp.dataset.segments import Segment, TruthAction, segments_from_events
from microexp.errors import BagError, ConfigError
from microexp.protocol.events import ProtocolEvent, event_from_msg, session_from_msg

__all__ = ["CAMERA_SYNC", "SYNC_SUMMARY", "SessionData", "read_session"]

log = logging.getLogger(__name__)

CAMERA_SYNC = "microexp_msgs/msg/CameraSync"
SYNC_SUMMARY = "microexp_msgs/msg/SyncSummary"
SESSION_INFO = "microexp_msgs/msg/SessionInfo"
AU_GROUND_TRUTH = "microexp_msgs/msg/AuGroundTruth"


@dataclass
class SessionData:
    subject: str
    session: str
    lighting: str = ""
    lux: float = math.nan
    glasses: bool = False
    segments: list[Segment] = field(default_factory=list)
    sync_offsets_ns: dict[str, int] = field(default_factory=dict)  # camera time − protocol time
    events: list[ProtocolEvent] = field(default_factory=list)
    consent: ConsentScope | None = None  # None: no consent recorded (or consent=false)
    # what the dataset's files name and count from (set by the export; re-keyed when shared)
    source: str = ""  # the bag's name, or "<subject>_<session>" in a shared dataset
    time_origin_ns: int = 0  # subtracted from every ROS time written (shared: session start)
    shared: bool = False  # written into a dataset that leaves the lab
    truth: list[TruthAction] = field(default_factory=list)  # simulated bags only


def read_session(src: BagSource, cfg: ExportConfig) -> SessionData:
    """Protocol events → segments, session info and sync offsets, reading only the small topics.

    Raises :class:`BagError` naming the bag when it has no protocol topic or no segments.
    """
    where = f"{src.path}"
    if cfg.protocol_topic not in src.topics:
        raise BagError(
            f"{where}: no protocol topic {cfg.protocol_topic} (topics: {sorted(src.topics)}); "
            "cannot label clips"
        )
    sync_topics = [t for t, ty in src.topics.items() if ty in (CAMERA_SYNC, SYNC_SUMMARY)]
    truth_topics = [t for t, ty in src.topics.items() if ty == AU_GROUND_TRUTH]
    session_topics = (
        [cfg.session_topic]
        if cfg.session_topic in src.topics
        else [t for t, ty in src.topics.items() if ty == SESSION_INFO]
    )
    session_topics += [t for t, ty in src.topics.items() if ty == CONSENT_TYPE]
    events: list[ProtocolEvent] = []
    offsets: dict[str, list[int]] = {}
    info = info_msg = consent_msg = None
    truth: list[TruthAction] = []
    for msg in src.messages([cfg.protocol_topic, *sync_topics, *session_topics, *truth_topics]):
        m = src.deserialize(msg)
        if msg.topic == cfg.protocol_topic:
            events.append(event_from_msg(m))
        elif msg.msgtype == AU_GROUND_TRUTH:
            truth.append(TruthAction(str(m.label), int(m.onset_ns), int(m.offset_ns)))
        elif msg.msgtype == SESSION_INFO:
            info, info_msg = session_from_msg(m), m
        elif msg.msgtype == CONSENT_TYPE:
            consent_msg = m
        elif msg.msgtype == CAMERA_SYNC:
            offsets.setdefault(str(m.camera), []).append(int(m.offset_ns))
        else:
            for o in m.offsets:
                offsets.setdefault(str(o.camera), []).append(int(o.offset_ns))
    if not events:
        raise BagError(f"{where}: protocol topic {cfg.protocol_topic} has no messages")
    subject = (
        info.subject_id
        if info and info.subject_id
        else next((e.subject_id for e in events if e.subject_id), Path(src.path).stem)
    )
    session = (
        info.session_id
        if info and info.session_id
        else next((e.session_id for e in events if e.session_id), Path(src.path).stem)
    )
    data = SessionData(
        subject=subject,
        session=session,
        events=events,
        segments=segments_from_events(events),
        sync_offsets_ns={c: int(np.median(v)) for c, v in offsets.items()},
        truth=truth,
    )
    try:
        scope = recorded_scope(consent_msg=consent_msg, session_msg=info_msg, where=where)
    except ConfigError as err:
        raise BagError(str(err)) from err
    if scope is not None and scope.subject_id and scope.subject_id != subject:
        raise BagError(
            f"{where}: consent record of subject {scope.subject_id!r} in a session of {subject!r}"
        )
    data.consent = scope
    if info is not None:
        data.lighting, data.lux, data.glasses = info.lighting, info.lux, info.glasses
    else:
        log.warning(
            "%s: no SessionInfo message; subject %r taken from the protocol", where, subject
        )
    return data
