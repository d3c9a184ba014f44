"""Writes small but real session bags (mcap, real message types, real CDR) for the export tests.

Truth is kept in Python (``SessionTruth``) so tests compare the export against numbers computed
here, independently of the exporter's reading and time mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from microexp.bagio.messages import build_message, header, image
from microexp.bagio.writer import BagWriter
from microexp.consent.record import CONSENT_TOPIC, CONSENT_TYPE, consent_fields
from microexp.consent.scope import ConsentScope
from microexp.events.evt3 import Evt3Encoder
from microexp.events.types import EVENT_DTYPE
from microexp.protocol.events import EventKind, Phase

S = 1_000_000_000
T0_NS = 1_700_000_000 * S  # ROS time of the session start


@dataclass
class SegmentSpec:
    label: str
    au: tuple[int, ...]
    index: int
    attempt: int = 1
    start_s: float = 0.0  # relative to session start
    perform_s: tuple[float, float] = (1.0, 2.5)  # relative to segment start
    end_s: float = 4.0  # relative to segment start
    invalid: str = ""  # ATTEMPT_INVALID detail ("" = valid)


@dataclass
class SessionTruth:
    events: dict[str, np.ndarray] = field(default_factory=dict)  # ROS-time ns in "t" (int64)
    clock_offset_ns: dict[str, int] = field(default_factory=dict)  # ROS − sensor
    face_box_davis: tuple[int, int, int, int] = (0, 0, 0, 0)
    duration_ns: int = 0


def encode_dv_event_array(ev: np.ndarray, *, stamp_ns: int, width: int, height: int) -> bytes:
    """CDR of dv_ros2_msgs/EventArray (frame_id "davis") built with numpy; ``t`` in µs."""
    frame_id = b"davis\x00"
    head = bytearray(b"\x00\x01\x00\x00")
    sec, nsec = divmod(stamp_ns, S)
    head += np.array([sec], "<i4").tobytes() + np.array([nsec, len(frame_id)], "<u4").tobytes()
    head += frame_id
    head += b"\x00" * ((-(len(head) - 4)) % 4)
    head += np.array([height, width, ev.size], "<u4").tobytes()
    n = ev.size
    if n == 0:
        return bytes(head)
    secs, nsecs = np.divmod(ev["t"].astype(np.int64), 1_000_000)
    first = np.zeros(14, np.uint8)
    first[0:2] = np.frombuffer(np.uint16(ev["x"][0]).tobytes(), np.uint8)
    first[2:4] = np.frombuffer(np.uint16(ev["y"][0]).tobytes(), np.uint8)
    first[4:8] = np.frombuffer(np.int32(secs[0]).tobytes(), np.uint8)
    first[8:12] = np.frombuffer(np.uint32(nsecs[0] * 1000).tobytes(), np.uint8)
    first[12] = ev["p"][0]
    rest = np.zeros(
        n - 1,
        dtype=np.dtype(
            {
                "names": ["x", "y", "s", "ns", "p"],
                "formats": ["<u2", "<u2", "<i4", "<u4", "u1"],
                "offsets": [0, 2, 6, 10, 14],
                "itemsize": 16,
            }
        ),
    )
    rest["x"], rest["y"], rest["p"] = ev["x"][1:], ev["y"][1:], ev["p"][1:]
    rest["s"], rest["ns"] = secs[1:], nsecs[1:] * 1000
    body = first.tobytes()[: 13 if n == 1 else 14] + rest.tobytes()
    if n > 1:
        body = body[:-1]  # the last event has no trailing pad
    return bytes(head) + body


def face_frame(
    w: int, h: int, box: tuple[int, int, int, int], rng: np.random.Generator
) -> np.ndarray:
    """A grey cartoon face (bright ellipse with eyes, nose, mouth) filling ``box``."""
    img = np.full((h, w), 50, np.uint8)
    x, y, bw, bh = box
    cx, cy = x + bw // 2, y + bh // 2
    cv2.ellipse(img, (cx, cy), (bw // 2, bh // 2), 0, 0, 360, 190, -1)
    for ex in (cx - bw // 5, cx + bw // 5):
        cv2.ellipse(img, (ex, cy - bh // 8), (bw // 10, bh // 16), 0, 0, 360, 40, -1)
    cv2.line(img, (cx, cy - bh // 16), (cx, cy + bh // 10), 120, 2)
    cv2.ellipse(img, (cx, cy + bh // 4), (bw // 5, bh // 16), 0, 0, 360, 60, -1)
    noise = rng.integers(0, 6, img.shape, dtype=np.uint8)
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def write_session_bag(
    path: Path,
    *,
    subject: str = "S1",
    session: str = "sess1",
    segments: list[SegmentSpec] | None = None,
    duration_s: float = 12.0,
    seed: int = 0,
    cameras: tuple[str, ...] = ("davis", "evk4", "webcam"),
    with_protocol: bool = True,
    rate_hz: float = 40_000.0,
    davis_gap_s: tuple[float, float] | None = None,
    evk4_sync_offset_ns: int | None = None,
    corrupt_davis_packets: tuple[int, ...] = (),
    consent: ConsentScope | None = None,
    session_consent: bool = True,
    notes: str = "",
) -> SessionTruth:
    """A session bag: protocol + session info + DAVIS events/frames, EVK4 evt3, webcam rgb8.

    ``consent``: a ``microexp_msgs/Consent`` record on /microexp/consent; None writes the layout
    of bags from before consent scopes (``SessionInfo.consent`` = ``session_consent`` only).

    ``evk4_sync_offset_ns``: the EVK4 host clock runs that far ahead of the protocol clock (its
    header stamps are shifted), and a ``microexp_msgs/CameraSync`` on ``/microexp/sync`` says so.
    """
    rng = np.random.default_rng(seed)
    segments = (
        segments
        if segments is not None
        else [SegmentSpec("AU12", (12,), 0, start_s=1.0), SegmentSpec("AU4", (4,), 1, start_s=6.0)]
    )
    truth = SessionTruth(duration_ns=int(duration_s * S))
    truth.clock_offset_ns = {"davis": T0_NS - 5_000_000_000, "evk4": T0_NS - 123_456_000}
    dw, dh, ew, eh = 346, 260, 1280, 720
    truth.face_box_davis = (120, 60, 110, 140)
    with BagWriter(path) as bag:
        ts = bag.typestore
        msgs: list[tuple[int, str, object]] = []  # (log ns, topic, msg or bytes)
        bag.add_topic("/microexp/session", "microexp_msgs/msg/SessionInfo", qos="latched")
        info = build_message(
            ts,
            "microexp_msgs/msg/SessionInfo",
            header=header(ts, stamp_ns=T0_NS),
            subject_id=subject,
            session_id=session,
            plan_name="test",
            glasses=False,
            lux=np.float32(300.0),
            lighting="daylight",
            notes=notes,
            consent=session_consent,
        )
        msgs.append((T0_NS, "/microexp/session", info))
        if consent is not None:
            bag.add_topic(CONSENT_TOPIC, CONSENT_TYPE, qos="latched")
            record = build_message(
                ts, CONSENT_TYPE, header=header(ts, stamp_ns=T0_NS), **consent_fields(consent)
            )
            msgs.append((T0_NS, CONSENT_TOPIC, record))
        if with_protocol:
            bag.add_topic("/microexp/protocol", "microexp_msgs/msg/ProtocolEvent")

            def pe(
                stamp: int,
                kind: EventKind,
                phase: Phase,
                seg: SegmentSpec | None,
                detail: str = "",
                valid: bool = True,
            ) -> None:
                m = build_message(
                    ts,
                    "microexp_msgs/msg/ProtocolEvent",
                    header=header(ts, stamp_ns=stamp),
                    kind=int(kind),
                    phase=int(phase),
                    session_id=session,
                    subject_id=subject,
                    segment_index=seg.index if seg else 0,
                    attempt=seg.attempt if seg else 0,
                    label=seg.label if seg else "",
                    au_numbers=np.array(seg.au if seg else (), np.uint16),
                    valid=valid,
                    detail=detail,
                )
                msgs.append((stamp, "/microexp/protocol", m))

            pe(T0_NS, EventKind.SESSION_START, Phase.NONE, None)
            for seg in segments:
                s0 = T0_NS + int(seg.start_s * S)
                pe(s0, EventKind.SEGMENT_START, Phase.NONE, seg, detail="main")
                pe(s0 + 1, EventKind.PHASE, Phase.COUNTDOWN, seg)
                pe(s0 + int(seg.perform_s[0] * S), EventKind.PHASE, Phase.PERFORM, seg)
                pe(s0 + int(seg.perform_s[1] * S), EventKind.PHASE, Phase.REST, seg)
                if seg.invalid:
                    pe(
                        s0 + int(seg.perform_s[1] * S) + 1,
                        EventKind.ATTEMPT_INVALID,
                        Phase.REST,
                        seg,
                        detail=seg.invalid,
                        valid=False,
                    )
                pe(
                    s0 + int(seg.end_s * S),
                    EventKind.SEGMENT_END,
                    Phase.NONE,
                    seg,
                    valid=not seg.invalid,
                )
            pe(T0_NS + truth.duration_ns, EventKind.SESSION_END, Phase.NONE, None)
        packet_ns = 10_000_000
        n_packets = truth.duration_ns // packet_ns
        if "davis" in cameras:
            bag.add_topic("/davis/events", "dv_ros2_msgs/msg/EventArray", qos="sensor_data")
            bag.add_topic("/davis/image", "sensor_msgs/msg/Image", qos="sensor_data")
            chunks = []
            for i in range(n_packets):
                a = T0_NS + i * packet_ns
                if davis_gap_s and davis_gap_s[0] * S <= a - T0_NS < davis_gap_s[1] * S:
                    continue
                n = int(rng.poisson(rate_hz * packet_ns / S))
                ev = np.zeros(n, EVENT_DTYPE)
                ev["x"], ev["y"] = rng.integers(0, dw, n), rng.integers(0, dh, n)
                ev["p"] = rng.integers(0, 2, n)
                ros = np.sort(rng.integers(a, a + packet_ns, n)) // 1000 * 1000
                ev["t"] = (ros - truth.clock_offset_ns["davis"]) // 1000
                if n:
                    # dv EventArray: stamped once the packet is complete (its last event)
                    stamp = int(ev["t"][-1]) * 1000 + truth.clock_offset_ns["davis"]
                    data = encode_dv_event_array(ev, stamp_ns=stamp, width=dw, height=dh)
                    if i in corrupt_davis_packets:  # cut short: undecodable, events lost
                        msgs.append((a + packet_ns + 2_000_000, "/davis/events", data[:60]))
                        continue
                    msgs.append((a + packet_ns + 2_000_000, "/davis/events", data))
                    tr = ev.copy()
                    tr["t"] = ros
                    chunks.append(tr)
            truth.events["davis"] = np.concatenate(chunks) if chunks else np.zeros(0, EVENT_DTYPE)
            for k in range(int(duration_s * 25)):
                stamp = T0_NS + k * 40_000_000
                if davis_gap_s and davis_gap_s[0] * S <= stamp - T0_NS < davis_gap_s[1] * S:
                    continue
                img = face_frame(dw, dh, truth.face_box_davis, rng)
                sensor_stamp = stamp - truth.clock_offset_ns["davis"]  # APS frames: sensor clock
                msgs.append(
                    (
                        stamp + 5_000_000,
                        "/davis/image",
                        image(ts, pixels=img, stamp_ns=sensor_stamp, frame_id="davis"),
                    )
                )
        if "evk4" in cameras:
            bag.add_topic("/evk4/events", "event_camera_msgs/msg/EventPacket", qos="sensor_data")
            enc = Evt3Encoder()
            chunks = []
            for i in range(n_packets):
                a = T0_NS + i * packet_ns
                n = int(rng.poisson(rate_hz * packet_ns / S))
                ev = np.zeros(n, EVENT_DTYPE)
                ev["x"], ev["y"] = rng.integers(0, ew, n), rng.integers(0, eh, n)
                ev["p"] = rng.integers(0, 2, n)
                ros = np.sort(rng.integers(a, a + packet_ns, n)) // 1000 * 1000
                ev["t"] = (ros - truth.clock_offset_ns["evk4"]) // 1000
                if not n:
                    continue
                payload = np.frombuffer(enc.encode(ev), np.uint8)
                stamp = int(ev["t"][0]) * 1000 + truth.clock_offset_ns["evk4"]
                stamp += evk4_sync_offset_ns or 0
                m = build_message(
                    ts,
                    "event_camera_msgs/msg/EventPacket",
                    header=header(ts, stamp_ns=stamp, frame_id="evk4"),
                    height=eh,
                    width=ew,
                    seq=i,
                    time_base=0,
                    encoding="evt3",
                    is_bigendian=False,
                    events=payload,
                )
                msgs.append((a + packet_ns + 1_000_000, "/evk4/events", m))
                tr = ev.copy()
                tr["t"] = ros
                chunks.append(tr)
            truth.events["evk4"] = np.concatenate(chunks) if chunks else np.zeros(0, EVENT_DTYPE)
        if "webcam" in cameras:
            bag.add_topic("/webcam/image_raw", "sensor_msgs/msg/Image", qos="sensor_data")
            for k in range(int(duration_s * 15)):
                stamp = T0_NS + k * 66_666_667
                g = face_frame(320, 240, (100, 40, 120, 150), rng)
                rgb = np.repeat(g[:, :, None], 3, axis=2)
                msgs.append(
                    (
                        stamp + 3_000_000,
                        "/webcam/image_raw",
                        image(ts, pixels=rgb, stamp_ns=stamp, frame_id="webcam", encoding="rgb8"),
                    )
                )
        if evk4_sync_offset_ns is not None:
            bag.add_topic("/microexp/sync", "microexp_msgs/msg/CameraSync")
            sync = build_message(
                ts,
                "microexp_msgs/msg/CameraSync",
                header=header(ts, stamp_ns=T0_NS + S // 2),
                camera="evk4",
                topic="/evk4/events",
                offset_ns=evk4_sync_offset_ns,
                uncertainty_ns=np.float32(1e5),
                flash_index=0,
            )
            msgs.append((T0_NS + S // 2, "/microexp/sync", sync))
        msgs.sort(key=lambda m: m[0])
        for t, topic, m in msgs:
            if isinstance(m, bytes):
                bag.write(topic, t, m)
            else:
                bag.write_message(topic, t, m)
    return truth


def count_in(truth: SessionTruth, camera: str, start_ns: int, end_ns: int) -> int:
    t = truth.events[camera]["t"]
    return int(((t >= start_ns) & (t < end_ns)).sum())
