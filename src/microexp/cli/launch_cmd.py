"""``microexp launch record|infer NAME:=VALUE ...``: start a launch graph as processes.

The same graph as ``ros2 launch microexp record.launch.py`` (both come from
:mod:`microexp.rosgraph`), started from the installed executables of the sourced ROS environment
(``. .ros_build/setup.bash`` after ``tools/setup_ros.sh``, or a native colcon install). SIGINT and
SIGTERM are forwarded to every process; ROS_AUTOMATIC_DISCOVERY_RANGE defaults to LOCALHOST.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from microexp.rosgraph import (
    GraphRunner,
    InferArgs,
    RecordArgs,
    arg_specs,
    args_from_strings,
    infer_graph,
    load_rig,
    parse_assignments,
    record_graph,
    ros_env,
)
from microexp.rosgraph.spec import LaunchEntity

__all__ = ["HELP", "configure", "run"]

HELP = "start the ROS record or infer graph as processes (NAME:=VALUE arguments, as ros2 launch)"

_GRAPHS = {"record": RecordArgs, "infer": InferArgs}


def _epilog(cls: type) -> str:
    return "launch arguments:\n" + "\n".join(
        f"  {a.name + ':=' + a.default:<24} {a.description}"
        + (f" [{'|'.join(a.choices)}]" if a.choices else "")
        for a in arg_specs(cls)
    )


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="graph", metavar="GRAPH", required=True)
    for name, cls in _GRAPHS.items():
        p = sub.add_parser(
            name,
            help=f"the {name} graph",
            epilog=_epilog(cls),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("assignments", nargs="*", metavar="NAME:=VALUE", help="launch arguments")
        p.add_argument(
            "--rig", type=Path, default=None, help="rig config folder (default: config/rig)"
        )
        p.add_argument("--dry-run", action="store_true", help="print the commands, start nothing")
        p.add_argument(
            "--params-dir",
            type=Path,
            default=None,
            help="where generated parameter files go (default: a temporary folder)",
        )


def build_graph(graph: str, assignments: list[str], rig_dir: Path | None) -> list[LaunchEntity]:
    values = parse_assignments(assignments)
    rig = load_rig(rig_dir)
    if graph == "record":
        return record_graph(args_from_strings(RecordArgs, values), rig)
    return infer_graph(args_from_strings(InferArgs, values), rig)


def run(args: argparse.Namespace) -> int:
    graph = build_graph(args.graph, args.assignments, args.rig)
    env = ros_env(os.environ)
    with tempfile.TemporaryDirectory(prefix="microexp_launch_") as tmp:
        runner = GraphRunner(graph, env, args.params_dir or Path(tmp))
        if args.dry_run:
            for cmd in runner.commands():
                print(" ".join(cmd))
            return 0
        runner.start()
        # a session ends with its recorder or protocol node, a played bag with its player
        return runner.wait(stop_on=("recorder", "protocol", "source"))
