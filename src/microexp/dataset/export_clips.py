"""Finishing exported clips: trimming to the expression (``trim.mode: activity``), face boxes
of the event cameras, event frames, label.json, and the export's report (what was written,
skipped, rejected, what failed)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from microexp.dataset.atomic import atomic_write_npy
from microexp.dataset.clipwriter import ClipWriter, FrameSink
from microexp.dataset.config import ExportConfig
from microexp.dataset.manifest import ClipRecord, RejectRecord
from microexp.dataset.segments import Segment, offset_ns, onset_ns
from microexp.dataset.session import SessionData
from microexp.dataset.streams import CameraStream
from microexp.dataset.trim import activity_window, cut_clip
from microexp.faces.detectors import make_detector
from microexp.faces.mapping import ViewMapping
from microexp.faces.tracker import FaceTracker
from microexp.faces.types import Box

__all__ = ["ClipPlan", "ExportReport", "finish_clip", "frame_sink", "reject"]


@dataclass
class ExportReport:
    """What an export did; ``ok`` is False when any bag or segment failed."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # sessions the consent keeps out
    consent: list[dict[str, Any]] = field(default_factory=list)  # dataset.json["consent"]
    shared_sources: list[dict[str, Any]] = field(default_factory=list)  # re-keyed bag entries
    rejected: list[RejectRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    events: int = 0
    bytes_read: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def merge(self, other: ExportReport) -> None:
        """Add ``other`` (another bag's report) to this one (``seconds`` excepted)."""
        for name in ("written", "skipped", "excluded", "consent", "shared_sources", "rejected",
                     "failures", "warnings"):  # fmt: skip
            getattr(self, name).extend(getattr(other, name))
        self.events += other.events
        self.bytes_read += other.bytes_read

    def text(self) -> str:
        lines = [
            f"clips written: {len(self.written)}, skipped (already done): {len(self.skipped)}, "
            f"rejected: {len(self.rejected)}, failures: {len(self.failures)}"
        ]
        lines += [f"  excluded by consent: {e}" for e in self.excluded]
        lines += [
            f"  rejected {r.source} segment {r.segment_index} attempt {r.attempt} "
            f"({r.label}): {r.reason}"
            for r in self.rejected
        ]
        lines += [f"  WARNING {w}" for w in self.warnings]
        lines += [f"  FAILED {f}" for f in self.failures]
        if self.seconds > 0:
            lines.append(
                f"{self.events:,} events in {self.seconds:.1f} s "
                f"({self.events / self.seconds / 1e6:.1f} M events/s)"
            )
        return "\n".join(lines)


@dataclass
class ClipPlan:
    """A clip to write: its segment, interval (ROS ns) and, once open, its writer."""

    clip_id: str
    segment: Segment
    start_ns: int
    end_ns: int
    writer: ClipWriter | None = None
    decode_errors: int = 0
    trim_source: str = "perform_window"  # what the interval was cut to (segments.clip_interval)


_SHAREABLE_REASONS = ("redo", "skip", "abort", "interrupted", "no end", "no perform window",
                      "demo run (not exported)")  # fmt: skip


def reject_reason(s: SessionData, reason: str) -> str:
    """``reason`` as a dataset records it: in a shared dataset only the fixed words of the
    protocol (an operator's free text, bag paths and absolute times stay in the lab)."""
    if not s.shared or reason in _SHAREABLE_REASONS:
        return reason
    return "rejected (the reason is in the lab's private export)"


def reject(
    report: ExportReport, src: Path, s: SessionData, seg: Segment, reason: str, *, error: bool
) -> None:
    report.rejected.append(
        RejectRecord(
            s.source or src.name,
            s.subject,
            s.session,
            seg.segment_index,
            seg.attempt,
            seg.label,
            reject_reason(s, reason),
        )
    )
    if error:
        report.failures.append(
            f"{src}: segment {seg.segment_index} attempt {seg.attempt} ({seg.label}): {reason}"
        )


def frame_sink(p: ClipPlan, camera: str, cfg: ExportConfig, *, keep: bool = True) -> FrameSink:
    """The clip's frame sink of ``camera`` (``keep=False``: faces tracked, nothing written)."""
    assert p.writer is not None
    sinks = p.writer.frames
    if camera not in sinks:
        d = cfg.detector
        tracker = FaceTracker(
            make_detector(d),
            every_n_frames=d.every_n_frames,
            hold_frames=d.hold_frames,
            smoothing=d.smoothing,
        )
        sinks[camera] = FrameSink(
            p.writer.dir, camera, tracker, cfg.crop_size, d.margin, d.max_side, keep=keep
        )
    return sinks[camera]


def _event_box(
    cam: CameraStream, p: ClipPlan, cfg: ExportConfig, by_name: dict[str, CameraStream]
) -> tuple[Box, str]:
    """The face box for ``cam``'s events in clip ``p``, and where it came from."""
    assert p.writer is not None
    own = p.writer.frames.get(cam.name)
    box = own.median_box() if own is not None else None
    if box is not None:
        return box, f"frames:{cam.name}"
    src_name = cfg.box_source.get(cam.name, "")
    other = p.writer.frames.get(src_name)
    box = other.median_box() if other is not None else None
    if box is not None:
        if cam.name in cfg.view_mappings:
            mapping = ViewMapping.from_config(cam.name, cfg.view_mappings[cam.name])
            how = "homography"
        else:
            sw, sh = by_name[src_name].frame_size
            mapping = ViewMapping.centered(
                src_name, cam.name, src_size=(sw, sh), dst_size=(cam.width, cam.height)
            )
            how = "centered (no view mapping configured)"
        return mapping.map_box(box), f"mapped:{src_name} {how}"
    return Box(0, 0, max(1, cam.width), max(1, cam.height)), "whole_sensor (no face found)"


def finish_clip(
    p: ClipPlan,
    bag: Path,
    out: Path,
    cfg: ExportConfig,
    session: SessionData,
    cams: list[CameraStream],
    report: ExportReport,
) -> None:
    w, seg = p.writer, p.segment
    assert w is not None
    event_cams = [c for c in cams if c.events_topic]
    if not any(c.name in w.events for c in event_cams):
        w.abort()
        topics = [c.events_topic for c in event_cams] or ["(no event topic in the bag)"]
        reject(
            report,
            bag,
            session,
            seg,
            f"no events on {', '.join(topics)} in [{p.start_ns}, {p.end_ns}) ns",
            error=True,
        )
        return
    by_name = {c.name: c for c in cams}
    for c in cams:
        if (c.events_topic and c.name not in w.events) or (
            c.frames_topic and c.name not in w.frames
        ):
            report.warnings.append(
                f"{bag.name}: camera {c.name} ({c.events_topic or c.frames_topic}) has no data in "
                f"segment {seg.segment_index} attempt {seg.attempt} [{p.start_ns}, {p.end_ns}) ns"
            )
    origin = session.time_origin_ns
    w.close_sinks(time_origin_ns=origin)
    kept = {n: f for n, f in w.frames.items() if f.keep}
    for name, sink in kept.items():
        # the crops of this camera are blank: say so, don't train on it
        if sink.median_box() is None:
            report.warnings.append(
                f"{bag.name}: camera {name}: no face found in any frame of segment "
                f"{seg.segment_index} attempt {seg.attempt}; its crops are blank "
                f"(detector {cfg.detector.kind!r}, fallback {cfg.detector.fallback or 'none'!r})"
            )
    trim: dict[str, Any] = {"mode": cfg.trim.mode, "source": p.trim_source}
    if cfg.trim.mode == "activity":
        trim.update(_trim_to_activity(p, cfg, cams, time_origin_ns=origin))
    boxes: dict[str, Any] = {}
    for name in w.events:
        box, how = _event_box(by_name[name], p, cfg, by_name)
        atomic_write_npy(
            w.dir / f"evframes_{name}.npy",
            w.event_frames(
                name, box, size=cfg.crop_size, slice_us=cfg.slice_us, margin=cfg.detector.margin
            ),
        )
        boxes[name] = {"box": [box.x, box.y, box.w, box.h], "source": how}
    sensors = sorted(set(w.events) | set(kept))
    counts = {n: s.count for n, s in w.events.items()}
    record = ClipRecord(
        clip_id=p.clip_id,
        subject=session.subject,
        session=session.session,
        label=seg.label,
        au_numbers=";".join(str(n) for n in seg.au_numbers),
        attempt=seg.attempt,
        start_ns=p.start_ns - origin,
        end_ns=p.end_ns - origin,
        duration_s=round((p.end_ns - p.start_ns) / 1e9, 6),
        sensors=";".join(sensors),
        lighting=session.lighting,
        lux=float(session.lux),
        glasses=session.glasses,
        events_davis=counts.get("davis", 0),
        events_evk4=counts.get("evk4", 0),
        noisy=False,
        source=session.source,
        dir=f"clips/{p.clip_id}",
    )
    label = {
        "clip_id": p.clip_id,
        "subject": session.subject,
        "session": session.session,
        "label": seg.label,
        "au_numbers": list(seg.au_numbers),
        "segment_index": seg.segment_index,
        "attempt": seg.attempt,
        "start_ns": p.start_ns - origin,
        "end_ns": p.end_ns - origin,
        "onset_ns": onset_ns(seg) - origin,
        "offset_ns": offset_ns(seg) - origin,
        "segment_start_ns": seg.start_ns - origin,
        "segment_end_ns": seg.end_ns - origin,
        "lighting": session.lighting,
        "lux": None if np.isnan(session.lux) else float(session.lux),
        "glasses": session.glasses,
        "sensors": sensors,
        "events": counts,
        "frames": {n: len(f.times_ns) for n, f in kept.items()},
        "sensor_size": {n: [by_name[n].width, by_name[n].height] for n in w.events},
        "event_face_box": boxes,
        "time_offset_ns": {  # sensor µs · 1000 + this = the times above
            c.name: c.estimator.offset_ns - c.sync_offset_ns - origin
            for c in cams
            if c.events_topic
        },
        "sync_offset_ns": {c.name: c.sync_offset_ns for c in cams},
        "decode_errors": p.decode_errors,
        "trim": trim,
        "slice_us": cfg.slice_us,
        "crop_size": cfg.crop_size,
        "source": session.source,
        "manifest": asdict(record),
    }
    w.finish(label)
    report.written.append(p.clip_id)


def _trim_to_activity(
    p: ClipPlan, cfg: ExportConfig, cams: list[CameraStream], *, time_origin_ns: int
) -> dict[str, Any]:
    """Cut the clip to the burst of face-crop events in the perform window (:mod:`.trim`), with
    the margin on each side; returns what ``label.json`` records about it (times counted from
    ``time_origin_ns``, like every time the dataset holds)."""
    w, seg = p.writer, p.segment
    assert w is not None
    name = cfg.trim.camera
    if name not in w.events:
        return {"source": f"perform_window (no {name} events)"}
    by_name = {c.name: c for c in cams}
    box, _ = _event_box(by_name[name], p, cfg, by_name)
    frames = w.event_frames(
        name, box, size=cfg.crop_size, slice_us=cfg.slice_us, margin=cfg.detector.margin
    )
    counts = frames.reshape(frames.shape[0], -1).sum(axis=1, dtype=np.int64)
    slice_ns = cfg.slice_us * 1000
    perform = (
        (onset_ns(seg) - p.start_ns) // slice_ns,
        -(-(offset_ns(seg) - p.start_ns) // slice_ns),
    )
    win = activity_window(
        counts,
        perform=perform,
        threshold_mad=cfg.trim.threshold_mad,
        merge_gap_slices=cfg.trim.merge_gap_slices,
    )
    if win is None:
        return {"source": "perform_window (no activity above the baseline)"}
    pad = round(cfg.margin_ns / slice_ns)
    old_start = p.start_ns
    start = old_start + max(0, win.start - pad) * slice_ns
    end = min(p.end_ns, old_start + min(counts.size, win.end + pad) * slice_ns)
    new_counts = cut_clip(w.dir, old_start_ns=old_start, new_start_ns=start, new_end_ns=end,
                          time_origin_ns=time_origin_ns)  # fmt: skip
    for cam, n in new_counts.items():
        w.events[cam].count, w.events[cam].t0_ns = n, start - time_origin_ns
    for sink in w.frames.values():
        keep = [start <= t < end for t in sink.times_ns]
        sink.times_ns = [t for t, k in zip(sink.times_ns, keep, strict=True) if k]
        sink.boxes = [b for b, k in zip(sink.boxes, keep, strict=True) if k]
    p.start_ns, p.end_ns = w.start_ns, w.end_ns = start, end
    return {
        "source": "activity",
        "camera": name,
        "expression_start_ns": old_start + win.start * slice_ns - time_origin_ns,
        "expression_end_ns": old_start + win.end * slice_ns - time_origin_ns,
        "baseline_events_per_slice": round(win.baseline, 3),
        "threshold_events_per_slice": round(win.threshold, 3),
    }
