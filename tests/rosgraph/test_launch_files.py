"""launch/*.launch.py cannot run here (no launch / launch_ros on PyPI): check them statically."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "args_cls", "graph_fn"),
    [("record", "RecordArgs", "record_graph"), ("infer", "InferArgs", "infer_graph")],
)
def test_launch_file_builds_the_graph_from_data(name: str, args_cls: str, graph_fn: str) -> None:
    path = ROOT / "launch" / f"{name}.launch.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    compile(tree, str(path), "exec")
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in funcs
    imported = {
        (n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names
    }
    modules = {m for m, _ in imported}
    assert modules <= {
        "__future__",
        "os",
        "pathlib",
        "ament_index_python.packages",
        "launch",
        "launch.actions",
        "launch.substitutions",
        "launch_ros.actions",
        "microexp.rosgraph",
    }
    assert {
        ("microexp.rosgraph", args_cls),
        ("microexp.rosgraph", graph_fn),
        ("launch.actions", "DeclareLaunchArgument"),
        ("launch_ros.actions", "Node"),
    } <= imported
    calls = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert {
        graph_fn,
        "DeclareLaunchArgument",
        "Node",
        "ExecuteProcess",
        "load_rig",
        "SetEnvironmentVariable",
    } <= calls
    assert "ROS_AUTOMATIC_DISCOVERY_RANGE" in path.read_text()
    # the rig comes from the installed share/microexp/config/rig, which setup.py installs
    assert '"config"' in path.read_text() and '"rig"' in path.read_text()


def test_setup_py_installs_launch_and_config() -> None:
    text = (ROOT / "ros2_ws" / "src" / "microexp" / "setup.py").read_text()
    assert "launch/*.launch.py" in text and '"config"' in text
