"""``microexp export``: session bags → dataset (clips, crops, manifest, LOSO splits, summary).

Each bag is read twice, the second time once over the sensor data:

1. the small topics only (protocol, session info, sync) → labelled segments (:mod:`.session`);
2. one streaming pass over the event and frame topics in log-time order. A clip covers
   [onset − margin, offset + margin] in protocol (ROS) time; it is opened when the bag reaches
   its start (minus ``close_slack_s``) and finalised once the bag is ``close_slack_s`` past its
   end, so only open clips hold anything, and they stream to disk (events to HDF5 in 1 M-event
   blocks, frames to .npy): memory does not grow with the bag.

Clips are built in ``<id>.partial`` and renamed when complete (``DONE`` written last); a re-run
skips finished clips and redoes unfinished ones. Existing outputs are never overwritten without
``force`` (:mod:`.output`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from microexp.dataset.atomic import atomic_write_npy
from microexp.dataset.bagsource import BagSource
from microexp.dataset.clipwriter import ClipWriter, FrameSink, is_complete
from microexp.dataset.config import ExportConfig, config_to_dict
from microexp.dataset.finalize import finalize_dataset
from microexp.dataset.manifest import ClipRecord, RejectRecord, make_clip_id
from microexp.dataset.output import prepare_output
from microexp.dataset.provenance import source_entry
from microexp.dataset.segments import Segment, offset_ns, onset_ns, validate_segments
from microexp.dataset.session import SessionData, read_session
from microexp.dataset.streams import CameraStream
from microexp.errors import BagError, DecodeError, MicroexpError
from microexp.faces.detectors import make_detector
from microexp.faces.mapping import ViewMapping
from microexp.faces.tracker import FaceTracker
from microexp.faces.types import Box

__all__ = ["ExportReport", "export_bags"]

log = logging.getLogger(__name__)


@dataclass
class ExportReport:
    """What an export did; ``ok`` is False when any bag or segment failed."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rejected: list[RejectRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    events: int = 0
    bytes_read: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def text(self) -> str:
        lines = [
            f"clips written: {len(self.written)}, skipped (already done): {len(self.skipped)}, "
            f"rejected: {len(self.rejected)}, failures: {len(self.failures)}"
        ]
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
class _Plan:
    clip_id: str
    segment: Segment
    start_ns: int
    end_ns: int
    writer: ClipWriter | None = None


def export_bags(
    bags: Sequence[Path],
    out: Path,
    *,
    config: ExportConfig,
    force: bool = False,
    progress: bool = False,
) -> ExportReport:
    """Export every bag into the dataset ``out``; see the module docstring."""
    report = ExportReport()
    t0 = time.perf_counter()
    missing = [str(b) for b in bags if not Path(b).exists()]
    if missing:
        raise BagError(f"bag(s) not found: {', '.join(missing)}")
    sources = [source_entry(Path(b)) for b in bags]
    cfg_dict = config_to_dict(config)
    prepare_output(out, kind="export", config=cfg_dict, sources=sources, force=force)
    for bag in bags:
        try:
            _export_bag(Path(bag), out, config, report, progress=progress)
        except MicroexpError as err:
            report.failures.append(str(err))
            log.error("%s", err)
    report.seconds = time.perf_counter() - t0
    finalize_dataset(out, kind="export", config=cfg_dict, sources=sources, rejects=report.rejected)
    return report


def _reject(
    report: ExportReport, src: Path, s: SessionData, seg: Segment, reason: str, *, error: bool
) -> None:
    report.rejected.append(
        RejectRecord(
            src.name, s.subject, s.session, seg.segment_index, seg.attempt, seg.label, reason
        )
    )
    if error:
        report.failures.append(
            f"{src}: segment {seg.segment_index} attempt {seg.attempt} ({seg.label}): {reason}"
        )


