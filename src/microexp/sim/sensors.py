"""Sensor profiles of the simulated rig: DAVIS346, Prophesee EVK4, webcam."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from microexp.errors import ConfigError
from microexp.sim.event_camera import EventCameraConfig

__all__ = [
    "EVK4_START_US",
    "SENSOR_NAMES",
    "SensorProfile",
    "davis346",
    "evk4",
    "rig_profiles",
    "sensor_profile",
    "webcam",
]

SensorName = Literal["davis", "evk4", "webcam"]
SENSOR_NAMES: tuple[str, ...] = ("davis", "evk4", "webcam")


@dataclass(frozen=True, slots=True)
class SensorProfile:
    """One simulated camera.

    ``events``: an event sensor (``event_config`` applies); ``frame_fps`` > 0 adds intensity
    frames (DAVIS APS grey frames, webcam RGB) averaged over ``exposure_us``. ``render_hz_idle``
    and ``render_hz_active`` are the internal frame rates of the renderer when the face is still
    and when something moves fast (an AU, a blink, a flash); events are interpolated in between.
    ``clock_offset_us``: sensor clock minus protocol clock. ``drop_rate``: probability that an
    output message is lost (to test loss detection).
    """

    name: str
    width: int
    height: int
    events: bool
    frame_fps: float = 0.0
    exposure_us: int = 10_000
    rgb: bool = False
    zoom: float = 1.0
    event_config: EventCameraConfig = field(default_factory=EventCameraConfig)
    render_hz_idle: float = 100.0
    render_hz_active: float = 400.0
    clock_offset_us: int = 0
    drop_rate: float = 0.0
    packet_us: int = 1000  # event packet period (dv-ros2 time_increment / metavision threshold)

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ConfigError(
                f"sensor {self.name}: size must be positive, got {self.width}x{self.height}"
            )
        if not self.events and self.frame_fps <= 0:
            raise ConfigError(f"sensor {self.name}: neither events nor frames")
        if self.frame_fps > 0 and self.exposure_us > 1e6 / self.frame_fps:
            raise ConfigError(
                f"sensor {self.name}: exposure {self.exposure_us} µs longer than "
                f"the frame period at {self.frame_fps} fps"
            )
        if not 0.0 <= self.drop_rate < 1.0:
            raise ConfigError(f"sensor {self.name}: drop_rate {self.drop_rate} not in [0, 1)")

    def with_(self, **changes: object) -> SensorProfile:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def davis346(*, aps_fps: float = 25.0, exposure_us: int = 10_000) -> SensorProfile:
    """iniVation DAVIS346: 346x260 events and synchronous grey APS frames."""
    return SensorProfile(
        "davis",
        346,
        260,
        events=True,
        frame_fps=aps_fps,
        exposure_us=exposure_us,
        event_config=EventCameraConfig(
            c_on=0.2,
            c_off=0.2,
            c_sigma=0.03,
            refractory_us=100,
            ba_rate_hz=0.1,
            hot_pixel_fraction=1e-4,
        ),
    )


def evk4() -> SensorProfile:
    """Prophesee EVK4 (IMX636): 1280x720 events, no frames."""
    return SensorProfile(
        "evk4",
        1280,
        720,
        events=True,
        zoom=1.0,
        event_config=EventCameraConfig(
            c_on=0.25,
            c_off=0.25,
            c_sigma=0.02,
            refractory_us=50,
            ba_rate_hz=0.05,
            hot_pixel_fraction=2e-5,
        ),
    )


def webcam(*, width: int = 320, height: int = 240, fps: float = 30.0) -> SensorProfile:
    """A webcam (RGB frames), by default small; the paper's is 1920x1080 at up to 60 fps."""
    return SensorProfile(
        "webcam",
        width,
        height,
        events=False,
        frame_fps=fps,
        exposure_us=int(0.5e6 / fps),
        rgb=True,
        zoom=0.9,
    )


def sensor_profile(name: str, **kwargs: object) -> SensorProfile:
    """The default profile of a camera name (``davis``, ``evk4``, ``webcam``)."""
    if name == "davis":
        return davis346(**kwargs)  # type: ignore[arg-type]
    if name == "evk4":
        return evk4()
    if name == "webcam":
        return webcam(**kwargs)  # type: ignore[arg-type]
    raise ConfigError(f"unknown camera {name!r} (known: {', '.join(SENSOR_NAMES)})")


EVK4_START_US = 3_000_000
"""Sensor time of the EVK4 at session start by default (its clock starts with the camera)."""


def rig_profiles(
    names: Sequence[str],
    *,
    start_ns: int,
    offsets_us: Mapping[str, int] | None = None,
    drop_rate: float = 0.0,
    webcam_size: tuple[int, int] = (320, 240),
    webcam_fps: float = 30.0,
    davis_aps_fps: float = 25.0,
) -> list[SensorProfile]:
    """Profiles of the named cameras with their sensor clocks set as the real drivers have them.

    DAVIS time is UNIX µs (dv-processing), so its clock offset is the session start in µs plus
    ``offsets_us["davis"]``; EVK4 time counts from camera start (:data:`EVK4_START_US` before the
    session) plus ``offsets_us["evk4"]``. Extra offsets test the synchronisation.
    """
    offsets = dict(offsets_us or {})
    unknown = sorted(set(offsets) - set(names))
    if unknown:
        raise ConfigError(f"clock offset for camera(s) {unknown} not in {list(names)}")
    out: list[SensorProfile] = []
    for name in names:
        if name == "davis":
            prof = davis346(aps_fps=davis_aps_fps)
            base = start_ns // 1000
        elif name == "evk4":
            prof, base = evk4(), EVK4_START_US
        elif name == "webcam":
            prof = webcam(width=webcam_size[0], height=webcam_size[1], fps=webcam_fps)
            base = start_ns // 1000
        else:
            raise ConfigError(f"unknown camera {name!r} (known: {', '.join(SENSOR_NAMES)})")
        out.append(
            prof.with_(clock_offset_us=base + int(offsets.get(name, 0)), drop_rate=drop_rate)
        )
    return out
