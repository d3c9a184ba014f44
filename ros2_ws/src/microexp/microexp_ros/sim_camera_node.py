"""Simulated camera node: publishes what a real driver publishes, from the microexp simulator.

``camera:=davis`` -> ``/davis/events`` (dv_ros2_msgs/EventArray, reliable) and ``/davis/image``;
``camera:=evk4`` -> ``/evk4/events`` (event_camera_msgs/EventPacket evt3, best effort like
metavision_driver); ``camera:=webcam`` -> ``/webcam/image_raw[/compressed]``. With ``plan`` the
subject performs that plan from node start (ground truth on ``/microexp/ground_truth``); without,
an idle face. All messages are CDR bytes built by the core and published raw. Topic names can be
remapped as usual.
"""

from __future__ import annotations

from collections.abc import Sequence

from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import HistoryPolicy

from microexp.sim.live import LiveCamera, LiveCameraConfig
from microexp_ros._node_utils import (
    params_to_dataclass,
    publish_reliably,
    qos_preset,
    raw_publisher,
    run_node,
)

__all__ = ["SimCameraNode", "main"]

_ACK_TIMEOUT_S = 3.0


class SimCameraNode(Node):
    def __init__(self) -> None:
        super().__init__("sim_camera")
        self.params = params_to_dataclass(self, LiveCameraConfig)
        p = self.params
        start_ns = p.start_ns or self.get_clock().now().nanoseconds
        self.core = LiveCamera(p, start_ns=start_ns)
        qos = qos_preset("sensor_data" if p.camera == "evk4" else "reliable", depth=1000)
        if p.camera != "evk4":
            # KEEP_ALL: a catch-up burst when the sim trails exceeds any depth, and a reliable
            # KEEP_LAST writer drops what its readers have not acknowledged yet (measured: 859 of
            # 9,000 lost in bursts of 3,000 with depth 1000; none with KEEP_ALL). A full history
            # makes the sim wait for the recorder (publish_reliably) and trail real time.
            qos.history = HistoryPolicy.KEEP_ALL
        self._pubs: dict[str, Publisher] = {
            topic: raw_publisher(self, msgtype, topic, qos)
            for topic, msgtype in self.core.topics.items()
        }
        self.create_timer(p.chunk_ms / 1000.0 / 2.0, self._tick)
        s = self.core.sensor
        self.get_logger().info(
            f"sim_camera {p.camera} {s.width}x{s.height} subject {p.subject} seed {p.seed} "
            f"{'plan ' + p.plan if p.plan else 'idle face'}: publishing {sorted(self._pubs)}"
        )
        self._warned_lag = False
        self._told_finished = False

    def _tick(self) -> None:
        for msg in self.core.poll(self.get_clock().now().nanoseconds):
            publish_reliably(self._pubs[msg.topic], msg.data)
        if self.core.lag_us > 1_000_000 and not self._warned_lag:
            self._warned_lag = True
            self.get_logger().warning(
                f"simulation trails real time by {self.core.lag_us / 1e6:.1f} s "
                "(lower the resolution or the frame rate)"
            )
        if self.core.finished and not self._told_finished:
            self._told_finished = True
            self.get_logger().info(
                f"scene finished: nothing more to publish; {self._dropped_text()}"
            )

    def _dropped_text(self) -> str:
        seqs = self.core.dropped_seqs
        return (
            f"dropped {self.core.dropped} message(s)"
            + (f", seqs {seqs}" if seqs else "")
            + f"; published {self.core.published}"
        )

    def close(self) -> None:
        # reliable messages are resent until acknowledged, but only while this process lives: a
        # camera stopped with the recorder would lose what was still in flight
        for topic, pub in self._pubs.items():
            if not pub.wait_for_all_acked(Duration(seconds=_ACK_TIMEOUT_S)):
                self.get_logger().warning(f"{topic}: not acknowledged within {_ACK_TIMEOUT_S} s")
        if self.core.dropped:
            self.get_logger().info(self._dropped_text())


def main(args: Sequence[str] | None = None) -> int:
    return run_node(SimCameraNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
