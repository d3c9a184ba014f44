"""Inference node: raw event messages -> the core's :class:`microexp.stream.StreamingEngine` ->
``microexp_msgs/AuPrediction`` per 33 ms slice (and an optional rgb8 debug image).

Events arrive as serialized CDR (``raw=True``, sensor-data QoS) and are decoded with numpy by a
long-lived :class:`microexp.stream.intake.EventIntake` (dv EventArray or EventPacket of any
supported encoding), which counts every rejected message by cause: on ``/diagnostics`` each second
and in the summary the node logs on exit (with slices, events and the latency p50/p99). With ``image_topic`` set (frames of the same sensor, e.g. the DAVIS
grey frames), a face tracker gives the crop box; else ``roi`` (or the stream config's) is used.
"""

from __future__ import annotations

import os

# Per-slice steps are short: OpenMP threads spinning between them (the default) burn the other
# cores and multiply the latency on a busy machine (bench/stream_latency.py). Before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import time
from dataclasses import dataclass, replace

import cv2
import torch
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from microexp_msgs.msg import AuPrediction
from rclpy.node import Node
from sensor_msgs.msg import Image

from microexp.bagio.event_topics import EVENT_TYPES
from microexp.errors import ConfigError, DecodeError
from microexp.stream.config import StreamConfig, load_stream_config
from microexp.stream.engine import SlicePrediction, StreamingEngine, warm_up
from microexp.stream.intake import EventIntake, Rejection
from microexp.stream.predictor import Predictor
from microexp.stream.render import render_debug
from microexp.stream.replay import StampMapper, face_tracker_for
from microexp_ros._node_utils import params_to_dataclass, qos_preset, raw_subscription, run_node

__all__ = ["InferenceNode", "InferenceParams", "main"]


@dataclass(frozen=True)
class InferenceParams:
    checkpoint: str
    events_topic: str = "/davis/events"
    events_type: str = "dv_ros2_msgs/msg/EventArray"
    predictions_topic: str = "/microexp/au_predictions"
    image_topic: str = ""  # frames of the event sensor -> tracked face box ("" = fixed roi)
    detector: str = "dlib_hog"  # dlib_hog, bright_ellipse
    debug_image_topic: str = ""  # "" = no debug image
    config: str = (
        ""  # stream config YAML (config/infer/stream.yaml; "" = defaults, checkpoint's size)
    )
    roi: tuple[int, ...] = ()  # x, y, w, h in sensor pixels (overrides the config's)
    backend: str = "fast"
    threads: int = 2  # torch intra-op threads (OMP_WAIT_POLICY=PASSIVE is set, see above)
    idle_close_ms: float = 200.0  # close slices once the stream is silent this long (0 = never)

    def __post_init__(self) -> None:
        if self.events_type not in EVENT_TYPES:
            raise ConfigError(
                f"inference_node: events_type {self.events_type!r} not in {EVENT_TYPES}"
            )
        if self.roi and len(self.roi) != 4:
            raise ConfigError(f"inference_node: roi must be [x, y, w, h], got {list(self.roi)}")
        if self.threads < 1 or self.idle_close_ms < 0:
            raise ConfigError("inference_node: threads must be >= 1 and idle_close_ms >= 0")


