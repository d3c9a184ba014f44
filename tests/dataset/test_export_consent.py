"""Exports honour each subject's recorded consent: modalities withheld, old-layout bags, shared
datasets checked file by file (not by trusting the flag), refusals."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import h5py
import numpy as np
import pytest
from sessionbag import T0_NS, SegmentSpec, write_session_bag

from microexp.cli.main import main
from microexp.consent import ConsentScope, Modality, OnExpiry, Use
from microexp.dataset.config import DetectorConfig, ExportConfig
from microexp.dataset.consent_policy import ExportPolicy, subjects_for
from microexp.dataset.export import export_bags
from microexp.dataset.manifest import read_manifest
from microexp.dataset.share import MAPPING_FILE, ShareKeys
from microexp.events.types import EVENT_DTYPE

E, G, R = Modality.EVENTS, Modality.GREY, Modality.RGB
CFG = ExportConfig(detector=DetectorConfig(kind="bright_ellipse"))
SEGS = [SegmentSpec("AU12", (12,), 0, start_s=0.5)]
NOTES = "wore a red scarf; asked about the results"
TODAY = dt.date.today()


def _scope(
    subject: str, study: set[Modality], sharing: set[Modality], **kw: object
) -> ConsentScope:
    return ConsentScope(
        subject_id=subject, session_id="sess1", study=frozenset(study), sharing=frozenset(sharing),
        form="form v2", given_on=dt.date(2026, 1, 5), valid_until=TODAY + dt.timedelta(days=90),
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _bag(path: Path, subject: str, consent: ConsentScope | None, **kw: object) -> Path:
    write_session_bag(path, subject=subject, segments=SEGS, duration_s=5.0, rate_hz=8000,
                      cameras=("davis", "webcam"), consent=consent, notes=NOTES,
                      **kw)  # type: ignore[arg-type]  # fmt: skip
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("consent")
    bags = [
        _bag(d / "rec_a", "alpha7", _scope("alpha7", {E, G}, {E})),  # no RGB at all
        _bag(d / "rec_b", "bravo3", _scope("bravo3", {E, G, R}, {E, G})),
        _bag(d / "rec_c", "charlie5", None),  # old layout: SessionInfo.consent only
    ]
    out = {"bags": d, "lab": d / "lab", "shared": d / "shared", "frames": d / "shared_frames"}
    assert export_bags(bags, out["lab"], config=CFG).ok
    for name, mods in (("shared", None), ("frames", frozenset({E, G, R}))):
        report = export_bags(bags, out[name], config=CFG, share=ShareKeys(
            private=out["lab"], shared=out[name]), policy=ExportPolicy.share(
            today=TODAY, modalities=mods))  # fmt: skip
        assert report.ok, report.text()
        assert len(report.excluded) == 1 and "charlie5" in report.excluded[0]
        assert "no sharing consent (recorded before consent scopes)" in report.excluded[0]
    return out


def _clip_files(ds: Path, subject: str) -> set[str]:
    recs = [r for r in read_manifest(ds / "manifest.csv") if r.subject == subject]
    assert recs, f"no clips of {subject} in {ds}"
    return {f.name for r in recs for f in (ds / r.dir).iterdir()}


def test_rgb_consent_withheld_yields_no_rgb_files(exported: dict[str, Path]) -> None:
    lab = exported["lab"]
    alpha, bravo = _clip_files(lab, "alpha7"), _clip_files(lab, "bravo3")
    assert not {f for f in alpha if "webcam" in f}
    assert {"frames_davis.npy", "crops_davis.npy", "events_davis.h5"} <= alpha
    assert {"frames_webcam.npy", "crops_webcam.npy"} <= bravo  # the same rig, consent given
    rec = next(r for r in read_manifest(lab / "manifest.csv") if r.subject == "alpha7")
    assert rec.sensors == "davis"
    meta = json.loads((lab / "dataset.json").read_text())
    entry = next(c for c in meta["consent"] if c["subject"] == "alpha7")
    assert entry["written"] == ["events", "grey"] and entry["use"] == "study"
    assert entry["withheld"] == {"rgb": "no study consent"}
    assert entry["scope"]["study"] == ["events", "grey"] and entry["scope"]["version"] == 1
    assert subjects_for(meta, use=Use.SHARING, modalities={E}) == {"alpha7", "bravo3"}
    assert subjects_for(meta, use=Use.SHARING, modalities={E, G}) == {"bravo3"}
    assert subjects_for(meta, use=Use.PUBLICATION, modalities={E}) == set()  # none consented


def test_old_layout_bag_exports_as_study_only(exported: dict[str, Path]) -> None:
    assert "frames_webcam.npy" in _clip_files(exported["lab"], "charlie5")
    meta = json.loads((exported["lab"] / "dataset.json").read_text())
    entry = next(c for c in meta["consent"] if c["subject"] == "charlie5")
    assert entry["scope"]["version"] == 0 and entry["scope"]["sharing"] == []
    assert entry["written"] == ["events", "grey", "rgb"]


_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")


def _assert_no_image_data(ds: Path) -> None:
    """Every file of a shared dataset, by content: event arrays, 2-channel event frames, text."""
    files = sorted(p for p in ds.rglob("*") if p.is_file())
    assert files
    for f in files:
        data = f.read_bytes()
        assert not any(m in data for m in _MAGIC[:3]), f"{f}: embedded PNG/JPEG signature"
        assert not data.startswith(_MAGIC), f"{f}: an image file"
        if f.suffix == ".npy":
            arr = np.load(f, allow_pickle=False)
            # event frames: [T, 2 polarities, S, S]; grey frames/crops are [N, H, W], RGB [.., 3]
            assert f.name.startswith("evframes_") and arr.ndim == 4 and arr.shape[1] == 2, f
        elif f.suffix == ".h5":
            with h5py.File(f, "r") as h5:
                found: list[str] = []
                h5.visit(found.append)
                assert found == ["events"], f
                assert h5["events"].dtype == EVENT_DTYPE and h5["events"].ndim == 1
        else:
            assert f.suffix in {".json", ".csv", ".md", ""}, f"{f}: unexpected file type"
            data.decode("utf-8")  # text only


def test_share_export_holds_no_image_data(exported: dict[str, Path]) -> None:
    _assert_no_image_data(exported["shared"])
    names = {f.name for f in exported["shared"].rglob("*")}
    assert not {n for n in names if n.startswith(("frames_", "crops_", "faces_", "frame_times_"))}


def test_share_export_names_nobody(exported: dict[str, Path]) -> None:
    shared, lab = exported["shared"], exported["lab"]
    table = json.loads((lab / MAPPING_FILE).read_text())["shares"][str(shared.resolve())]
    assert stat.S_IMODE((lab / MAPPING_FILE).stat().st_mode) == 0o600
    assert set(table["subjects"]) == {"alpha7", "bravo3"}
    ids = {s: e["id"] for s, e in table["subjects"].items()}
    assert {r.subject for r in read_manifest(shared / "manifest.csv")} == set(ids.values())
    assert not (shared / MAPPING_FILE).exists()
    forbidden = [b"alpha7", b"bravo3", b"charlie5", b"sess1", b"rec_a", b"rec_b", b"scarf",
                 str(exported["bags"]).encode(), str(T0_NS // 10**9).encode()]  # fmt: skip
    for f in (p for p in shared.rglob("*") if p.is_file()):
        data = f.read_bytes()
        for word in forbidden:
            assert word not in data, f"{f} holds {word!r}"
    label = json.loads(next(shared.rglob("label.json")).read_text())
    assert 0 < label["onset_ns"] < 10**10  # ns since the session start: no date
    with h5py.File(next(shared.rglob("events_davis.h5"))) as h5:
        assert 0 < h5["events"].attrs["t0_ns"] < 10**10
    meta = json.loads((shared / "dataset.json").read_text())
    assert meta["share"]["modalities"] == ["events"]
    scopes = {c["subject"]: c["scope"] for c in meta["consent"]}
    assert scopes[ids["bravo3"]]["sharing"] == ["events", "grey"]
    assert "given_on" not in scopes[ids["bravo3"]]
    assert all(set(s) == {"name", "bytes", "sha256"} for s in meta["sources"])


def test_share_with_frames_asked_keeps_only_what_sharing_allows(exported: dict[str, Path]) -> None:
    ds, lab = exported["frames"], exported["lab"]
    table = json.loads((lab / MAPPING_FILE).read_text())["shares"][str(ds.resolve())]
    ids = {s: e["id"] for s, e in table["subjects"].items()}
    alpha, bravo = _clip_files(ds, ids["alpha7"]), _clip_files(ds, ids["bravo3"])
    assert not {f for f in alpha if f.startswith(("frames_", "crops_"))}  # sharing: events only
    assert {"frames_davis.npy", "crops_davis.npy"} <= bravo  # grey frames shared
    assert not {f for f in bravo if "webcam" in f}  # RGB not
    other = json.loads((lab / MAPPING_FILE).read_text())["shares"][
        str(exported["shared"].resolve())
    ]
    assert other["subjects"]["bravo3"]["id"] != ids["bravo3"]  # fresh ids per shared dataset


def test_consent_missing_or_ended_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    none = _bag(tmp_path / "none", "delta1", None, session_consent=False)
    ended = _bag(tmp_path / "ended", "echo2", _scope("echo2", {E, G, R}, set()).with_ids(
        subject_id="echo2", session_id="sess1"), )  # fmt: skip
    code = main(["export", str(none), "-o", str(tmp_path / "ds"), "--no-progress"])
    out = capsys.readouterr()
    assert code == 1 and "no consent recorded" in out.out and "ERROR:" in out.err
    assert read_manifest(tmp_path / "ds" / "manifest.csv") == []
    past = ConsentScope(subject_id="echo2", study=frozenset({E}), form="f",
                        given_on=dt.date(2024, 1, 1), valid_until=dt.date(2025, 1, 1),
                        on_expiry=OnExpiry.DELETE)  # fmt: skip
    gone = _bag(tmp_path / "gone", "echo2", past)
    report = export_bags([gone, ended], tmp_path / "ds2", config=CFG)
    assert not report.ok and "consent ended on 2025-01-01" in report.failures[0]
    assert report.written == ["echo2_sess1_AU12_0_1"]  # the other bag, its consent still valid
    review = ConsentScope(subject_id="fox3", study=frozenset({E}), form="f",
                          valid_until=dt.date(2025, 1, 1))  # fmt: skip
    due = _bag(tmp_path / "due", "fox3", review)
    report = export_bags([due], tmp_path / "ds3", config=CFG)
    assert report.ok and report.written and any("review was due on 2025-01-01" in w
                                                for w in report.warnings)  # fmt: skip


def test_share_needs_the_private_dataset(
    exported: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = str(exported["bags"] / "rec_b")
    assert main(["export", bag, "-o", str(tmp_path / "s"), "--share"]) == 1
    assert "ERROR: --share needs --private LAB_DATASET" in capsys.readouterr().err
    args = ["export", bag, "-o", str(tmp_path / "s"), "--share", "--private"]
    (tmp_path / "empty").mkdir()
    assert main([*args, str(tmp_path / "empty")]) == 1
    assert "not a microexp dataset (no dataset.json)" in capsys.readouterr().err
    assert main([*args, str(tmp_path)]) == 1
    assert "must not contain each other" in capsys.readouterr().err
    assert main([*args, str(exported["shared"])]) == 1
    assert "this is a shared dataset, not the lab's" in capsys.readouterr().err
    assert main(["export", bag, "-o", str(tmp_path / "p"), "--modalities", "events,sound"]) == 1
    assert "--modalities: unknown modality 'sound'" in capsys.readouterr().err
