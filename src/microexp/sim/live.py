"""A simulated camera paced by a clock: the core of the ROS ``sim_camera`` node (no rclpy here).

:class:`LiveCamera` simulates chunk after chunk as the clock passes their end and hands back the
driver messages (CDR bytes) to publish, stamped in the clock's time base (ROS time). With a plan
it also yields the session's ground truth on ``/microexp/ground_truth``; without one the subject
sits still (blinks and head sway only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from microexp.bagio.typestore import build_typestore
from microexp.errors import ConfigError
from microexp.protocol.plan import load_plan
from microexp.sim.bag import AU_GROUND_TRUTH, GROUND_TRUTH_TOPIC, ground_truth_cdr, make_output
from microexp.sim.camera_sim import CameraSimulator
from microexp.sim.driver_output import OutMessage
from microexp.sim.sensors import SensorProfile, rig_profiles
from microexp.sim.session import SessionSimConfig, idle_scene, simulate_session
from microexp.sim.subject import Subject

__all__ = ["LiveCamera", "LiveCameraConfig"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveCameraConfig:
    """What the live simulated camera shows (the ROS node's parameters)."""

    camera: Literal["davis", "evk4", "webcam"] = "davis"
    subject: str = "sim01"
    seed: int = 0
    plan: str = ""  # plan YAML; "" = idle face
    duration_s: float = 3600.0  # length of the idle scene (the plan sets its own)
    width: int = 0  # 0 = the sensor's own size
    height: int = 0
    fps: float = 0.0  # frame rate (DAVIS APS, webcam); 0 = the profile's default
    compressed: bool = False  # webcam: JPEG CompressedImage
    chunk_ms: int = 50  # simulation / publishing granularity
    clock_offset_us: int = 0  # extra sensor clock offset
    drop_rate: float = 0.0
    start_ns: int = 0  # ROS time at which the scene (the plan) starts; 0 = when the node starts
    flash_gain: float = 0.4  # sync flash: illumination x (1 + gain) on the face

    def __post_init__(self) -> None:
        if self.camera not in ("davis", "evk4", "webcam"):
            raise ConfigError(f"sim_camera: camera {self.camera!r} not one of davis, evk4, webcam")
        if self.chunk_ms <= 0 or self.duration_s <= 0:
            raise ConfigError(
                f"sim_camera: chunk_ms ({self.chunk_ms}) and duration_s ({self.duration_s}) "
                "must be > 0"
            )
        if (self.width > 0) != (self.height > 0):
            raise ConfigError(
                f"sim_camera: give both width and height, got {self.width}x{self.height}"
            )


class LiveCamera:
    """Long-lived; call :meth:`poll` with the current time as often as you like."""

    def __init__(self, config: LiveCameraConfig, *, start_ns: int) -> None:
        self.config = config
        self.start_ns = start_ns
        c = config
        kwargs: dict[str, object] = {}
        if c.camera == "webcam":
            if c.width > 0:
                kwargs["webcam_size"] = (c.width, c.height)
            if c.fps > 0:
                kwargs["webcam_fps"] = c.fps
        elif c.camera == "davis" and c.fps > 0:
            kwargs["davis_aps_fps"] = c.fps
        (sensor,) = rig_profiles(
            [c.camera], start_ns=start_ns, offsets_us={c.camera: c.clock_offset_us},
            drop_rate=c.drop_rate, **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip
        if c.width > 0 and c.camera != "webcam":
            sensor = sensor.with_(width=c.width, height=c.height)
        self.sensor: SensorProfile = sensor
        self.ground_truth: list[OutMessage] = []
        typestore = build_typestore(distro="jazzy")
        if c.plan:
            path = Path(c.plan)
            session = simulate_session(
                load_plan(path),
                SessionSimConfig(
                    c.subject, seed=c.seed, start_ns=start_ns, flash_gain=c.flash_gain
                ),
            )
            scene = session.scene
            self.ground_truth = [
                OutMessage(
                    GROUND_TRUTH_TOPIC,
                    start_ns + a.profile.offset_us * 1000,
                    ground_truth_cdr(typestore, a, subject_id=c.subject, start_ns=start_ns),
                )
                for a in session.ground_truth
            ]
        else:
            subject = Subject.from_seed(c.subject, seed=c.seed)
            scene = idle_scene(subject, duration_us=int(c.duration_s * 1e6), seed=c.seed)
        self.duration_us = scene.duration_us
        self._sim = CameraSimulator(scene, sensor, seed=c.seed)
        self._output = make_output(sensor, typestore, start_ns=start_ns, seed=c.seed,
                                   compressed=c.compressed)  # fmt: skip
        self._chunks = self._sim.chunks(chunk_us=c.chunk_ms * 1000)
        self._done_us = 0
        self.finished = False

    @property
    def topics(self) -> dict[str, str]:
        """Topic -> message type of everything :meth:`poll` can return."""
        out = dict(self._output.topics)
        if self.ground_truth or self.config.plan:
            out[GROUND_TRUTH_TOPIC] = AU_GROUND_TRUTH
        return out

    @property
    def dropped(self) -> int:
        """Messages dropped so far (``drop_rate``), never published."""
        return int(self._output.dropped)

    @property
    def published(self) -> int:
        """Messages handed out so far (the drop decision passed)."""
        return int(self._output.sent)

    @property
    def dropped_seqs(self) -> list[int]:
        """``seq`` of every dropped EventPacket (EVK4 only; other cameras have no seq)."""
        return list(getattr(self._output, "dropped_seqs", []))

    @property
    def lag_us(self) -> int:
        """How far the simulation trails the clock at the last poll (0 when keeping up)."""
        return self._lag_us

    _lag_us = 0

    def poll(self, now_ns: int) -> list[OutMessage]:
        """Messages of every chunk that ended by ``now_ns``, in publishing order."""
        out: list[OutMessage] = []
        chunk_us = self.config.chunk_ms * 1000
        while not self.finished and self.start_ns + (self._done_us + chunk_us) * 1000 <= now_ns:
            chunk = next(self._chunks, None)
            if chunk is None:
                self.finished = True
                break
            out.extend(self._output.convert(chunk))
            self._done_us = chunk.t1_us
            if len(out) > 10_000:
                break
        horizon = self.start_ns + self._done_us * 1000
        while self.ground_truth and self.ground_truth[0].log_time_ns <= horizon:
            out.append(self.ground_truth.pop(0))
        self._lag_us = max(0, (now_ns - horizon) // 1000 - chunk_us)
        out.sort(key=lambda m: m.log_time_ns)
        return out
