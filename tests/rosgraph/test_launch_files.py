"""launch/*.launch.py cannot run here (no launch / launch_ros on PyPI): check them statically."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


SHARED = ROOT / "src" / "microexp" / "rosgraph" / "launch_description.py"


def _parse(path: Path) -> ast.Module:
    tree = ast.parse(path.read_text(), filename=str(path))
    compile(tree, str(path), "exec")
    return tree


def _imports(tree: ast.Module) -> set[tuple[str | None, str]]:
    return {
        (n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names
    }


def _calls(tree: ast.Module) -> set[str]:
    return {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }


@pytest.mark.parametrize(
    ("name", "args_cls", "graph_fn"),
    [("record", "RecordArgs", "record_graph"), ("infer", "InferArgs", "infer_graph")],
)
def test_launch_file_builds_the_graph_from_data(name: str, args_cls: str, graph_fn: str) -> None:
    path = ROOT / "launch" / f"{name}.launch.py"
    tree = _parse(path)
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in funcs
    imported = _imports(tree)
    modules = {m for m, _ in imported}
    assert modules <= {
        "__future__",
        "launch",
        "microexp.rosgraph",
        "microexp.rosgraph.launch_description",
    }
    assert {
        ("microexp.rosgraph", args_cls),
        ("microexp.rosgraph", graph_fn),
        ("microexp.rosgraph.launch_description", "graph_launch_description"),
    } <= imported
    # the launch file hands its own graph to the shared glue
    (call,) = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "graph_launch_description"
    ]
    assert [a.id for a in call.args if isinstance(a, ast.Name)] == [args_cls, graph_fn]


def test_shared_launch_glue_declares_args_and_starts_the_graph() -> None:
    tree = _parse(SHARED)
    modules = {m for m, _ in _imports(tree)}
    # only launch, launch_ros, ament and the ROS-free core (launch* imported inside functions)
    assert {m.split(".")[0] for m in modules if m} <= {
        "__future__",
        "os",
        "collections",
        "functools",
        "pathlib",
        "typing",
        "ament_index_python",
        "launch",
        "launch_ros",
        "microexp",
    }
    assert {
        ("launch.actions", "DeclareLaunchArgument"),
        ("launch_ros.actions", "Node"),
    } <= _imports(tree)
    assert {
        "DeclareLaunchArgument",
        "Node",
        "ExecuteProcess",
        "load_rig",
        "SetEnvironmentVariable",
        # the rig check gates the rest of the graph: on its exit, the rest or a shutdown
        "OnProcessExit",
        "RegisterEventHandler",
        "MicroexpError",
    } <= _calls(tree)
    text = SHARED.read_text()
    assert "ROS_AUTOMATIC_DISCOVERY_RANGE" in text
    # the rig comes from the installed share/microexp/config/rig, which setup.py installs
    assert '"config"' in text and '"rig"' in text


def test_setup_py_installs_launch_and_config() -> None:
    text = (ROOT / "ros2_ws" / "src" / "microexp" / "setup.py").read_text()
    assert "launch/*.launch.py" in text and '"config"' in text