class InferenceNode(Node):
    def __init__(self) -> None:
        super().__init__("inference_node")
        p = self.params = params_to_dataclass(self, InferenceParams)
        # publishers first: they exist while the model loads (ros2 topic echo finds the type)
        self._pub = self.create_publisher(
            AuPrediction,
            p.predictions_topic,
            qos_preset("reliable", depth=100),  # 3 s at 33 ms
        )
        self._debug = (
            self.create_publisher(Image, p.debug_image_topic, qos_preset("sensor_data"))
            if p.debug_image_topic
            else None
        )
        self._diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.intake = EventIntake(topic=p.events_topic, msgtype=p.events_type)
        torch.set_num_threads(p.threads)
        self.predictor = Predictor.from_checkpoint(p.checkpoint, backend=p.backend)  # type: ignore[arg-type]
        config = (
            load_stream_config(p.config) if p.config else StreamConfig(size=self.predictor.size)
        )
        if p.roi:
            x, y, w, h = (int(v) for v in p.roi)
            config = replace(config, crop="fixed", roi=(x, y, w, h))
        if p.image_topic:
            config = replace(config, crop="tracked")
        self.config = config
        warm_up(self.predictor, config=config)
        self._last_activity_ns = 0  # monotonic time the last event callback ended
        self.mapper = StampMapper()
        self.engine: StreamingEngine | None = None
        self.tracker = None
        self._box: object | None = None
        if p.image_topic:
            from microexp.dataset.config import DetectorConfig

            self.tracker = face_tracker_for(DetectorConfig(kind=p.detector))  # type: ignore[arg-type]
            self.create_subscription(
                Image, p.image_topic, self._on_image, qos_preset("sensor_data")
            )
        raw_subscription(
            self,
            p.events_type,
            p.events_topic,
            self._on_events,
            qos_preset("sensor_data", depth=100),
        )
        self.create_timer(1.0, self._publish_diagnostics)
        if p.idle_close_ms > 0:
            self.create_timer(0.05, self._on_idle)
        self.get_logger().info(
            f"ready: {p.events_topic} ({p.events_type}) -> {p.predictions_topic}, "
            f"{len(self.predictor.classes)} classes, crop {config.crop}"
        )

    def _on_events(self, data: bytes) -> None:
        try:
            self._handle_events(data)
        finally:
            self._last_activity_ns = time.monotonic_ns()

    def _handle_events(self, data: bytes) -> None:
        entry = time.monotonic_ns()
        now = self.get_clock().now().nanoseconds
        chunk = self.intake.accept(data, receive_ns=now)
        if isinstance(chunk, Rejection):
            self._log_rejection(chunk)
            return
        if self.engine is None:
            self.engine = StreamingEngine(
                self.predictor, config=self.config, width=chunk.width, height=chunk.height,
                face_tracker=self.tracker,
            )  # fmt: skip
            if self._box is not None:
                self.engine.update_face_box(self._box)
        ev = chunk.events
        if ev.size == 0:
            return
        offset = self.mapper.update(
            t_first_us=int(ev["t"][0]),
            t_last_us=int(ev["t"][-1]),
            stamp_ns=chunk.stamp_ns,
            receive_ns=now,
        )
        self._publish(self.engine.push_events(ev, now_ns=entry, stamp_offset_ns=offset), entry)

    def _log_rejection(self, r: Rejection) -> None:
        text = f"rejected ({r.cause}, {r.count} so far): {r.reason}"
        if r.count == 1:  # the first of each cause always shows; all are counted
            self.get_logger().warning(text)
        else:
            self.get_logger().warning(text, throttle_duration_sec=5.0)

    def _publish_diagnostics(self) -> None:
        stats = self.intake.stats
        arr = DiagnosticArray()
        arr.header.stamp = self.get_clock().now().to_msg()
        arr.status.append(
            DiagnosticStatus(
                name=f"{self.get_name()}: {self.params.events_topic}",
                hardware_id=self.params.events_topic,
                level=DiagnosticStatus.WARN if stats.rejected_total else DiagnosticStatus.OK,
                message=f"{stats.messages} msgs, {stats.slices} slices, "
                f"{stats.rejected_total} rejected",
                values=[KeyValue(key=k, value=v) for k, v in stats.as_strings().items()],
            )
        )
        self._diag.publish(arr)

    def close(self) -> None:
        self.get_logger().info(f"summary: {self.intake.stats.describe()}")

    def _on_image(self, msg: Image) -> None:
        from microexp.dataset.streams import decode_image

        try:
            img, _ = decode_image(msg, "sensor_msgs/msg/Image", where=self.params.image_topic)
        except DecodeError as err:
            self.get_logger().warning(str(err), throttle_duration_sec=10.0)
            return
        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        assert self.tracker is not None
        self._box = self.tracker.update(gray)
        if self.engine is not None:
            self.engine.update_face_box(self._box)

    def _on_idle(self) -> None:
        """Close slices while no event message comes (none arrived for ``idle_close_ms``)."""
        entry = time.monotonic_ns()
        idle_ns = int(self.params.idle_close_ms * 1e6)
        if self.engine is None or entry - self._last_activity_ns < idle_ns:
            return
        now = self.get_clock().now().nanoseconds
        quiet_us = (now - self.mapper.offset_ns) // 1000 - int(self.params.idle_close_ms * 1000)
        self._publish(self.engine.advance_to(quiet_us, now_ns=entry), entry)

    def _publish(self, preds: list[SlicePrediction], entry_ns: int) -> None:
        for pr in preds:
            sec, nanosec = divmod(pr.stamp_ns, 1_000_000_000)
            msg = AuPrediction(
                source_topic=self.params.events_topic,
                au_codes=list(pr.labels),
                scores=pr.scores.tolist(),
                topk=[lb for lb, _ in pr.topk],
                topk_scores=[s for _, s in pr.topk],
                onsets=list(pr.onsets),
                offsets=list(pr.offsets),
                emotion=pr.emotion or "",
                emotion_score=pr.emotion_score,
                events_in_slice=pr.events_in_slice,
                face_found=pr.face_box is not None,
                face_box=list(pr.face_box or ()),
            )
            msg.header.stamp = Time(sec=sec, nanosec=nanosec)
            msg.latency_ms = (time.monotonic_ns() - entry_ns) / 1e6
            self._pub.publish(msg)
            self.intake.stats.observe_prediction(msg.latency_ms)
        if self._debug is not None and preds and self.engine is not None:
            rgb = render_debug(
                self.engine.last_frame,
                preds[-1],
                width=self.engine.width,
                height=self.engine.height,
            )
            img = Image(
                height=rgb.shape[0], width=rgb.shape[1], encoding="rgb8", step=rgb.shape[1] * 3
            )
            img.header.stamp = msg.header.stamp
            img.data = rgb.tobytes()
            self._debug.publish(img)


def main(args: list[str] | None = None) -> int:
    return run_node(InferenceNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
