"""Dataset summary in the layout of the paper's Table 2, and the clip-length histogram.

One row per camera and modality (events, grey frames, RGB frames) with its resolution, subjects,
clips and clip lengths, like Table 2 of Mastropasqua et al. (docs/references.md#paper-table2),
where the DAVIS346's events and grey frames are separate rows; then one row per label. The clip
lengths also go into a histogram (``summary.md`` and ``clip_lengths.png``), to compare with the
paper's ~2.5 s clips and with a training config's ``max_clip_len``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

from microexp.dataset.atomic import atomic_write_text
from microexp.dataset.manifest import ClipRecord

__all__ = ["HISTOGRAM_PNG", "clip_streams", "length_histogram", "summary_rows", "write_summary"]

Stream = tuple[str, str, str]
"""(camera, modality, resolution "WxH") of one stream in a clip."""

HISTOGRAM_PNG = "clip_lengths.png"
SLICE_S = 0.033
PAPER_MEAN_S = 2.5  # Table 2: mean clip length (docs/references.md#paper-table2)


def clip_streams(clip_dir: Path) -> list[Stream]:
    """The streams a clip directory holds: ``events_<cam>.h5`` and ``frames_<cam>.npy``."""
    out: list[Stream] = []
    label: dict[str, object] = {}
    if (clip_dir / "label.json").is_file():
        label = json.loads((clip_dir / "label.json").read_text(encoding="utf-8"))
    sizes = label.get("sensor_size", {})
    for p in sorted(clip_dir.glob("events_*.h5")):
        cam = p.stem.removeprefix("events_")
        size = sizes.get(cam) if isinstance(sizes, dict) else None
        if not size:
            with h5py.File(p, "r") as f:
                size = [int(f.attrs.get("width", 0)), int(f.attrs.get("height", 0))]
        out.append((cam, "events", f"{size[0]}x{size[1]}"))
    for p in sorted(clip_dir.glob("frames_*.npy")):
        shape = np.load(p, mmap_mode="r").shape
        kind = "RGB frames" if len(shape) == 4 and shape[3] == 3 else "grey frames"
        out.append((p.stem.removeprefix("frames_"), kind, f"{shape[2]}x{shape[1]}"))
    return out


def _row(group: str, name: str, sel: Sequence[ClipRecord], **extra: str) -> dict[str, object]:
    durations = [r.duration_s for r in sel]
    return {
        "group": group,
        "name": name,
        "modality": extra.get("modality", ""),
        "resolution": extra.get("resolution", ""),
        "subjects": len({r.subject for r in sel}),
        "clips": len(sel),
        "mean_s": round(sum(durations) / len(durations), 3) if durations else 0.0,
        "min_s": round(min(durations), 3) if durations else 0.0,
        "max_s": round(max(durations), 3) if durations else 0.0,
    }


def summary_rows(
    records: Sequence[ClipRecord], streams: Mapping[str, Sequence[Stream]] | None = None
) -> list[dict[str, object]]:
    """One row per (camera, modality) stream, resolutions joined when clips differ; then one row
    per label. Without ``streams`` (clip id → :func:`clip_streams`), one row per sensor name."""
    rows = []
    if streams is None:
        for sensor in sorted({s for r in records for s in r.sensors.split(";") if s}):
            rows.append(
                _row("sensor", sensor, [r for r in records if sensor in r.sensors.split(";")])
            )
    else:
        keys = sorted({(c, m) for r in records for c, m, _ in streams.get(r.clip_id, ())})
        for cam, modality in keys:
            sel: list[ClipRecord] = []
            res: set[str] = set()
            for r in records:
                found = [s for s in streams.get(r.clip_id, ()) if s[:2] == (cam, modality)]
                if found:
                    sel.append(r)
                    res.update(s[2] for s in found)
            rows.append(
                _row("sensor", cam, sel, modality=modality, resolution=", ".join(sorted(res)))
            )
    rows += [
        _row("label", label, [r for r in records if r.label == label])
        for label in sorted({r.label for r in records})
    ]
    return rows


def length_histogram(durations: Sequence[float], *, bin_s: float = 0.5) -> list[tuple[float, int]]:
    """``(bin start s, clips)`` for bins of ``bin_s`` from 0 up to the longest clip."""
    if not durations:
        return []
    n = max(1, math.ceil(max(durations) / bin_s + 1e-9))
    counts = np.histogram(durations, bins=n, range=(0.0, n * bin_s))[0]
    return [(round(i * bin_s, 3), int(c)) for i, c in enumerate(counts)]


def _plot(path: Path, durations: Sequence[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 2.8))
    hist = length_histogram(durations, bin_s=0.25)
    ax.bar([b for b, _ in hist], [c for _, c in hist], width=0.25, align="edge", color="tab:blue")
    ax.axvline(PAPER_MEAN_S, color="tab:red", linestyle="--", label=f"paper: mean {PAPER_MEAN_S} s")
    ax.axvline(
        float(np.mean(durations)), color="black", label=f"here: mean {np.mean(durations):.2f} s"
    )
    ax.set_xlabel("clip length (s)")
    ax.set_ylabel("clips")
    ax.legend(fontsize=7)
    ax.set_title("Clip lengths", fontsize=9)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".partial.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def write_summary(
    directory: Path, records: Sequence[ClipRecord], *, histogram_png: bool = True
) -> None:
    """Write ``summary.csv``, ``summary.md`` and (``histogram_png``) ``clip_lengths.png`` into
    ``directory``; without the PNG an old one is removed (it would describe other clips)."""
    streams = {r.clip_id: clip_streams(directory / r.dir) for r in records}
    rows = summary_rows(records, streams)
    cols = [
        "group",
        "name",
        "modality",
        "resolution",
        "subjects",
        "clips",
        "mean_s",
        "min_s",
        "max_s",
    ]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(directory / "summary.csv", buf.getvalue())
    subjects = len({r.subject for r in records})
    lines = [
        "# Dataset summary",
        "",
        f"{len(records)} clips, {subjects} subjects, in the layout of Table 2 of Mastropasqua et "
        "al. (ICCV Workshops 2025): one row per sensor and modality, with its resolution.",
        "",
        "| Sensor | Modality | Resolution | Subjects | Clips | Mean (s) | Min (s) | Max (s) |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["group"] == "sensor":
            lines.append(
                f"| {r['name']} | {r['modality']} | {r['resolution']} | {r['subjects']} | "
                f"{r['clips']} | {r['mean_s']} | {r['min_s']} | {r['max_s']} |"
            )
    lines += [
        "",
        "| Label | Subjects | Clips | Mean (s) | Min (s) | Max (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["group"] == "label":
            lines.append(
                f"| {r['name']} | {r['subjects']} | {r['clips']} | {r['mean_s']} | {r['min_s']} | "
                f"{r['max_s']} |"
            )
    durations = [r.duration_s for r in records]
    if durations:
        lines += [
            "",
            "## Clip lengths",
            "",
            f"Mean {np.mean(durations):.2f} s, median {np.median(durations):.2f} s "
            f"(≈ {round(float(np.median(durations)) / SLICE_S)} slices of 33 ms); the paper's "
            f"clips average {PAPER_MEAN_S} s."
            + (f" Histogram: `{HISTOGRAM_PNG}`." if histogram_png else ""),
            "",
            "| Length (s) | Clips |",
            "|---|---:|",
            *(f"| {b:.1f}–{b + 0.5:.1f} | {c} |" for b, c in length_histogram(durations)),
        ]
    if durations and histogram_png:
        _plot(directory / HISTOGRAM_PNG, durations)
    else:
        (directory / HISTOGRAM_PNG).unlink(missing_ok=True)
    atomic_write_text(directory / "summary.md", "\n".join(lines) + "\n")
