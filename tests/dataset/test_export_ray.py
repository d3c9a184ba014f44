"""Many bags exported as Ray jobs (one per bag, embedded instance): the dataset is byte-identical
to the one exported bag after bag in this process, and a bad bag is reported while the good bags'
clips are kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sessionbag import SegmentSpec, write_session_bag

from microexp.cli.main import main

SEGS = [SegmentSpec("AU12", (12,), 0, start_s=0.5), SegmentSpec("AU4", (4,), 1, start_s=4.5)]


def _files(ds: Path) -> dict[str, bytes]:
    """Every file of a dataset except its provenance (which records the time of the export)."""
    return {
        str(p.relative_to(ds)): p.read_bytes()
        for p in sorted(ds.rglob("*"))
        if p.is_file() and p.name != "dataset.json"
    }


def test_bags_as_ray_jobs_equal_the_sequential_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bags = []
    for i, subject in enumerate(("S1", "S2", "S3")):
        write_session_bag(tmp_path / subject, subject=subject, segments=SEGS, duration_s=8.0,
                          rate_hz=5000, cameras=("davis",), seed=i)  # fmt: skip
        bags.append(str(tmp_path / subject))
    write_session_bag(tmp_path / "bad", subject="S4", with_protocol=False, duration_s=3.0,
                      cameras=("davis",))  # fmt: skip
    args = ["--config", str(Path(__file__).resolve().parents[2] / "config/dataset/export.yaml"),
            "--no-progress"]  # fmt: skip
    assert main(["export", *bags, "-o", str(tmp_path / "seq"), "--no-ray", *args]) == 0
    assert main(["export", *bags, "-o", str(tmp_path / "ray"), "--workers", "2", *args]) == 0
    seq, ray = _files(tmp_path / "seq"), _files(tmp_path / "ray")
    assert sum(name.endswith("/DONE") for name in seq) == 6  # 3 bags x 2 clips
    assert ray == seq
    capsys.readouterr()
    code = main(["export", *bags[:2], str(tmp_path / "bad"), "-o", str(tmp_path / "mixed"),
                 "--workers", "2", *args])  # fmt: skip
    out = capsys.readouterr()
    assert code == 1 and "no protocol topic /microexp/protocol" in out.out
    assert "ERROR: 1 problem(s); partial results kept" in out.err
    kept = _files(tmp_path / "mixed")
    assert sum(name.endswith("/DONE") for name in kept) == 4  # the good bags' clips are all there
