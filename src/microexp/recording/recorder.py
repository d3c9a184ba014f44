"""The session recorder: gates on consent and on every awaited camera, writes raw CDR messages into a
rosbag2 bag through :class:`microexp.bagio.writer.BagWriter`, keeps per-topic stats and closes the
bag with a ``microexp_msgs/SyncSummary``. ROS-free: the ROS node feeds it bytes and arrival times."""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from microexp.bagio.messages import header
from microexp.bagio.typestore import build_typestore
from microexp.bagio.writer import BagWriter, QosPreset
from microexp.errors import DecodeError, OutputExistsError
from microexp.recording.cdr import peek_event_packet_seq, peek_header_stamp_ns
from microexp.recording.config import RecorderConfig, TopicSpec
from microexp.recording.stats import TopicStats, TopicStatsSnapshot

__all__ = ["SESSION_TYPE", "SUMMARY_TOPIC", "RecorderState", "SessionRecorder", "adapt_qos"]

log = logging.getLogger(__name__)

SESSION_TYPE = "microexp_msgs/msg/SessionInfo"
SUMMARY_TOPIC = "/microexp/sync_summary"
SUMMARY_TYPE = "microexp_msgs/msg/SyncSummary"


class RecorderState(enum.Enum):
    WAITING = "waiting"
    RECORDING = "recording"
    CLOSED = "closed"


def adapt_qos(offered: Sequence[tuple[bool, bool]]) -> QosPreset:
    """The subscription QoS that matches every publisher, each given as ``(reliable,
    transient_local)``: reliable/latched only when all publishers offer it (as rosbag2 adapts)."""
    if not offered:
        return "reliable"
    reliable = all(r for r, _ in offered)
    latched = all(t for _, t in offered)
    if reliable and latched:
        return "latched"
    return "reliable" if reliable else "sensor_data"


