"""Session timelines from a bag: event rate per camera in fixed bins, protocol segments shaded.

Events are decoded with :class:`~microexp.bagio.event_topics.EventTopicDecoder` (one long-lived
decoder per topic) and put on ROS time with the inference replay's per-stream rule
(:class:`~microexp.stream.replay.StampMapper`), so the rate curves line up with the protocol's
segments, which are stamped in ROS time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from microexp.protocol.labels import Segment

__all__ = ["SessionTimeline", "TruthMark", "plot_timelines", "session_timeline"]

PROTOCOL_TOPIC = "/microexp/protocol"
SESSION_TOPIC = "/microexp/session"
GROUND_TRUTH_TOPIC = "/microexp/ground_truth"


@dataclass(frozen=True, slots=True)
class TruthMark:
    label: str
    onset_ns: int
    offset_ns: int


@dataclass
class SessionTimeline:
    """One bag's session: rates per camera (events/s per bin, from ``start_ns``) and its labels."""

    name: str
    start_ns: int
    bin_us: int
    counts: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    truth: list[TruthMark] = field(default_factory=list)

    def rate(self, camera: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(bin start in s since ``start_ns``, events per second)."""
        c = self.counts[camera]
        return np.arange(c.size) * self.bin_us / 1e6, (c * (1e6 / self.bin_us)).astype(np.float64)


def _camera(topic: str) -> str:
    parts = [p for p in topic.split("/") if p]
    return parts[0] if parts else topic


def session_timeline(bag: Path | str, *, bin_us: int = 50_000, name: str = "") -> SessionTimeline:
    """Read ``bag`` once: event rates of every event topic, protocol segments, ground truth."""
    from microexp.bagio.event_topics import EVENT_TYPES, EventTopicDecoder
    from microexp.bagio.reader import open_bag
    from microexp.protocol.events import event_from_msg
    from microexp.protocol.labels import segments_from_events
    from microexp.stream.replay import StampMapper

    with open_bag(bag) as reader:
        topics = reader.topics
        event_topics = [t for t, info in topics.items() if info.msgtype in EVENT_TYPES]
        small = [t for t in (PROTOCOL_TOPIC, SESSION_TOPIC, GROUND_TRUTH_TOPIC) if t in topics]
        decoders = {t: EventTopicDecoder(t) for t in event_topics}
        mappers = {t: StampMapper() for t in event_topics}
        ros_times: dict[str, list[npt.NDArray[np.int64]]] = {t: [] for t in event_topics}
        protocol, truth = [], []
        start_ns: int | None = None
        for raw in reader.messages(topics=[*event_topics, *small]):
            if raw.topic in decoders:
                chunk = decoders[raw.topic].decode(raw)
                t = chunk.events["t"]
                if t.size == 0:
                    continue
                off = mappers[raw.topic].update(
                    t_first_us=int(t[0]), t_last_us=int(t[-1]), stamp_ns=chunk.stamp_ns,
                    receive_ns=raw.log_time_ns,
                )  # fmt: skip
                ros_times[raw.topic].append(t.astype(np.int64) * 1000 + off)
                continue
            msg = reader.deserialize(raw)
            stamp = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
            if raw.topic == SESSION_TOPIC:
                start_ns = stamp if start_ns is None else min(start_ns, stamp)
            elif raw.topic == PROTOCOL_TOPIC:
                protocol.append(event_from_msg(msg))
            else:
                truth.append(TruthMark(str(msg.label), int(msg.onset_ns), int(msg.offset_ns)))
    if start_ns is None:
        stamps = [e.stamp_ns for e in protocol]
        firsts = [int(v[0].min()) for v in ros_times.values() if v]
        start_ns = min(stamps or firsts or [0])
    tl = SessionTimeline(name or Path(bag).name, start_ns, bin_us)
    for topic, parts in ros_times.items():
        if not parts:
            continue
        rel = (np.concatenate(parts) - start_ns) // (bin_us * 1000)
        tl.counts[_camera(topic)] = np.bincount(rel[rel >= 0]).astype(np.int64)
    tl.segments = segments_from_events(protocol)
    tl.truth = truth
    return tl


def plot_timelines(path: Path, timelines: Sequence[SessionTimeline], *, title: str) -> Path:
    """PNG: one row per session, event rate per camera, segments grey, perform windows orange,
    ground-truth onset→offset as a dark bar under each label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(timelines), 1)
    fig, axes = plt.subplots(n, 1, figsize=(12, 2.3 * n + 0.6), sharex=True, squeeze=False)
    colours = {"davis": "tab:blue", "evk4": "tab:purple"}
    for ax, tl in zip(axes[:, 0], timelines, strict=False):
        for cam in sorted(tl.counts):
            t, r = tl.rate(cam)
            ax.plot(t, r, lw=0.7, color=colours.get(cam), label=f"{cam} events/s")
        for seg in tl.segments:
            if seg.start_ns >= 0 and seg.end_ns >= 0:
                ax.axvspan((seg.start_ns - tl.start_ns) / 1e9, (seg.end_ns - tl.start_ns) / 1e9,
                           color="0.93", zorder=0)  # fmt: skip
            if seg.perform_start_ns >= 0 and seg.perform_end_ns >= 0:
                a = (seg.perform_start_ns - tl.start_ns) / 1e9
                b = (seg.perform_end_ns - tl.start_ns) / 1e9
                ax.axvspan(a, b, color="tab:orange", alpha=0.22, zorder=0)
                ax.text((a + b) / 2, 0.98, seg.label, transform=ax.get_xaxis_transform(),
                        ha="center", va="top", fontsize=7)  # fmt: skip
        for m in tl.truth:
            ax.plot([(m.onset_ns - tl.start_ns) / 1e9, (m.offset_ns - tl.start_ns) / 1e9], [0.03, 0.03],
                    transform=ax.get_xaxis_transform(), color="black", lw=3, solid_capstyle="butt")  # fmt: skip
        ax.set_yscale("log")
        ax.set_ylabel(f"{tl.name}\nevents/s", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    axes[-1, 0].set_xlabel("session time [s] (ROS time since session start)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
