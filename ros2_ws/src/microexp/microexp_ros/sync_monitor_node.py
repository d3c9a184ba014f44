"""Sync monitor node: raw camera subscriptions + protocol flashes -> the core's
:class:`microexp.sync.SyncMonitor`; publishes ``/microexp/camera_sync`` and ``/diagnostics``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from microexp_msgs.msg import CameraSync, ProtocolEvent
from rclpy.node import Node

from microexp.errors import ConfigError
from microexp.recording import adapt_qos
from microexp.sync import SyncMonitor
from microexp_ros._node_utils import (
    offered_qos,
    params_to_dataclass,
    qos_preset,
    raw_subscription,
    run_node,
)

__all__ = ["SyncMonitorNode", "SyncMonitorParams", "main"]


@dataclass(frozen=True)
class SyncMonitorParams:
    topics: tuple[str, ...]
    types: tuple[str, ...]
    protocol_topic: str = "/microexp/protocol"
    report_period_s: float = 1.0
    # search window around each flash (onset searched from window/3 before it): shorter than a
    # flash pattern's off time + on time (0.2 s for 0.1 s on / 0.1 s off), or the previous
    # flash's end is taken for the onset
    window_s: float = 0.15

    def __post_init__(self) -> None:
        if len(self.topics) != len(self.types) or not self.topics:
            raise ConfigError(
                f"sync_monitor: topics {list(self.topics)} and types {list(self.types)} "
                "must be equally long and not empty"
            )
        if self.report_period_s <= 0 or self.window_s <= 0:
            raise ConfigError("sync_monitor: report_period_s and window_s must be > 0")


class SyncMonitorNode(Node):
    def __init__(self) -> None:
        super().__init__("sync_monitor")
        self.params = params_to_dataclass(self, SyncMonitorParams)
        p = self.params
        window_ns = int(p.window_s * 1e9)
        self.core = SyncMonitor(
            list(zip(p.topics, p.types, strict=True)), window_ns=window_ns, guard_ns=window_ns // 3
        )
        self._pending_subs = dict(zip(p.topics, p.types, strict=True))
        self._subs: list[Any] = []
        self.create_timer(0.1, self._subscribe_discovered)
        self.create_subscription(
            ProtocolEvent, p.protocol_topic, self._on_protocol, qos_preset("reliable")
        )
        self._sync_pub = self.create_publisher(
            CameraSync, "/microexp/camera_sync", qos_preset("reliable")
        )
        self._diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._flashes = 0
        self.create_timer(p.report_period_s, self._report)

    def _subscribe_discovered(self) -> None:
        """Subscribe to each camera topic once its publishers are known, with their reliability
        (as the recorder): a best-effort subscription to a reliable driver loses the large packets
        of a flash's event burst when the transport is busy."""
        for topic, msgtype in list(self._pending_subs.items()):
            offered = offered_qos(self, topic)
            if not offered:
                continue
            preset = adapt_qos(offered)
            preset = "reliable" if preset == "latched" else preset
            self._subs.append(
                raw_subscription(
                    self,
                    msgtype,
                    topic,
                    self._raw_callback(topic),
                    qos_preset(preset, depth=1000),  # bursts of event packets
                )
            )
            del self._pending_subs[topic]
            self.get_logger().info(f"subscribed {topic} [{msgtype}] qos={preset}")

    def _now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _raw_callback(self, topic: str) -> Callable[[bytes], None]:
        return lambda data: self.core.on_message(topic, data, self._now_ns())

    def _on_protocol(self, msg: ProtocolEvent) -> None:
        if msg.kind == ProtocolEvent.KIND_SYNC_FLASH:
            stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
            self.core.on_flash(flash_index=self._flashes, flash_ns=stamp_ns)
            self._flashes += 1

    def _report(self, *, force: bool = False) -> None:
        for off in self.core.poll(now_ns=self._now_ns(), force=force):
            msg = CameraSync(
                camera=off.camera,
                topic=off.topic,
                offset_ns=off.offset_ns,
                uncertainty_ns=float(off.uncertainty_ns),
                flash_index=off.flash_index,
            )
            msg.header.stamp = self.get_clock().now().to_msg()
            self._sync_pub.publish(msg)
            self.get_logger().info(
                f"flash {off.flash_index}: {off.topic} offset "
                f"{off.offset_ns / 1e6:.3f} ms ± {off.uncertainty_ns / 1e6:.3f}"
            )
        arr = DiagnosticArray()
        arr.header.stamp = self.get_clock().now().to_msg()
        for snap in self.core.snapshots():
            lost = snap.lost
            arr.status.append(
                DiagnosticStatus(
                    name=f"{self.get_name()}: {snap.topic}",
                    level=DiagnosticStatus.WARN
                    if lost or snap.messages == 0
                    else DiagnosticStatus.OK,
                    message=f"{snap.mean_rate_hz:.1f} Hz, lag {snap.mean_lag_ms:.1f} ms, {lost} lost",
                    values=[KeyValue(key=k, value=v) for k, v in snap.as_strings().items()],
                )
            )
        self._diag.publish(arr)

    def close(self) -> None:
        self._report(force=True)


def main(args: list[str] | None = None) -> int:
    return run_node(SyncMonitorNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