class SessionRecorder:
    """One recording session. Feed it with :meth:`on_message`; call :meth:`close` at the end."""

    def __init__(self, config: RecorderConfig) -> None:
        self.config = config
        if Path(config.output).exists():
            raise OutputExistsError(f"recorder: {config.output} exists already, not overwriting")
        specs = list(config.topics)
        if all(s.name != config.session_topic for s in specs):
            specs.append(TopicSpec(name=config.session_topic, msgtype=SESSION_TYPE, qos="latched"))
        self.specs: dict[str, TopicSpec] = {s.name: s for s in specs}
        self.state = RecorderState.WAITING
        self.consent: bool | None = None
        self.session_id = ""
        self.stats: dict[str, TopicStats] = {name: TopicStats(topic=name) for name in self.specs}
        self._seen: set[str] = set()
        self._latched: dict[str, tuple[int, bytes, int | None]] = {}
        self._offered: dict[str, QosPreset] = {}
        self._writer: BagWriter | None = None
        self._typestore = build_typestore()

    # --- gate -------------------------------------------------------------------------------
    def waiting_for(self) -> list[str]:
        """Why recording has not started (empty once it has)."""
        if self.state is not RecorderState.WAITING:
            return []
        reasons = [
            f"no message yet on {s.name}"
            for s in self.specs.values()
            if s.wait and s.name not in self._seen
        ]
        if self.config.require_consent and not self.consent:
            reasons.append(
                f"no SessionInfo with consent=true on {self.config.session_topic}"
                + (" (consent=false received)" if self.consent is False else "")
            )
        return reasons

    def set_offered_qos(self, topic: str, preset: QosPreset) -> None:
        """The QoS the node subscribed with (recorded as the offered profile in the bag)."""
        self._offered[topic] = preset

    # --- data -------------------------------------------------------------------------------
    def on_message(
        self, topic: str, data: bytes, arrival_ns: int, *, dds_seq: int | None = None
    ) -> None:
        """One received message (``dds_seq``: its DDS publication sequence number, if known)."""
        spec = self.specs.get(topic)
        if spec is None or self.state is RecorderState.CLOSED:
            return
        if topic == self.config.session_topic:
            self._on_session(data, arrival_ns)
            if self.state is RecorderState.CLOSED:
                return
        self._seen.add(topic)
        if self.state is RecorderState.WAITING:
            latched = self._qos_of(spec) == "latched"
            if latched:
                self._latched[topic] = (arrival_ns, data, dds_seq)
            self._maybe_start()
            if self.state is RecorderState.WAITING or latched:
                return  # a latched message was written by _maybe_start
        self._write(spec, data, arrival_ns, dds_seq)

    def snapshots(self) -> list[TopicStatsSnapshot]:
        return [s.snapshot() for s in self.stats.values()]

    def close(self, *, now_ns: int) -> list[TopicStatsSnapshot]:
        """Write the sync summary and finish the bag (idempotent). Returns the final stats."""
        snaps = self.snapshots()
        if self._writer is not None:
            try:
                self._writer.write_message(SUMMARY_TOPIC, now_ns, self._summary(snaps, now_ns))
            finally:
                self._writer.close()
                self._writer = None
                log.info("recorder: closed %s", self.config.output)
        self.state = RecorderState.CLOSED
        return snaps

    # --- internals --------------------------------------------------------------------------
    def _qos_of(self, spec: TopicSpec) -> QosPreset:
        if spec.qos != "auto":
            return spec.qos
        return self._offered.get(spec.name, "reliable")

    def _on_session(self, data: bytes, arrival_ns: int) -> None:
        try:
            msg: Any = self._typestore.deserialize_cdr(data, SESSION_TYPE)
        except Exception as err:  # rosbags raises several types on bad CDR
            raise DecodeError(
                f"{self.config.session_topic}: bad SessionInfo ({len(data)} bytes)"
            ) from err
        self.consent = bool(msg.consent)
        self.session_id = str(msg.session_id)
        if (
            self.state is RecorderState.RECORDING
            and self.config.require_consent
            and not self.consent
        ):
            log.warning(
                "recorder: consent withdrawn for session %s: closing the bag", self.session_id
            )
            self._write(self.specs[self.config.session_topic], data, arrival_ns)
            self.close(now_ns=arrival_ns)

    def _maybe_start(self) -> None:
        if self.waiting_for():
            return
        path = Path(self.config.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = BagWriter(
            path,
            storage=self.config.storage,
            compression="zstd" if self.config.compression == "zstd" else None,
        )
        writer.__enter__()
        self._writer = writer
        for spec in self.specs.values():
            writer.add_topic(spec.name, spec.msgtype, qos=self._qos_of(spec))
        writer.add_topic(SUMMARY_TOPIC, SUMMARY_TYPE, qos="latched")
        self.state = RecorderState.RECORDING
        log.info("recorder: recording session %r into %s", self.session_id, path)
        for topic, (arrival_ns, data, dds_seq) in sorted(
            self._latched.items(), key=lambda kv: kv[1][0]
        ):
            self._write(self.specs[topic], data, arrival_ns, dds_seq)
        self._latched.clear()

    def _write(
        self, spec: TopicSpec, data: bytes, arrival_ns: int, dds_seq: int | None = None
    ) -> None:
        assert self._writer is not None
        stamp_ns: int | None
        seq: int | None = None
        try:
            stamp_ns = peek_header_stamp_ns(data, what=spec.name)
            if spec.has_seq:
                seq = peek_event_packet_seq(data, what=spec.name)
        except DecodeError as err:
            log.warning("recorder: %s", err)
            stamp_ns = None
        lost = self.stats[spec.name].observe(
            arrival_ns=arrival_ns, size=len(data), stamp_ns=stamp_ns, seq=seq, dds_seq=dds_seq
        )
        if lost:
            log.warning(
                "recorder: %s lost %d message(s) before %s",
                spec.name,
                lost,
                f"seq {seq}" if seq is not None else f"DDS sequence number {dds_seq}",
            )
        self._writer.write(spec.name, arrival_ns, data)

    def _summary(self, snaps: list[TopicStatsSnapshot], now_ns: int) -> Any:
        return self._typestore.types[SUMMARY_TYPE](
            header=header(self._typestore, stamp_ns=now_ns),
            offsets=[],
            topics=[s.topic for s in snaps],
            messages=np.array([s.messages for s in snaps], dtype=np.uint64),
            lost_messages=np.array([s.lost for s in snaps], dtype=np.uint64),
            qos_lost=np.array([s.lost_in_transport for s in snaps], dtype=np.uint64),
            mean_rate_hz=np.array([s.mean_rate_hz for s in snaps], dtype=np.float64),
            mean_lag_ms=np.array(
                [0.0 if math.isnan(s.mean_lag_ms) else s.mean_lag_ms for s in snaps],
                dtype=np.float64,
            ),
        )
