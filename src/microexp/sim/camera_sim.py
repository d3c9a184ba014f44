"""One simulated camera looking at a :class:`~microexp.sim.scene.Scene`, streamed in time chunks.

:class:`CameraSimulator` renders the scene at the camera's resolution at an adaptive internal
rate (``render_hz_active`` while something moves fast, ``render_hz_idle`` otherwise), feeds event
sensors with the rendered irradiance, and builds intensity frames (DAVIS APS, webcam) by
averaging the renders that fall inside each exposure. Memory stays bounded: one chunk at a time.
Event and frame times are in *sensor* time: protocol µs + ``sensor.clock_offset_us``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from microexp.events.types import EVENT_DTYPE, EventArray
from microexp.sim.event_camera import EventCameraModel
from microexp.sim.face import FaceRenderer
from microexp.sim.scene import Scene
from microexp.sim.sensors import SensorProfile

__all__ = ["CameraChunk", "CameraSimulator", "SimFrame", "to_display"]

_RGB_TINT = np.array([1.0, 0.86, 0.74], dtype=np.float32)


@dataclass(frozen=True, slots=True)
class SimFrame:
    """An intensity frame: ``t_us`` = exposure start (sensor time), pixels uint8 (gamma 2.2)."""

    t_us: int
    exposure_us: int
    protocol_t_us: int  # exposure end on the protocol clock (when the host gets it)
    pixels: npt.NDArray[np.uint8]


@dataclass(slots=True)
class CameraChunk:
    """What one camera produced during ``[t0_us, t1_us)`` of protocol time."""

    camera: str
    t0_us: int
    t1_us: int
    events: EventArray = field(default_factory=lambda: np.zeros(0, dtype=EVENT_DTYPE))
    frames: list[SimFrame] = field(default_factory=list)
    renders: int = 0


def to_display(irradiance: npt.NDArray[np.floating], *, rgb: bool = False) -> npt.NDArray[np.uint8]:
    """Linear irradiance in [0, 1] -> 8-bit gamma-2.2 pixels (grey, or tinted RGB)."""
    v = np.power(np.clip(irradiance, 0.0, 1.0), 1.0 / 2.2, dtype=np.float32)
    if rgb:
        v = v[..., None] * _RGB_TINT
    return (v * 255.0 + 0.5).astype(np.uint8)


class CameraSimulator:
    """A camera over a scene; call :meth:`chunks` once (a generator over the whole scene)."""

    def __init__(self, scene: Scene, sensor: SensorProfile, *, seed: int) -> None:
        self.scene = scene
        self.sensor = sensor
        self.renderer = FaceRenderer(
            scene.subject, width=sensor.width, height=sensor.height, zoom=sensor.zoom
        )
        self.model = (
            EventCameraModel(
                sensor.event_config, width=sensor.width, height=sensor.height, seed=seed
            )
            if sensor.events
            else None
        )
        self.renders = 0

    def irradiance_at(self, t_us: int) -> npt.NDArray[np.float32]:
        """The rendered scene (linear irradiance) at protocol time ``t_us``."""
        self.renders += 1
        img = self.renderer.render(self.scene.params_at(t_us))
        img *= self.scene.illumination_at(t_us)
        return img

    def _frame_windows(self, t_end_us: int) -> list[tuple[int, int]]:
        s = self.sensor
        if s.frame_fps <= 0:
            return []
        period = 1e6 / s.frame_fps
        n = int((t_end_us - s.exposure_us) // period) + 1
        return [(round(i * period), round(i * period) + s.exposure_us) for i in range(max(n, 0))]

    def chunks(self, *, chunk_us: int = 1_000_000) -> Iterator[CameraChunk]:
        """Simulate ``[0, scene.duration_us)`` and yield one :class:`CameraChunk` per chunk."""
        if self.sensor.events:
            yield from self._event_chunks(chunk_us)
        else:
            yield from self._frame_chunks(chunk_us)

    def _frame(self, acc: npt.NDArray[np.float32], cnt: int, ws: int, we: int) -> SimFrame:
        off = self.sensor.clock_offset_us
        return SimFrame(ws + off, we - ws, we, to_display(acc / cnt, rgb=self.sensor.rgb))

    def _event_chunks(self, chunk_us: int) -> Iterator[CameraChunk]:
        s = self.sensor
        assert self.model is not None
        end = self.scene.duration_us
        idle = max(int(1e6 / s.render_hz_idle), 1)
        active = max(int(1e6 / s.render_hz_active), 1)
        windows = self._frame_windows(end)
        wi = 0
        acc: npt.NDArray[np.float32] | None = None
        cnt = 0
        t = 0
        img = self.irradiance_at(0)
        self.model.reset(img, 0)
        if windows and windows[0][0] == 0:
            acc, cnt = img.copy(), 1
        c0 = 0
        while c0 < end:
            c1 = min(c0 + chunk_us, end)
            start_renders = self.renders
            parts: list[EventArray] = []
            frames: list[SimFrame] = []
            while t < c1:
                dt = active if self.scene.is_busy(t, t + idle) else idle
                t_next = min(t + dt, c1)
                img = self.irradiance_at(t_next)
                ev = self.model.step(img, t_next)
                if ev.size:
                    parts.append(ev)
                t = t_next
                # exposures: finish those that ended, accumulate into the open one
                while wi < len(windows) and windows[wi][1] < t:
                    ws, we = windows[wi]
                    if cnt == 0:
                        acc, cnt = self.irradiance_at((ws + we) // 2), 1
                    assert acc is not None
                    frames.append(self._frame(acc, cnt, ws, we))
                    acc, cnt, wi = None, 0, wi + 1
                if wi < len(windows) and windows[wi][0] <= t <= windows[wi][1]:
                    acc = img.copy() if acc is None else acc + img
                    cnt += 1
            events = np.concatenate(parts) if parts else np.zeros(0, dtype=EVENT_DTYPE)
            if s.clock_offset_us:
                events["t"] += s.clock_offset_us
            yield CameraChunk(s.name, c0, c1, events, frames, self.renders - start_renders)
            c0 = c1

    def _frame_chunks(self, chunk_us: int) -> Iterator[CameraChunk]:
        end = self.scene.duration_us
        windows = self._frame_windows(end)
        wi = 0
        c0 = 0
        while c0 < end:
            c1 = min(c0 + chunk_us, end)
            start_renders = self.renders
            frames: list[SimFrame] = []
            while wi < len(windows) and windows[wi][1] < c1:
                ws, we = windows[wi]
                n_sub = 3 if self.scene.is_busy(ws, we) else 1
                times = [ws + int((j + 0.5) * (we - ws) / n_sub) for j in range(n_sub)]
                acc = self.irradiance_at(times[0])
                for tj in times[1:]:
                    acc += self.irradiance_at(tj)
                frames.append(self._frame(acc, n_sub, ws, we))
                wi += 1
            yield CameraChunk(
                self.sensor.name, c0, c1, frames=frames, renders=self.renders - start_renders
            )
            c0 = c1
