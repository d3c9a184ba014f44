"""``microexp import``: the report's AEDAT4 takes → the same dataset format as ``export``.

Takes are files ``<movement>_<subject>_<take>[_(noise)].aedat4`` (Mayaud & Bouchy, e.g.
``frown_5_1_(noise).aedat4``, ``upper lid raiser_12_2.aedat4``), searched recursively. Movement
names are matched loosely (case, spaces/hyphens/underscores, common variants) to the catalog's
:data:`microexp.aus.MOVEMENT_CODES`; ``(noise)`` takes are imported with ``noisy = True``.

Labels carry no onset: the report's protocol cues the movement with a hand signal 5 s after the
recording starts, so ``onset_ns`` = start + ``onset_s`` and ``offset_ns`` = onset + ``perform_s``
(both assumed, flagged ``onset_assumed`` in label.json, clipped to the take). Event cameras of
the report (DVXplorer/DAVIS) recorded no face boxes: the event frames are cropped to the
config's ``roi`` or, when empty, the whole sensor (``event_face_box.source`` says which). If a
take holds APS frames they are written with face boxes and crops like ``export``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from microexp.dataset.atomic import atomic_write_npy
from microexp.dataset.clipwriter import ClipWriter, FrameSink, is_complete
from microexp.dataset.config import DetectorConfig, ImportConfig, config_to_dict
from microexp.dataset.finalize import finalize_dataset
from microexp.dataset.manifest import ClipRecord, RejectRecord, make_clip_id
from microexp.dataset.output import prepare_output
from microexp.dataset.provenance import source_entry
from microexp.errors import DecodeError, MicroexpError
from microexp.events.aedat4 import read_aedat4
from microexp.events.types import EventArray
from microexp.faces.detectors import make_detector
from microexp.faces.tracker import FaceTracker
from microexp.faces.types import Box

__all__ = ["ImportReport", "Take", "import_aedat4", "movement_code", "parse_take_name", "read_take"]

log = logging.getLogger(__name__)

_ALIASES: dict[str, str] = {
    "upper_lid_raiser": "upper_lid_raiser",
    "upper_lid_raise": "upper_lid_raiser",
    "upper_lid_raised": "upper_lid_raiser",
    "upperlidraiser": "upper_lid_raiser",
    "lid_raiser": "upper_lid_raiser",
    "raise_upper_lid": "upper_lid_raiser",
    "smile": "smile",
    "smiling": "smile",
    "sourire": "smile",
    "open_mouth": "open_mouth",
    "mouth_open": "open_mouth",
    "openmouth": "open_mouth",
    "opening_mouth": "open_mouth",
    "nose_wrinkle": "nose_wrinkle",
    "nose_wrinkler": "nose_wrinkle",
    "wrinkle_nose": "nose_wrinkle",
    "nosewrinkle": "nose_wrinkle",
    "nose_wrinkling": "nose_wrinkle",
    "frown": "frown",
    "frowning": "frown",
    "blink_eyes": "blink",
    "blink": "blink",
    "eyes_blink": "blink",
    "eye_blink": "blink",
    "blinking": "blink",
    "blinkeyes": "blink",
    "contract_jaw": "contract_jaw",
    "jaw_contraction": "contract_jaw",
    "jaw_contract": "contract_jaw",
    "contracted_jaw": "contract_jaw",
    "clench_jaw": "contract_jaw",
    "jaw_clench": "contract_jaw",
    "contractjaw": "contract_jaw",
}
_NOISE = re.compile(r"[ _-]*\(?noise\)?$", re.IGNORECASE)


def movement_code(name: str, *, where: str = "") -> str:
    """The catalog code of a movement name as the report's files spell it (ValueError if none)."""
    key = re.sub(r"[\s\-_]+", "_", name.strip().lower()).strip("_")
    code = _ALIASES.get(key)
    if code is None:
        raise ValueError(
            f"{where}unknown movement {name!r} (known: {sorted(set(_ALIASES.values()))})"
        )
    return code


@dataclass(frozen=True, slots=True)
class Take:
    path: Path
    movement: str  # catalog code
    subject: str
    take: int
    noisy: bool


