"""``microexp dataset withdraw``: the subject's clips go, the dataset files are rewritten, every
other file stays byte for byte, the withdrawal is on record, and no byte of the subject remains."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from sessionbag import SegmentSpec, write_session_bag

from microexp.cli.main import main
from microexp.consent import ConsentScope, Modality
from microexp.dataset.config import DetectorConfig, ExportConfig
from microexp.dataset.consent_policy import ExportPolicy
from microexp.dataset.export import export_bags
from microexp.dataset.manifest import read_manifest, read_rejects
from microexp.dataset.share import MAPPING_FILE, ShareKeys
from microexp.dataset.withdrawal import load_withdrawals, withdrawn_on
from microexp.errors import OutputExistsError

CFG = ExportConfig(detector=DetectorConfig(kind="bright_ellipse"))
SEGS = [
    SegmentSpec("AU12", (12,), 0, start_s=0.5),
    SegmentSpec("AU4", (4,), 1, start_s=4.5, invalid="redo"),  # one reject row per subject
]
REWRITTEN = {"manifest.csv", "rejects.csv", "splits.json", "summary.csv", "summary.md",
             "dataset.json", ".microexp_state.json", MAPPING_FILE}  # fmt: skip
EVERY = frozenset(Modality)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def lab(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("withdraw")
    bags = {}
    for name, subject in (("rec_001", "alpha7"), ("rec_002", "bravo3"), ("rec_003", "charlie5")):
        scope = ConsentScope(subject_id=subject, session_id="sess1", study=EVERY,
                             sharing=frozenset({Modality.EVENTS}), form="f v1")  # fmt: skip
        write_session_bag(d / "store" / name, subject=subject, segments=SEGS, duration_s=9.0,
                          rate_hz=6000, cameras=("davis",), seed=len(bags),
                          consent=scope)  # fmt: skip
        bags[subject] = d / "store" / name
    assert export_bags(list(bags.values()), d / "lab", config=CFG).ok
    keys = ShareKeys(private=d / "lab", shared=d / "shared")
    policy = ExportPolicy.share(today=dt.date.today())
    assert export_bags(list(bags.values()), d / "shared", config=CFG, share=keys,
                       policy=policy).ok  # fmt: skip
    return {"root": d, "lab": d / "lab", "shared": d / "shared", **bags}


def _clips_of(ds: Path, subject: str) -> list[str]:
    return [r.dir for r in read_manifest(ds / "manifest.csv") if r.subject == subject]


def test_withdrawal_removes_the_subject_and_nothing_else(
    lab: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ds = lab["lab"]
    before = _snapshot(ds)
    theirs = _clips_of(ds, "bravo3")
    assert len(theirs) == 1
    their_files = {k: v for k, v in before.items() if k.startswith(tuple(theirs))}
    shared_id = json.loads((ds / MAPPING_FILE).read_text())["shares"][
        str(lab["shared"].resolve())]["subjects"]["bravo3"]["id"]  # fmt: skip
    bag_sha = next(s["sha256"] for s in json.loads(before["dataset.json"])["sources"]
                   if s["name"] == "rec_002")  # fmt: skip
    samples = []  # raw event and frame bytes of the subject's clips
    for clip in theirs:
        with h5py.File(ds / clip / "events_davis.h5") as h5:
            samples.append(h5["events"][100:400].tobytes())
        samples.append(np.load(ds / clip / "frames_davis.npy")[3].tobytes())

    assert (
        main(["dataset", "withdraw", "bravo3", str(ds), "--bags", str(lab["root"] / "store")]) == 0
    )
    out = capsys.readouterr().out
    assert "removed 1 clip(s)" in out and "1 reject row(s)" in out
    assert f"shared as {shared_id} in {lab['shared'].resolve()}" in out
    assert f"{lab['bravo3']}  (named by its consent)" in out
    assert "rec_001" not in out and "rec_003" not in out

    after = _snapshot(ds)
    assert set(after) == set(before) - set(their_files)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == REWRITTEN | {"clip_lengths.png"}  # every other file byte for byte as it was
    for name, data in after.items():
        for needle in [b"bravo3", b"rec_002", bag_sha.encode(), *(c.split("/")[1].encode()
                                                               for c in theirs)]:  # fmt: skip
            assert needle not in data, f"{name} still holds {needle!r}"
        for sample in samples:
            assert sample not in data, f"{name} still holds the subject's data"
    meta = json.loads(after["dataset.json"])
    (record,) = meta["withdrawals"]
    assert record["status"] == "complete" and record["clips"] == 1 and record["rejects"] == 1
    listed = {(f["file"], f["sha256"]) for f in record["files"]}
    expected = {(k.split("/", 2)[2], hashlib.sha256(v).hexdigest()) for k, v in their_files.items()}
    assert listed == expected
    for f in record["files"]:  # a removed file's checksum is in the record and nowhere else
        assert sum(f["sha256"].encode() in data for data in after.values()) == 1
    assert record["shared_as"] == [{"dataset": str(lab["shared"].resolve()), "subject": shared_id}]
    assert withdrawn_on("bravo3", meta["withdrawals"]) == record["withdrawn_utc"]
    assert withdrawn_on("alpha7", meta["withdrawals"]) == ""
    assert meta["clips"] == 2 and meta["rejected"] == 2
    assert {c["subject"] for c in meta["consent"]} == {"alpha7", "charlie5"}
    assert [f["test_subject"] for f in json.loads(after["splits.json"])["loso"]] == [
        "alpha7", "charlie5"]  # fmt: skip
    assert {r.subject for r in read_rejects(ds / "rejects.csv")} == {"alpha7", "charlie5"}
    assert "2 clips, 2 subjects" in after["summary.md"].decode()

    assert main(["dataset", "withdraw", "bravo3", str(ds)]) == 1
    err = capsys.readouterr().err
    assert "ERROR: " in err and "nothing of subject 'bravo3'" in err and "withdrawn on" in err


def test_resumed_export_keeps_the_record_and_refuses_the_bag(lab: dict[str, Path]) -> None:
    ds = lab["lab"]
    assert main(["dataset", "withdraw", "bravo3", str(ds)]) == 0
    report = export_bags([lab["alpha7"], lab["charlie5"]], ds, config=CFG)  # resumes
    assert report.ok and not report.written and len(report.skipped) == 2
    assert len(load_withdrawals(ds)) == 1
    with pytest.raises(OutputExistsError, match="other sources"):
        export_bags([lab["alpha7"], lab["bravo3"], lab["charlie5"]], ds, config=CFG)


def test_recipients_withdraw_the_shared_id(lab: dict[str, Path]) -> None:
    shared = lab["shared"]
    table = json.loads((lab["lab"] / MAPPING_FILE).read_text())
    sid = table["shares"][str(shared.resolve())]["subjects"]["alpha7"]["id"]
    before = _snapshot(shared)
    assert main(["dataset", "withdraw", sid, str(shared)]) == 0
    after = _snapshot(shared)
    assert not [k for k in after if sid in k]
    assert all(sid.encode() not in v for v in after.values())
    changed = {k for k in after if k in before and after[k] != before[k]}
    assert changed == REWRITTEN - {MAPPING_FILE}


def test_dry_run_changes_nothing_and_bags_are_found_by_content(
    lab: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ds, store = lab["lab"], lab["root"] / "store"
    shutil.copytree(lab["bravo3"], store / "misc" / "copy_of_alpha7")  # the name lies
    (store / "broken.mcap").write_bytes(b"not a bag")
    before = _snapshot(ds)
    code = main(["dataset", "withdraw", "bravo3", str(ds), "--dry-run", "--bags", str(store)])
    out = capsys.readouterr()
    assert _snapshot(ds) == before
    assert code == 1  # an unreadable bag must be checked by hand
    assert "would remove 1 clip(s)" in out.out
    assert f"{store / 'misc' / 'copy_of_alpha7'}  (named by its consent)" in out.out
    assert f"ERROR: {store / 'broken.mcap'}: not readable" in out.err
    assert main(["dataset", "withdraw", "zulu9", str(ds)]) == 1
    assert "nothing of subject 'zulu9'" in capsys.readouterr().err


def test_an_interrupted_withdrawal_is_finished_by_the_next_run(
    lab: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the dataset files were rewritten, while the clips were being deleted: the
    record says "in progress" and lists the files; the next run deletes the rest and completes
    that record (same salt, every file listed once)."""
    import microexp.dataset.withdrawal as W

    ds = lab["lab"]
    (clip,) = _clips_of(ds, "bravo3")
    files = sorted(p.name for p in (ds / clip).iterdir())

    def crash(path: Path) -> None:
        raise OSError(f"disk gone while removing {path}")

    monkeypatch.setattr(W, "remove_tree", crash)
    with pytest.raises(OSError, match="disk gone"):
        W.withdraw_subject(ds, "bravo3")
    (pending,) = load_withdrawals(ds)
    assert pending["status"] == "in progress" and (ds / clip).is_dir()
    assert withdrawn_on("bravo3", load_withdrawals(ds)) == ""  # not withdrawn yet
    monkeypatch.undo()
    w = W.withdraw_subject(ds, "bravo3")
    (record,) = load_withdrawals(ds)
    assert record["status"] == "complete" and record["salt"] == pending["salt"]
    assert sorted(f["file"] for f in record["files"]) == files and w.mentions == []
    assert not (ds / clip).exists()
    assert all(b"bravo3" not in v for v in _snapshot(ds).values())


def test_a_shared_dataset_needs_both_the_sharing_policy_and_new_ids(lab: dict[str, Path]) -> None:
    from microexp.errors import ConfigError

    with pytest.raises(ConfigError, match="needs both the sharing policy and re-keyed ids"):
        export_bags([lab["alpha7"]], lab["root"] / "x", config=CFG,
                    policy=ExportPolicy.share(today=dt.date.today()))  # fmt: skip
