"""``microexp export``: session bags → dataset (clips, crops, manifest, LOSO splits, summary).

Each bag is read twice, the second time once over the sensor data:

1. the small topics only (protocol, session info, sync) → labelled segments (:mod:`.session`);
2. one streaming pass over the event and frame topics in log-time order. A clip covers
   [onset − margin, offset + margin] in protocol (ROS) time, onset → offset being the perform
   window or, in simulated bags, the ground truth (``trim``; real recordings are trimmed to the
   expression's event activity once the clip is complete); it is opened when the bag reaches
   its start (minus ``close_slack_s``) and finalised once the bag is ``close_slack_s`` past its
   end, so only open clips hold anything, and they stream to disk (events to HDF5 in 1 M-event
   blocks, frames to .npy): memory does not grow with the bag.

Clips are built in ``<id>.partial`` and renamed when complete (``DONE`` written last); a re-run
skips finished clips and redoes unfinished ones. Existing outputs are never overwritten without
``force`` (:mod:`.output`).

Consent (:mod:`.consent_policy`): each session's recorded consent decides which modalities are
read and written; a session without consent, or whose consent ended, is refused. A shared
export (``share`` keys given) re-keys subject and session ids, names bags by those ids, and
counts times from each session's start (:mod:`.share`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from microexp.consent.scope import ConsentError, Use
from microexp.dataset.bagsource import BagSource, RawMsg
from microexp.dataset.clipwriter import ClipWriter, is_complete
from microexp.dataset.config import ExportConfig, config_to_dict
from microexp.dataset.consent_policy import ExportPolicy, SessionPermit
from microexp.dataset.export_clips import (
    ClipPlan,
    ExportReport,
    finish_clip,
    frame_sink,
    reject,
    reject_reason,
)
from microexp.dataset.finalize import finalize_dataset
from microexp.dataset.manifest import RejectRecord, make_clip_id
from microexp.dataset.output import prepare_output
from microexp.dataset.provenance import source_entry
from microexp.dataset.segments import clip_interval, validate_segments
from microexp.dataset.session import SessionData, read_session
from microexp.dataset.share import ShareKeys
from microexp.dataset.streams import CameraStream
from microexp.dataset.withdrawal import load_withdrawals, withdrawn_on
from microexp.distributed.jobs import Executor, Job
from microexp.errors import BagError, ConfigError, DecodeError, MicroexpError

__all__ = ["ExportReport", "export_bags", "export_one_bag"]

log = logging.getLogger(__name__)


def export_bags(
    bags: Sequence[Path],
    out: Path,
    *,
    config: ExportConfig,
    force: bool = False,
    progress: bool = False,
    policy: ExportPolicy | None = None,
    share: ShareKeys | None = None,
    executor: Executor | None = None,
) -> ExportReport:
    """Export every bag into the dataset ``out``; see the module docstring.

    ``policy``: what each session's consent lets this export write (default: a private export
    of every modality the study allows, judged today). ``share``: re-key ids (a shared export;
    give ``ExportPolicy.share``). ``executor``: the bags of a private export are exported as
    independent jobs there (a bag's clips have ids of their own, so jobs never write the same
    file); default, and always for a shared export: one after the other in this process."""
    policy = policy or ExportPolicy.private(today=dt.date.today())
    if (share is not None) != (policy.use is Use.SHARING):
        raise ConfigError(
            f"export to {out}: a shared dataset needs both the sharing policy and re-keyed ids, "
            f"a private one neither (policy: {policy.use.value}, re-keyed ids: {share is not None})"
        )
    report = ExportReport()
    t0 = time.perf_counter()
    missing = [str(b) for b in bags if not Path(b).exists()]
    if missing:
        raise BagError(f"bag(s) not found: {', '.join(missing)}")
    sources = [source_entry(Path(b)) for b in bags]
    if share is not None:  # no lab path or bag name in a shared dataset
        sources = [
            {"name": f"bag-{i}", "bytes": s["bytes"], "sha256": s["sha256"]}
            for i, s in enumerate(sources)
        ]
    cfg_dict = config_to_dict(config)
    policy_dict = {
        "use": policy.use.value,
        "modalities": sorted(m.value for m in policy.modalities),
    }
    prepare_output(
        out,
        kind="export",
        config={**cfg_dict, "consent_policy": policy_dict},
        sources=sources,
        force=force,
    )
    withdrawals = load_withdrawals(out)
    common: dict[str, Any] = {"out": out, "config": config, "policy": policy,
                              "withdrawals": withdrawals}  # fmt: skip
    if executor is None or share is not None:  # re-keying ids is one table: one bag at a time
        for bag, source in zip(bags, sources, strict=True):
            export_one_bag(bag=Path(bag), source=source, report=report, progress=progress,
                           share=share, **common)  # fmt: skip
    else:  # one job per bag; their reports merged in bag order
        jobs = [Job(key=f"export {Path(b).name}", fn=export_one_bag,
                    kwargs={"bag": Path(b), "source": source, **common})
                for b, source in zip(bags, sources, strict=True)]  # fmt: skip
        for part in executor.run(jobs):
            report.merge(part)
    report.seconds = time.perf_counter() - t0
    extra: dict[str, Any] = {"consent_policy": policy_dict, "consent": report.consent}
    if share is not None:
        extra["share"] = {
            "modalities": policy_dict["modalities"],
            "ids": "subjects and sessions re-keyed; the table is kept in the lab's private export",
            "times": "ns since each session's start (no absolute dates)",
        }
    finalize_dataset(
        out,
        kind="export",
        config=cfg_dict,
        sources=sources if share is None else report.shared_sources,
        rejects=report.rejected,
        extra=extra,
        histogram_png=share is None,
    )
    return report


def export_one_bag(
    *,
    bag: Path,
    out: Path,
    config: ExportConfig,
    policy: ExportPolicy,
    source: Mapping[str, Any],
    withdrawals: list[dict[str, Any]],
    share: ShareKeys | None = None,
    report: ExportReport | None = None,
    progress: bool = False,
) -> ExportReport:
    """Export one bag's clips into ``out`` (prepared by :func:`export_bags`); its report. A bag
    that fails is reported there (``failures``), not raised."""
    report = report if report is not None else ExportReport()
    try:
        _export_bag(bag, out, config, report, progress=progress, policy=policy, share=share,
                    source=source, withdrawals=withdrawals)  # fmt: skip
    except MicroexpError as err:
        report.failures.append(str(err))
        log.error("%s", err)
    return report


def _export_bag(
    bag: Path,
    out: Path,
    cfg: ExportConfig,
    report: ExportReport,
    *,
    progress: bool,
    policy: ExportPolicy,
    share: ShareKeys | None,
    source: Mapping[str, Any],
    withdrawals: list[dict[str, Any]],
) -> None:
    with BagSource(bag) as src:
        try:
            session = read_session(src, cfg)
            _refuse_withdrawn(bag, session.subject, withdrawals)
            permit = policy.permit(session.consent, where=str(bag))
            if permit.excluded:
                report.excluded.append(permit.excluded)
                return
            _apply_identity(session, bag, share, source, report)
            _refuse_withdrawn(bag, session.subject, withdrawals)
            report.consent.append(
                permit.record(
                    subject=session.subject,
                    session=session.session,
                    source=session.source,
                    shared=share is not None,
                )
            )
            report.warnings.extend(permit.warnings)
            _export_source(src, bag, out, cfg, report, session, permit, progress=progress)
        finally:
            for note in src.notes:
                if "cut off" in note or "truncat" in note:
                    report.failures.append(
                        f"{bag}: truncated bag: {note}; segments after the cut "
                        "are missing or rejected"
                    )
                else:
                    report.warnings.append(f"{bag}: {note}")


def _refuse_withdrawn(bag: Path, subject: str, withdrawals: list[dict[str, Any]]) -> None:
    when = withdrawn_on(subject, withdrawals)
    if when:
        raise ConsentError(
            f"{bag}: subject {subject} withdrew from this dataset on {when}; not exported "
            "(`microexp dataset withdraw SUBJECT DATASET --bags DIR` lists the bags to delete)"
        )


def _apply_identity(
    session: SessionData,
    bag: Path,
    share: ShareKeys | None,
    source: Mapping[str, Any],
    report: ExportReport,
) -> None:
    """The ids and time origin a session's files carry: the lab's, or re-keyed for sharing."""
    if share is None:
        session.source = bag.name
        return
    lab_subject = session.subject
    session.subject = share.subject(lab_subject)
    session.session = share.session(lab_subject, session.session)
    session.source = f"{session.subject}_{session.session}"
    session.time_origin_ns = min(e.stamp_ns for e in session.events)
    session.shared = True
    report.shared_sources.append(
        {"name": session.source, "bytes": source["bytes"], "sha256": source["sha256"]}
    )


def _export_source(
    src: BagSource,
    bag: Path,
    out: Path,
    cfg: ExportConfig,
    report: ExportReport,
    session: SessionData,
    permit: SessionPermit,
    *,
    progress: bool,
) -> None:
    where = f"{session.source} {cfg.protocol_topic}"
    plans: list[ClipPlan] = []
    checked, errors = validate_segments(session.segments, where=where)
    for seg, error in zip(checked, errors, strict=True):
        if not seg.valid:
            reject(report, bag, session, seg, seg.reason, error=error)
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
        start, end, how = clip_interval(
            seg, truth=session.truth, mode=cfg.trim.mode, margin_ns=cfg.margin_ns
        )
        plans.append(ClipPlan(cid, seg, start, end, trim_source=how))
    cams = []
    for c in cfg.cameras:
        # topics the consent does not let this export read are never opened
        events = c.events_topic if permit.reads_events(c) else ""
        frames = c.frames_topic if permit.reads_frames(c) else ""
        present = [t for t in (events, frames) if t and t in src.topics]
        absent = [t for t in (events, frames) if t and t not in src.topics]
        if absent:
            report.warnings.append(f"{bag.name}: camera {c.name}: topic(s) {absent} not in the bag")
        if present:
            cs = CameraStream(
                c.name,
                events if events in src.topics else "",
                frames if frames in src.topics else "",
                session.sync_offsets_ns.get(c.name, 0),
                cfg.offset_window_packets,
                c.frame_clock,
                keep_frames=permit.keeps_frames(c),
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
    plans: list[ClipPlan],
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
    active: list[ClipPlan] = []
    bar = tqdm(total=total, unit="msg", desc=bag.name, disable=not progress, mininterval=1.0)
    done_msgs = 0
    bad: dict[str, tuple[str, int]] = {}  # topic -> (first error, count)
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
            try:
                _route(src, msg, by_events, by_frames, active, cfg)
            except DecodeError as err:  # one bad message: note it, keep going
                first, n = bad.get(msg.topic, (str(err), 0))
                bad[msg.topic] = (first, n + 1)
                for p in active:
                    p.decode_errors += 1
            for p in [p for p in active if p.end_ns + slack < now]:
                active.remove(p)
                finish_clip(p, bag, out, cfg, session, cams, report)
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
                    session.source,
                    session.subject,
                    session.session,
                    p.segment.segment_index,
                    p.segment.attempt,
                    p.segment.label,
                    reject_reason(session, f"bag unreadable here: {err}"),
                )
            )
        return
    finally:
        bar.close()
        for topic, (first, n) in bad.items():
            report.failures.append(
                f"{bag}: {n} undecodable message(s) on {topic} skipped; first: {first}"
            )
    for p in pending:  # segments after the last sensor message
        p.writer = ClipWriter(out / "clips" / p.clip_id, start_ns=p.start_ns, end_ns=p.end_ns)
        active.append(p)
    for p in active:
        finish_clip(p, bag, out, cfg, session, cams, report)
    report.events += sum(c.events_seen for c in cams)


def _route(
    src: BagSource,
    msg: RawMsg,
    by_events: dict[str, CameraStream],
    by_frames: dict[str, CameraStream],
    active: list[ClipPlan],
    cfg: ExportConfig,
) -> None:
    """Decode one sensor message and hand its events or frame to the open clips."""
    cam = by_events.get(msg.topic)
    if cam is not None:
        got = cam.events(msg)  # decoded even without open clips: decoders keep stream state
        if got is None or not active:
            return
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
        return
    if active:
        cam = by_frames[msg.topic]
        img, stamp = cam.frame(src, msg)
        for p in active:
            if p.start_ns <= stamp < p.end_ns:
                frame_sink(p, cam.name, cfg, keep=cam.keep_frames).add(img, stamp)