def _export_bag(
    bag: Path, out: Path, cfg: ExportConfig, report: ExportReport, *, progress: bool
) -> None:
    with BagSource(bag) as src:
        try:
            _export_source(src, bag, out, cfg, report, progress=progress)
        finally:
            for note in src.notes:
                if "cut off" in note or "truncat" in note:
                    report.failures.append(
                        f"{bag}: truncated bag: {note}; segments after the cut "
                        "are missing or rejected"
                    )
                else:
                    report.warnings.append(f"{bag}: {note}")


def _export_source(
    src: BagSource, bag: Path, out: Path, cfg: ExportConfig, report: ExportReport, *, progress: bool
) -> None:
    session = read_session(src, cfg)
    where = f"{bag.name} {cfg.protocol_topic}"
    plans: list[_Plan] = []
    checked, errors = validate_segments(session.segments, where=where)
    for seg, error in zip(checked, errors, strict=True):
        if not seg.valid:
            _reject(report, bag, session, seg, seg.reason, error=error)
            continue
        cid = make_clip_id(
            subject=session.subject,
            session=session.session,
            label=seg.label,
            segment_index=seg.segment_index,
            attempt=seg.attempt,
        )
        if is_complete(out / "clips" / cid):
            report.skipped.append(cid)
            continue
        plans.append(_Plan(cid, seg, onset_ns(seg) - cfg.margin_ns, offset_ns(seg) + cfg.margin_ns))
    cams = []
    for c in cfg.cameras:
        present = [t for t in (c.events_topic, c.frames_topic) if t and t in src.topics]
        absent = [t for t in (c.events_topic, c.frames_topic) if t and t not in src.topics]
        if absent:
            report.warnings.append(f"{bag.name}: camera {c.name}: topic(s) {absent} not in the bag")
        if present:
            cs = CameraStream(
                c.name,
                c.events_topic if c.events_topic in src.topics else "",
                c.frames_topic if c.frames_topic in src.topics else "",
                session.sync_offsets_ns.get(c.name, 0),
                cfg.offset_window_packets,
                c.frame_clock,
            )
            cs.attach(src)
            cams.append(cs)
    if not plans:
        return
    _stream(src, bag, out, cfg, session, cams, plans, report, progress=progress)


def _stream(
    src: BagSource,
    bag: Path,
    out: Path,
    cfg: ExportConfig,
    session: SessionData,
    cams: list[CameraStream],
    plans: list[_Plan],
    report: ExportReport,
    *,
    progress: bool,
) -> None:
    by_events = {c.events_topic: c for c in cams if c.events_topic}
    by_frames = {c.frames_topic: c for c in cams if c.frames_topic}
    topics = [*by_events, *by_frames]
    total = sum(n for t, n in src.message_counts.items() if t in topics)
    slack = round(cfg.close_slack_s * 1e9)
    pending = sorted(plans, key=lambda p: p.start_ns)
    active: list[_Plan] = []
    bar = tqdm(total=total, unit="msg", desc=bag.name, disable=not progress, mininterval=1.0)
    done_msgs = 0
    try:
        for msg in src.messages(topics):
            now = msg.log_time_ns
            while pending and pending[0].start_ns - slack <= now:
                p = pending.pop(0)
                p.writer = ClipWriter(
                    out / "clips" / p.clip_id, start_ns=p.start_ns, end_ns=p.end_ns
                )
                active.append(p)
            report.bytes_read += len(msg.data)
            cam = by_events.get(msg.topic)
            if cam is not None:
                got = cam.events(msg)
                if got is not None and active:
                    pkt, offset = got
                    t = pkt.events["t"]
                    t_min, t_max = int(t.min()), int(t.max())
                    for p in active:
                        assert p.writer is not None
                        p.writer.add_events(
                            cam.name,
                            pkt.events,
                            offset_ns=offset,
                            width=pkt.width,
                            height=pkt.height,
                            t_min=t_min,
                            t_max=t_max,
                        )
            else:
                cam = by_frames[msg.topic]
                if active:
                    img, stamp = cam.frame(src, msg)
                    for p in active:
                        if p.start_ns <= stamp < p.end_ns:
                            _frame_sink(p, cam.name, cfg).add(img, stamp)
            for p in [p for p in active if p.end_ns + slack < now]:
                active.remove(p)
                _finish(p, bag, out, cfg, session, cams, report)
            done_msgs += 1
            if done_msgs % 512 == 0:
                bar.update(512)
    except (BagError, DecodeError) as err:
        report.failures.append(f"{err}; {len(active) + len(pending)} clip(s) not written")
        for p in active:
            assert p.writer is not None
            p.writer.abort()
        for p in [*active, *pending]:
            report.rejected.append(
                RejectRecord(
                    bag.name,
                    session.subject,
                    session.session,
                    p.segment.segment_index,
                    p.segment.attempt,
                    p.segment.label,
                    f"bag unreadable here: {err}",
                )
            )
        return
    finally:
        bar.close()
    for p in pending:  # segments after the last sensor message
        p.writer = ClipWriter(out / "clips" / p.clip_id, start_ns=p.start_ns, end_ns=p.end_ns)
        active.append(p)
    for p in active:
        _finish(p, bag, out, cfg, session, cams, report)
    report.events += sum(c.events_seen for c in cams)


