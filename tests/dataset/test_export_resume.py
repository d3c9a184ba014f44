"""A real interruption: the export process is killed mid-way, then re-run; the result equals a
clean export."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sessionbag import SegmentSpec, write_session_bag

from microexp.dataset.manifest import read_manifest


def _digest(ds: Path) -> dict[str, str]:
    out = {}
    for rec in read_manifest(ds / "manifest.csv"):
        for f in sorted((ds / rec.dir).iterdir()):
            if f.name != "label.json":
                out[f"{rec.clip_id}/{f.name}"] = hashlib.sha256(f.read_bytes()).hexdigest()
        lab = json.loads((ds / rec.dir / "label.json").read_text())
        out[f"{rec.clip_id}/label"] = json.dumps(lab, sort_keys=True)
    return out


def _export(bag: Path, out: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "microexp.cli.main",
        "export",
        str(bag),
        "-o",
        str(out),
        "--no-progress",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_killed_export_resumes_to_the_same_dataset(tmp_path: Path) -> None:
    segs = [
        SegmentSpec(
            "AU12" if i % 2 else "AU4",
            (12,) if i % 2 else (4,),
            i,
            start_s=0.2 + 3.5 * i,
            perform_s=(0.8, 1.6),
            end_s=3.0,
        )
        for i in range(8)
    ]
    write_session_bag(
        tmp_path / "bag", segments=segs, duration_s=29.0, rate_hz=60000, cameras=("davis", "evk4")
    )
    clean = tmp_path / "clean"
    assert _export(tmp_path / "bag", clean).wait(timeout=300) == 0
    ds = tmp_path / "ds"
    proc = _export(tmp_path / "bag", ds)
    deadline = time.monotonic() + 120
    while not list((ds / "clips").glob("*/DONE")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((ds / "clips").glob("*/DONE")))
    assert 1 <= done < 8, f"{done} clips were finished when the export was killed"
    assert not (ds / "manifest.csv").exists()  # the dataset files come last
    assert _export(tmp_path / "bag", ds).wait(timeout=300) == 0
    assert not list((ds / "clips").glob("*.partial"))
    assert _digest(ds) == _digest(clean)
