"""A tiny demo run shared by the end-to-end tests: 2 subjects, 2 AUs, 1 epoch (about 40 s)."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_testkit import write_tiny_config

from microexp.cli.main import main


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_config(tmp_path_factory.mktemp("demo_config"))


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory, tiny_config: Path) -> Path:
    """The output directory of one tiny ``microexp demo`` run."""
    out = tmp_path_factory.mktemp("demo_run") / "demo"
    assert main(["demo", "-o", str(out), "--config", str(tiny_config), "--no-progress"]) == 0
    return out
