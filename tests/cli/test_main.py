from __future__ import annotations

import subprocess
import sys

import pytest

from microexp.cli.main import COMMANDS, build_parser, main


def test_every_command_is_registered_with_help() -> None:
    parser = build_parser()
    text = parser.format_help()
    for name in COMMANDS:
        assert name in text


def test_no_command_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: microexp" in capsys.readouterr().out


def test_console_script_reports_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "microexp.cli.main", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("microexp ")
