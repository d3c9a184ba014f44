"""tools/fetch_test_data.sh: pinned files, sha256-checked, from a local copy or a download."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "fetch_test_data.sh"
# what the script installs, and where the pinned upstream commit holds it (owner/repo/commit/path)
FILES = {
    "event_camera_py_test_events_1/metadata.yaml": "ros-event-camera/event_camera_py/"
    "af175d2d9caaf1ac756390fdcb78010926d5d2bf/tests/test_events_1/metadata.yaml",
    "event_camera_py_test_events_1/test_events_1.db3": "ros-event-camera/event_camera_py/"
    "af175d2d9caaf1ac756390fdcb78010926d5d2bf/tests/test_events_1/test_events_1.db3",
    "tonic_sample_aedat4/sample.aedat4": "neuromorphs/tonic/"
    "d0cb6df3ebfba018b9aac6d55f63576b46489609/test/test_data/sample.aedat4",
}


@pytest.fixture
def originals(real_bag: Path, sample_aedat4: Path) -> dict[str, Path]:
    return {
        "event_camera_py_test_events_1/metadata.yaml": real_bag / "metadata.yaml",
        "event_camera_py_test_events_1/test_events_1.db3": real_bag / "test_events_1.db3",
        "tonic_sample_aedat4/sample.aedat4": sample_aedat4,
    }


def _run(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "MICROEXP_TEST_DATA_DIR": str(tmp / "dest"),
            "MICROEXP_TEST_DATA_FROM": str(tmp / "none"), **env}  # fmt: skip
    return subprocess.run(["bash", str(SCRIPT), *args], env=full, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def _same(tmp: Path, originals: dict[str, Path]) -> bool:
    return all(
        (tmp / "dest" / rel).read_bytes() == src.read_bytes() for rel, src in originals.items()
    )


def test_takes_a_verified_local_copy_then_keeps_it(
    tmp_path: Path, originals: dict[str, Path]
) -> None:
    for rel, src in originals.items():
        (tmp_path / "local" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, tmp_path / "local" / rel)
    done = _run(tmp_path, "--offline", MICROEXP_TEST_DATA_FROM=str(tmp_path / "local"))
    assert done.returncode == 0, done.stderr
    assert "0 kept, 3 copied, 0 downloaded, 0 missing" in done.stdout
    assert _same(tmp_path, originals)
    again = _run(tmp_path, "--offline")
    assert again.returncode == 0 and "3 kept, 0 copied" in again.stdout


def test_downloads_from_the_pinned_commits_and_checks_them(
    tmp_path: Path, originals: dict[str, Path]
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    mirror = tmp_path / "mirror"  # the layout of raw.githubusercontent.com, served as file://
    for rel, upstream in FILES.items():
        (mirror / upstream).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(originals[rel], mirror / upstream)
    done = _run(tmp_path, MICROEXP_TEST_DATA_URL=mirror.as_uri())
    assert done.returncode == 0, done.stderr
    assert "0 copied, 3 downloaded, 0 missing" in done.stdout
    assert _same(tmp_path, originals)
    # a download whose content differs from the pin is refused and not installed
    (mirror / FILES["tonic_sample_aedat4/sample.aedat4"]).write_bytes(b"not the sample")
    (tmp_path / "dest" / "tonic_sample_aedat4" / "sample.aedat4").unlink()
    bad = _run(tmp_path, MICROEXP_TEST_DATA_URL=mirror.as_uri())
    assert bad.returncode == 1
    assert (
        "ERROR: tonic_sample_aedat4/sample.aedat4: " in bad.stderr
        and "expected b42f119a" in bad.stderr
    )
    assert not (tmp_path / "dest" / "tonic_sample_aedat4" / "sample.aedat4").exists()


def test_a_tampered_local_copy_is_refused(tmp_path: Path, originals: dict[str, Path]) -> None:
    for rel, src in originals.items():
        (tmp_path / "local" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, tmp_path / "local" / rel)
    db = tmp_path / "local" / "event_camera_py_test_events_1" / "test_events_1.db3"
    db.write_bytes(db.read_bytes()[:-1] + b"\x00")
    done = _run(tmp_path, "--offline", MICROEXP_TEST_DATA_FROM=str(tmp_path / "local"))
    assert done.returncode == 1
    assert "test_events_1.db3: sha256 differs from the pinned" in done.stderr
    assert "1 missing" in done.stdout
    assert not (tmp_path / "dest" / "event_camera_py_test_events_1" / "test_events_1.db3").exists()