def parse_take_name(path: Path) -> Take:
    """Parse ``<movement>_<subject>_<take>[_(noise)].aedat4``; ValueError naming the file if not."""
    stem = path.name[: -len(".aedat4")] if path.name.lower().endswith(".aedat4") else path.stem
    noisy = bool(_NOISE.search(stem))
    stem = _NOISE.sub("", stem)
    parts = stem.split("_")
    if len(parts) < 3 or not parts[-1].strip().isdigit():
        raise ValueError(
            f"{path}: name is not <movement>_<subject>_<take>[_(noise)].aedat4 (e.g. frown_5_1.aedat4)"
        )
    movement = movement_code("_".join(parts[:-2]), where=f"{path}: ")
    subject = parts[-2].strip()
    if not subject:
        raise ValueError(f"{path}: empty subject in the file name")
    return Take(path, movement, subject, int(parts[-1]), noisy)


@dataclass
class TakeData:
    events: EventArray  # t in µs (recording clock)
    width: int
    height: int
    frames: list[npt.NDArray[np.uint8]] = field(default_factory=list)
    frame_times_us: list[int] = field(default_factory=list)


def read_take(path: Path) -> TakeData:
    """Events (and APS frames, if any) of an AEDAT4 file via :func:`microexp.events.aedat4.read_aedat4`."""
    rec = read_aedat4(path, frames=True)
    data = TakeData(rec.events, int(rec.size.width), int(rec.size.height))
    for img, t_us in zip(rec.frames, rec.frame_t_us.tolist(), strict=True):
        a = np.asarray(img, dtype=np.uint8)
        data.frames.append(a[:, :, 0] if a.ndim == 3 and a.shape[2] == 1 else a)
        data.frame_times_us.append(int(t_us))
    return data


