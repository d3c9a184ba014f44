"""Rule 1 of the house: every core module imports with ROS absent."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import microexp

BLOCKER = """
import importlib.abc, sys
class _NoRos(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'rclpy', 'rosidl_runtime_py', 'launch', 'launch_ros'}:
            raise ImportError(f'ROS module {name} must not be imported by the core')
        return None
sys.meta_path.insert(0, _NoRos())
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
"""


def _core_modules() -> list[str]:
    root = Path(microexp.__file__).parent
    return sorted(
        m.name for m in pkgutil.walk_packages([str(root)], prefix="microexp.") if ".msgdefs" not in m.name
    )


def test_every_core_module_imports_without_ros() -> None:
    modules = _core_modules()
    assert "microexp.events.types" in modules and "microexp.aus" in modules
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER, *modules], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_no_source_file_mentions_rclpy() -> None:
    root = Path(microexp.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if any(
            line.lstrip().startswith(("import rclpy", "from rclpy"))
            for line in p.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []
