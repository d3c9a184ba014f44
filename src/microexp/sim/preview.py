"""Pictures of the simulator: a subject at the apex of several AUs beside its events, and the
event rate over a session with the protocol segments shaded (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from microexp.events.types import EventArray
from microexp.protocol.labels import Segment
from microexp.sim.au_motion import ActionProfile
from microexp.sim.camera_sim import CameraChunk, CameraSimulator, to_display
from microexp.sim.event_camera import EventCameraConfig
from microexp.sim.scene import PerformedAction, Scene
from microexp.sim.sensors import SensorProfile, davis346
from microexp.sim.subject import Subject

__all__ = [
    "EventRate",
    "RateCollector",
    "event_image",
    "plot_event_rate",
    "render_apex_grid",
    "simulate_action",
]

EventRate = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]  # (bin start s, events/s)


def event_image(events: EventArray, *, width: int, height: int) -> npt.NDArray[np.uint8]:
    """RGB image of accumulated events on white: ON red, OFF blue, both purple."""
    on = np.bincount(
        events["y"][events["p"] == 1].astype(np.int64) * width + events["x"][events["p"] == 1],
        minlength=width * height,
    ).reshape(height, width)
    off = np.bincount(
        events["y"][events["p"] == 0].astype(np.int64) * width + events["x"][events["p"] == 0],
        minlength=width * height,
    ).reshape(height, width)
    img = np.full((height, width, 3), 255, dtype=np.uint8)
    a_on = np.clip(on / 2.0, 0, 1)
    a_off = np.clip(off / 2.0, 0, 1)
    img[..., 0] = (255 * (1 - a_off)).astype(np.uint8)  # red channel stays where ON
    img[..., 1] = (255 * (1 - np.maximum(a_on, a_off))).astype(np.uint8)
    img[..., 2] = (255 * (1 - a_on)).astype(np.uint8)
    return img


def simulate_action(
    subject: Subject,
    label: str,
    au_numbers: tuple[int, ...],
    *,
    sensor: SensorProfile,
    seed: int = 0,
    onset_us: int = 200_000,
    rise_us: int = 150_000,
    hold_us: int = 100_000,
    fall_us: int = 200_000,
) -> tuple[npt.NDArray[np.float32], EventArray, ActionProfile]:
    """Irradiance at the apex and the events of onset..apex for one action on a still face."""
    prof = ActionProfile(
        onset_us, onset_us + rise_us, onset_us + rise_us + hold_us,
        onset_us + rise_us + hold_us + fall_us,
    )  # fmt: skip
    scene = Scene(subject, prof.apex_us + 1, (PerformedAction(label, au_numbers, prof, 0, 1),))
    sim = CameraSimulator(scene, sensor, seed=seed)
    parts = [c.events for c in sim.chunks(chunk_us=10_000_000)]
    events = np.concatenate(parts)
    t = events["t"] - sensor.clock_offset_us
    events = events[(t >= prof.onset_us) & (t <= prof.apex_us)]
    return sim.irradiance_at(prof.apex_us), events, prof


def render_apex_grid(
    path: Path | str,
    *,
    subject: Subject,
    labels: Sequence[tuple[str, tuple[int, ...]]],
    sensor: SensorProfile | None = None,
    seed: int = 0,
    columns: int = 4,
) -> Path:
    """PNG of ``subject`` at the apex of each (label, AU numbers) beside its onset events."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sensor = sensor or davis346()
    quiet = sensor.with_(
        event_config=_without_noise(sensor),
    )
    n = len(labels)
    rows = -(-n // columns)
    fig, axes = plt.subplots(
        rows, 2 * columns, figsize=(3.0 * columns * 2 / 1.3, 2.3 * rows), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    for i, (label, numbers) in enumerate(labels):
        img, events, _ = simulate_action(subject, label, numbers, sensor=quiet, seed=seed)
        r, c = divmod(i, columns)
        axes[r, 2 * c].imshow(to_display(img), cmap="gray", vmin=0, vmax=255)
        axes[r, 2 * c].set_title(f"{label} apex", fontsize=8)
        axes[r, 2 * c + 1].imshow(event_image(events, width=sensor.width, height=sensor.height))
        axes[r, 2 * c + 1].set_title(f"{events.size} events", fontsize=8)
    fig.suptitle(
        f"subject {subject.subject_id}: apex frames and onset events (ON red, OFF blue)",
        fontsize=10,
    )
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _without_noise(sensor: SensorProfile) -> EventCameraConfig:
    from dataclasses import replace

    return replace(sensor.event_config, ba_rate_hz=0.0, hot_pixel_fraction=0.0)


def plot_event_rate(
    path: Path | str,
    *,
    rates: Mapping[str, EventRate],
    segments: Sequence[Segment],
    start_ns: int,
    title: str = "",
) -> Path:
    """PNG of events/s over the session per camera, each segment's perform window shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 3.5))
    for name, (t_s, rate) in rates.items():
        ax.plot(t_s, rate, lw=0.8, label=name)
    for seg in segments:
        if seg.start_ns >= 0 and seg.end_ns >= 0:
            ax.axvspan(
                (seg.start_ns - start_ns) / 1e9,
                (seg.end_ns - start_ns) / 1e9,
                color="0.92",
                zorder=0,
            )
        if seg.perform_start_ns >= 0 and seg.perform_end_ns >= 0:
            a = (seg.perform_start_ns - start_ns) / 1e9
            b = (seg.perform_end_ns - start_ns) / 1e9
            ax.axvspan(a, b, color="tab:orange", alpha=0.25, zorder=0)
            ax.text(
                (a + b) / 2,
                1.0,
                seg.label,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=6,
                rotation=90,
            )
    ax.set_yscale("symlog", linthresh=1e3)
    ax.set_xlabel("session time [s]")
    ax.set_ylabel("events / s")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "event rate (perform windows shaded)", fontsize=10, pad=28)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


class RateCollector:
    """Counts events per camera in ``bin_us`` bins of protocol time; pass it as ``on_chunk``."""

    def __init__(self, *, offsets_us: Mapping[str, int], bin_us: int = 50_000) -> None:
        self.offsets_us = dict(offsets_us)
        self.bin_us = bin_us
        self._counts: dict[str, npt.NDArray[np.int64]] = {}

    def __call__(self, chunk: CameraChunk) -> None:
        if chunk.events.size == 0 and chunk.camera not in self._counts:
            return
        t = chunk.events["t"] - self.offsets_us.get(chunk.camera, 0)
        bins = np.bincount(np.maximum(t, 0) // self.bin_us, minlength=chunk.t1_us // self.bin_us)
        have = self._counts.get(chunk.camera, np.zeros(0, dtype=np.int64))
        if have.size < bins.size:
            have = np.concatenate([have, np.zeros(bins.size - have.size, dtype=np.int64)])
        have[: bins.size] += bins
        self._counts[chunk.camera] = have

    def rates(self) -> dict[str, EventRate]:
        """Per camera: (bin start in s, events per second)."""
        return {
            name: (
                np.arange(c.size) * self.bin_us / 1e6,
                (c * (1e6 / self.bin_us)).astype(np.float64),
            )
            for name, c in self._counts.items()
        }