@dataclass
class ImportReport:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rejected: list[RejectRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def text(self) -> str:
        lines = [
            f"clips written: {len(self.written)}, skipped (already done): {len(self.skipped)}, "
            f"failed: {len(self.failures)}"
        ]
        lines += [f"  WARNING {w}" for w in self.warnings]
        lines += [f"  FAILED {f}" for f in self.failures]
        return "\n".join(lines)


def import_aedat4(
    directory: Path, out: Path, *, config: ImportConfig, force: bool = False
) -> ImportReport:
    """Import every ``*.aedat4`` under ``directory`` into the dataset ``out``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise MicroexpError(f"{directory}: not a directory of AEDAT4 takes")
    files = sorted(directory.rglob("*.aedat4"))
    if not files:
        raise MicroexpError(f"{directory}: no *.aedat4 files found")
    report = ImportReport()
    sources = [source_entry(f) for f in files]
    cfg_dict = config_to_dict(config)
    prepare_output(out, kind="import", config=cfg_dict, sources=sources, force=force)
    for f in files:
        try:
            take = parse_take_name(f)
        except ValueError as err:
            report.failures.append(str(err))
            report.rejected.append(RejectRecord(f.name, "", "", 0, 0, "", str(err)))
            continue
        try:
            _import_take(take, out, config, report)
        except MicroexpError as err:
            report.failures.append(str(err))
            report.rejected.append(
                RejectRecord(
                    f.name, take.subject, f"take{take.take}", 0, take.take, take.movement, str(err)
                )
            )
    finalize_dataset(out, kind="import", config=cfg_dict, sources=sources, rejects=report.rejected)
    return report


def _import_take(take: Take, out: Path, cfg: ImportConfig, report: ImportReport) -> None:
    session = f"take{take.take}" + ("-noise" if take.noisy else "")
    cid = make_clip_id(
        subject=take.subject,
        session=session,
        label=take.movement,
        segment_index=0,
        attempt=take.take,
    )
    if is_complete(out / "clips" / cid):
        report.skipped.append(cid)
        return
    data = read_take(take.path)
    if data.events.size == 0:
        raise DecodeError(f"{take.path}: no events")
    t = data.events["t"]
    first_us, last_us = int(t.min()), int(t.max())
    onset_us = min(first_us + round(cfg.onset_s * 1e6), last_us)
    offset_us = min(onset_us + round(cfg.perform_s * 1e6), last_us + 1)
    if first_us + cfg.onset_s * 1e6 > last_us:
        report.warnings.append(
            f"{take.path.name}: take lasts {(last_us - first_us) / 1e6:.2f} s, "
            f"shorter than the assumed cue at {cfg.onset_s} s; onset clipped"
        )
    if cfg.whole_take:
        start_us, end_us = first_us, last_us + 1
    else:
        start_us = max(first_us, onset_us - round(cfg.margin_s * 1e6))
        end_us = min(last_us + 1, offset_us + round(cfg.margin_s * 1e6))
    cam = cfg.camera
    w = ClipWriter(out / "clips" / cid, start_ns=start_us * 1000, end_ns=end_us * 1000)
    try:
        w.add_events(cam, data.events, offset_ns=0, width=data.width, height=data.height)
        if data.frames:
            det = DetectorConfig(kind="fixed", fixed_box=cfg.roi) if cfg.roi else DetectorConfig()
            sink = FrameSink(w.dir, cam, FaceTracker(make_detector(det)), cfg.crop_size, 0.0, 640)
            w.frames[cam] = sink
            for img, ft in zip(data.frames, data.frame_times_us, strict=True):
                if start_us <= ft < end_us:
                    sink.add(img, ft * 1000)
        w.close_sinks()
        box, how = _box(w, cam, cfg, data)
        atomic_write_npy(
            w.dir / f"evframes_{cam}.npy",
            w.event_frames(cam, box, size=cfg.crop_size, slice_us=cfg.slice_us, margin=0.0),
        )
        count = w.events[cam].count
        record = ClipRecord(
            clip_id=cid,
            subject=take.subject,
            session=session,
            label=take.movement,
            au_numbers=";".join(str(n) for n in _au_numbers(take.movement)),
            attempt=take.take,
            start_ns=start_us * 1000,
            end_ns=end_us * 1000,
            duration_s=round((end_us - start_us) / 1e6, 6),
            sensors=";".join(sorted({cam, *w.frames})),
            lighting="",
            lux=float("nan"),
            glasses=False,
            events_davis=count if cam == "davis" else 0,
            events_evk4=count if cam == "evk4" else 0,
            noisy=take.noisy,
            source=take.path.name,
            dir=f"clips/{cid}",
        )
        label: dict[str, Any] = {
            "clip_id": cid,
            "subject": take.subject,
            "session": session,
            "label": take.movement,
            "au_numbers": list(_au_numbers(take.movement)),
            "segment_index": 0,
            "attempt": take.take,
            "start_ns": start_us * 1000,
            "end_ns": end_us * 1000,
            "onset_ns": onset_us * 1000,
            "offset_ns": offset_us * 1000,
            "onset_assumed": True,
            "lighting": "",
            "lux": None,
            "glasses": None,
            "sensors": record.sensors.split(";"),
            "events": {cam: count},
            "frames": {n: len(f.times_ns) for n, f in w.frames.items()},
            "sensor_size": {cam: [data.width, data.height]},
            "event_face_box": {cam: {"box": [box.x, box.y, box.w, box.h], "source": how}},
            "noisy": take.noisy,
            "slice_us": cfg.slice_us,
            "crop_size": cfg.crop_size,
            "source": take.path.name,
            "time_base": "aedat4 recording clock (µs since epoch)",
            "manifest": asdict(record),
        }
        w.finish(label)
    except BaseException:
        w.abort()
        raise
    report.written.append(cid)


def _au_numbers(code: str) -> tuple[int, ...]:
    from microexp.aus import CATALOG

    return CATALOG[code].au_numbers


def _box(w: ClipWriter, cam: str, cfg: ImportConfig, data: TakeData) -> tuple[Box, str]:
    if cfg.roi:
        x, y, bw, bh = cfg.roi
        return Box(x, y, bw, bh), "config roi"
    sink = w.frames.get(cam)
    box = sink.median_box() if sink is not None else None
    if box is not None:
        return box, f"frames:{cam}"
    return Box(0, 0, data.width, data.height), "whole_sensor (no frames, no roi configured)"