def _frame_sink(p: _Plan, camera: str, cfg: ExportConfig) -> FrameSink:
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
            p.writer.dir, camera, tracker, cfg.crop_size, d.margin, d.max_side
        )
    return sinks[camera]


def _event_box(
    cam: CameraStream, p: _Plan, cfg: ExportConfig, by_name: dict[str, CameraStream]
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
            mapping = ViewMapping.scaling(
                src_name, cam.name, src_size=(sw, sh), dst_size=(cam.width, cam.height)
            )
            how = "scaled (no view mapping configured)"
        return mapping.map_box(box), f"mapped:{src_name} {how}"
    return Box(0, 0, max(1, cam.width), max(1, cam.height)), "whole_sensor (no face found)"


def _finish(
    p: _Plan,
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
        _reject(
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
    w.close_sinks()
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
    sensors = sorted(set(w.events) | set(w.frames))
    counts = {n: s.count for n, s in w.events.items()}
    record = ClipRecord(
        clip_id=p.clip_id,
        subject=session.subject,
        session=session.session,
        label=seg.label,
        au_numbers=";".join(str(n) for n in seg.au_numbers),
        attempt=seg.attempt,
        start_ns=p.start_ns,
        end_ns=p.end_ns,
        duration_s=round((p.end_ns - p.start_ns) / 1e9, 6),
        sensors=";".join(sensors),
        lighting=session.lighting,
        lux=float(session.lux),
        glasses=session.glasses,
        events_davis=counts.get("davis", 0),
        events_evk4=counts.get("evk4", 0),
        noisy=False,
        source=bag.name,
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
        "start_ns": p.start_ns,
        "end_ns": p.end_ns,
        "onset_ns": onset_ns(seg),
        "offset_ns": offset_ns(seg),
        "segment_start_ns": seg.start_ns,
        "segment_end_ns": seg.end_ns,
        "lighting": session.lighting,
        "lux": None if np.isnan(session.lux) else float(session.lux),
        "glasses": session.glasses,
        "sensors": sensors,
        "events": counts,
        "frames": {n: len(f.times_ns) for n, f in w.frames.items()},
        "sensor_size": {n: [by_name[n].width, by_name[n].height] for n in w.events},
        "event_face_box": boxes,
        "time_offset_ns": {
            c.name: c.estimator.offset_ns - c.sync_offset_ns for c in cams if c.events_topic
        },
        "sync_offset_ns": {c.name: c.sync_offset_ns for c in cams},
        "slice_us": cfg.slice_us,
        "crop_size": cfg.crop_size,
        "source": bag.name,
        "manifest": asdict(record),
    }
    w.finish(label)
    report.written.append(p.clip_id)
