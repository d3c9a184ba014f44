"""Recorder node: raw subscriptions (QoS adapted to each publisher) -> rosbag2 bag via the core's
:class:`microexp.recording.SessionRecorder`; stats on /diagnostics; SIGINT closes a complete bag.

Each message reaches the core with the DDS publication sequence number of its message info: lost
messages are counted from its gaps (and from EventPacket ``seq``), as defined in
:mod:`microexp.recording.stats`. rclpy before Iron passes no message info: there only EventPacket
losses are counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile
from rclpy.subscription import Subscription

from microexp.recording import (
    RecorderState,
    SessionRecorder,
    adapt_qos,
    recorder_config_from_params,
)
from microexp_ros._node_utils import (
    drain_pending,
    offered_qos,
    qos_preset,
    raw_subscription,
    run_node,
)

__all__ = ["RecorderNode", "main"]

_PARAMS: dict[str, Any] = {
    "output": Parameter.Type.STRING,
    "topics": Parameter.Type.STRING_ARRAY,
    "types": Parameter.Type.STRING_ARRAY,
    "qos": Parameter.Type.STRING_ARRAY,
    "wait_for": Parameter.Type.STRING_ARRAY,
    "storage": "mcap",
    "compression": "",
    "depth": 1000,
    "require_consent": True,
    "session_topic": "/microexp/session",
    "stats_period_s": 1.0,
    "subscribe_on_start": Parameter.Type.STRING_ARRAY,
}


def _subscription_qos(preset: str, *, depth: int) -> QoSProfile:
    """Reliable topics with KEEP_ALL: the reader keeps every sample until the recorder takes it
    (and acknowledges it at once), so a recorder that stalls slows a reliable publisher down
    instead of losing its messages, as a KEEP_LAST reader does once ``depth`` are queued (measured:
    1,297 of 5,114 lost after a 3 s stall at 1 kHz with depth 1000; none with KEEP_ALL). Best
    effort and latched topics keep the preset's KEEP_LAST."""
    profile = qos_preset(preset, depth=depth)
    if preset == "reliable":
        profile.history = HistoryPolicy.KEEP_ALL
    return profile


class RecorderNode(Node):
    def __init__(self) -> None:
        super().__init__("recorder")
        params: dict[str, Any] = {}
        for name, default in _PARAMS.items():
            self.declare_parameter(name, default)
            value = self.get_parameter_or(name, Parameter(name, Parameter.Type.NOT_SET)).value
            if value is not None:
                params[name] = list(value) if isinstance(value, list | tuple) else value
        self.config = recorder_config_from_params(
            params, source=f"node {self.get_fully_qualified_name()}"
        )
        self.core = SessionRecorder(self.config)
        self._subs: dict[str, Any] = {}
        self._diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._last_reasons: list[str] = []
        self._received = 0
        self.create_timer(0.1, self._subscribe_discovered)
        self.create_timer(self.config.stats_period_s, self._publish_stats)
        self._subscribe_discovered()

    def _now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _subscribe_discovered(self) -> None:
        """Subscribe to each topic once its publishers are known, matching their offered QoS."""
        for name, spec in self.core.specs.items():
            if name in self._subs:
                continue
            offered = offered_qos(self, name)
            if spec.qos == "auto" and not offered:
                continue
            preset = adapt_qos(offered) if spec.qos == "auto" else spec.qos
            if spec.on_start and self.core.state is RecorderState.WAITING:
                # subscribed once recording starts: a publisher that waits for our subscription
                # (the protocol node, wait_for_subscribers) starts with the recording
                continue
            self.core.set_offered_qos(name, preset)
            self._subs[name] = raw_subscription(
                self,
                spec.msgtype,
                name,
                self._raw_callback(name),
                _subscription_qos(preset, depth=self.config.depth),
            )
            self.get_logger().info(f"subscribed {name} [{spec.msgtype}] qos={preset}")

    def _raw_callback(self, topic: str) -> Callable[..., None]:
        if not hasattr(Subscription, "CallbackType"):  # Humble: callbacks get no message info
            return lambda data: self._on_raw(topic, data, None)
        return lambda data, info: self._on_raw(topic, data, info)

    def _on_raw(self, topic: str, data: bytes, info: dict[str, Any] | None) -> None:
        self._received += 1
        before = self.core.state
        dds_seq = info.get("publication_sequence_number") if info else None
        self.core.on_message(topic, data, self._now_ns(), dds_seq=dds_seq)
        if before is RecorderState.WAITING and self.core.state is RecorderState.RECORDING:
            self.get_logger().info(f"recording started: {self.config.output}")
            self._subscribe_discovered()
        elif before is not RecorderState.CLOSED and self.core.state is RecorderState.CLOSED:
            self.get_logger().warning("recording stopped: consent withdrawn")

    def _publish_stats(self) -> None:
        reasons = self.core.waiting_for()
        if reasons and reasons != self._last_reasons:
            self.get_logger().info("waiting: " + "; ".join(reasons))
        self._last_reasons = reasons
        arr = DiagnosticArray()
        arr.header.stamp = self.get_clock().now().to_msg()
        top = DiagnosticStatus(
            name=f"{self.get_name()}: state",
            hardware_id=self.config.output,
            level=DiagnosticStatus.OK if not reasons else DiagnosticStatus.WARN,
            message=self.core.state.value if not reasons else "; ".join(reasons),
        )
        arr.status.append(top)
        for snap in self.core.snapshots():
            arr.status.append(
                DiagnosticStatus(
                    name=f"{self.get_name()}: {snap.topic}",
                    hardware_id=self.config.output,
                    level=DiagnosticStatus.WARN if snap.lost else DiagnosticStatus.OK,
                    message=f"{snap.messages} msgs, {snap.lost} lost",
                    values=[KeyValue(key=k, value=v) for k, v in snap.as_strings().items()],
                )
            )
        self._diag.publish(arr)

    def drain(self) -> None:
        """After SIGINT: write what DDS already delivered (e.g. the protocol's last segment end)."""
        n = drain_pending(self, progress=lambda: self._received)
        if n:
            self.get_logger().info(f"wrote {n} messages that were pending at shutdown")

    def close(self) -> None:
        snaps = self.core.close(now_ns=self._now_ns())
        for snap in snaps:
            self.get_logger().info(snap.describe())
        self._publish_stats()  # the final counts, also live: /diagnostics agrees with this log


def main(args: list[str] | None = None) -> int:
    return run_node(RecorderNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
