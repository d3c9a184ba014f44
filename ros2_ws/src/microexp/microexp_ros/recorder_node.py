"""Recorder node: raw subscriptions (QoS adapted to each publisher) -> rosbag2 bag via the core's
:class:`microexp.recording.SessionRecorder`; stats on /diagnostics; SIGINT closes a complete bag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from rclpy.parameter import Parameter

try:  # Iron and later
    from rclpy.event_handler import SubscriptionEventCallbacks
except ImportError:  # Humble
    from rclpy.qos_event import SubscriptionEventCallbacks

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
            events = SubscriptionEventCallbacks(message_lost=self._lost_callback(name))
            self._subs[name] = raw_subscription(
                self,
                spec.msgtype,
                name,
                self._raw_callback(name),
                qos_preset(preset, depth=self.config.depth),
                event_callbacks=events,
            )
            self.get_logger().info(f"subscribed {name} [{spec.msgtype}] qos={preset}")

    def _lost_callback(self, topic: str) -> Callable[[Any], None]:
        return lambda info: self.core.note_qos_lost(topic, int(info.total_count_change))

    def _raw_callback(self, topic: str) -> Callable[[bytes], None]:
        return lambda data: self._on_raw(topic, data)

    def _on_raw(self, topic: str, data: bytes) -> None:
        self._received += 1
        before = self.core.state
        self.core.on_message(topic, data, self._now_ns())
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
            lost = snap.lost_seq + snap.lost_qos
            arr.status.append(
                DiagnosticStatus(
                    name=f"{self.get_name()}: {snap.topic}",
                    hardware_id=self.config.output,
                    level=DiagnosticStatus.WARN if lost else DiagnosticStatus.OK,
                    message=f"{snap.messages} msgs, {lost} lost",
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
            self.get_logger().info(
                f"{snap.topic}: {snap.messages} msgs, lost seq {snap.lost_seq}, "
                f"lost qos {snap.lost_qos}"
            )


def main(args: list[str] | None = None) -> int:
    return run_node(RecorderNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
