"""The demo directory guard (marker file, --force) and the demo config loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from demo_testkit import DEMO_CONFIG_DIR, write_tiny_config

from microexp.demo.config import load_demo_config, subject_ids
from microexp.demo.workspace import DEMO_ENTRIES, MARKER, is_demo_dir, prepare_demo_dir
from microexp.errors import ConfigError, OutputExistsError


def test_new_and_empty_directories_are_accepted(tmp_path: Path) -> None:
    lay = prepare_demo_dir(tmp_path / "new" / "demo", force=False)
    assert is_demo_dir(lay.root)
    assert json.loads(lay.marker.read_text())["kind"] == "microexp-demo"
    (tmp_path / "empty").mkdir()
    assert is_demo_dir(prepare_demo_dir(tmp_path / "empty", force=False).root)


def test_a_non_empty_directory_is_refused_without_force(tmp_path: Path) -> None:
    lay = prepare_demo_dir(tmp_path / "d", force=False)
    (lay.root / "bags").mkdir()
    with pytest.raises(OutputExistsError, match=r"d: directory is not empty \(.*bags"):
        prepare_demo_dir(lay.root, force=False)


def test_force_never_touches_a_directory_without_the_marker(tmp_path: Path) -> None:
    (tmp_path / "bags").mkdir()
    (tmp_path / "bags" / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="not a previous demo's output"):
        prepare_demo_dir(tmp_path, force=True)
    assert (tmp_path / "bags" / "keep.txt").read_text() == "mine"
    (tmp_path / MARKER).write_text("{not json")  # a broken marker is no marker
    with pytest.raises(OutputExistsError, match="not a previous demo's output"):
        prepare_demo_dir(tmp_path, force=True)


def test_force_removes_only_the_demo_entries(tmp_path: Path) -> None:
    lay = prepare_demo_dir(tmp_path / "d", force=False)
    for name in DEMO_ENTRIES:
        p = lay.root / name
        if "." in name:
            p.write_text("old")
        else:
            (p / "sub").mkdir(parents=True)
    (lay.root / "notes.txt").write_text("user's")
    prepare_demo_dir(lay.root, force=True)
    assert sorted(p.name for p in lay.root.iterdir()) == sorted([MARKER, "notes.txt"])


def test_a_file_is_not_a_demo_directory(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(OutputExistsError, match="not a directory"):
        prepare_demo_dir(f, force=True)


def test_the_shipped_config_loads_with_paths_beside_it() -> None:
    cfg = load_demo_config(DEMO_CONFIG_DIR / "default.yaml")
    assert cfg.subjects >= 2 and "davis" in cfg.sim.cameras
    assert cfg.path(cfg.plan) == DEMO_CONFIG_DIR / "plan_4au.yaml"
    assert cfg.path(cfg.train_config).is_file() and cfg.path(cfg.export_config).is_file()
    assert subject_ids(3) == ["s01", "s02", "s03"]


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def test_config_errors_name_the_file_and_key(tmp_path: Path) -> None:
    cfg = write_tiny_config(tmp_path)
    load_demo_config(cfg)
    _edit(cfg, "seed: 1\n", "seed: 1\ncolour: red\n")
    with pytest.raises(ConfigError, match=r"tiny\.yaml: unknown key\(s\) \['colour'\]"):
        load_demo_config(cfg)
    cfg = write_tiny_config(tmp_path)
    _edit(cfg, "seed: 1\n", "")
    with pytest.raises(ConfigError, match=r"tiny\.yaml: missing key 'seed'"):
        load_demo_config(cfg)
    cfg = write_tiny_config(tmp_path)
    _edit(cfg, "workers: 2", "workers: two")
    with pytest.raises(ConfigError, match=r"tiny\.yaml\.sim\.workers: expected int, got 'two'"):
        load_demo_config(cfg)


def test_config_values_are_checked(tmp_path: Path) -> None:
    cfg = write_tiny_config(tmp_path, subjects=1)
    with pytest.raises(ConfigError, match="subjects must be >= 2"):
        load_demo_config(cfg)
    cfg = write_tiny_config(tmp_path)
    _edit(cfg, "cameras: [davis, webcam]", "cameras: [webcam, thermal]")
    with pytest.raises(ConfigError, match=r"unknown camera\(s\) \['thermal'\].*must include davis"):
        load_demo_config(cfg)
    cfg = write_tiny_config(tmp_path)
    _edit(cfg, "plan: plan.yaml", "plan: nowhere.yaml")
    with pytest.raises(ConfigError, match=r"plan: no file .*nowhere\.yaml"):
        load_demo_config(cfg)
