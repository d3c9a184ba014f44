"""``microexp rig check``: is the rig ready to record?

Without ``--offline`` it runs the ``rig_check`` executable of the sourced ROS workspace (a thin
rclpy node: the core stays ROS-free) against the running graph: every camera's node up, its
configured parameters known to it, its topics there with the expected type and QoS, and a first
message within ``--timeout-s``. With ``--offline`` it checks only what needs no running camera:
the driver executables installed under AMENT_PREFIX_PATH, their versions, and every key of the
drivers' YAML files against the parameters each driver declares or reads at its pin. Either way it
prints each problem with how to fix it and exits 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

from microexp.rigcheck import (
    RigCheckConfig,
    exit_status,
    format_report,
    rig_expectations,
    static_findings,
)
from microexp.rosgraph import ament_prefixes, default_rig_dir, find_executable, load_rig, ros_env

__all__ = ["HELP", "configure", "run"]

HELP = "check the camera rig: drivers installed and configured, topics typed, cameras publishing"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rig_command", metavar="COMMAND", required=True)
    p = sub.add_parser("check", help=HELP, description=__doc__)
    p.add_argument(
        "--cameras",
        default="",
        help="comma-separated cameras of rig.yaml (default: its default_cameras)",
    )
    p.add_argument("--sim", action="store_true", help="check the simulated cameras (sim:=true)")
    p.add_argument(
        "--timeout-s",
        type=float,
        default=RigCheckConfig.timeout_s,
        help="how long to wait for nodes, topics and first messages (default %(default)s)",
    )
    p.add_argument("--rig", type=Path, default=None, help="rig config folder (default: config/rig)")
    p.add_argument(
        "--offline", action="store_true", help="only what needs no running camera (no ROS graph)"
    )
    p.add_argument("--strict", action="store_true", help="warnings fail the check too")


def _config(args: argparse.Namespace) -> RigCheckConfig:
    rig_dir = args.rig.resolve() if args.rig else default_rig_dir()
    return RigCheckConfig(
        rig_dir=str(rig_dir),
        cameras=tuple(c.strip() for c in args.cameras.split(",") if c.strip()),
        sim=args.sim,
        timeout_s=args.timeout_s,
        strict=args.strict,
    )


def run(args: argparse.Namespace) -> int:
    config = _config(args)
    env = ros_env(os.environ)
    prefixes = ament_prefixes(env)
    # a bad rig folder, camera name or recorded list fails here, as ERROR: <file>: <problem>
    expectations = rig_expectations(
        load_rig(Path(config.rig_dir)), cameras=config.cameras, sim=config.sim
    )
    if args.offline:
        findings = static_findings(expectations, prefixes=prefixes)
        print(format_report(findings, expectations=expectations, live=False))
        return exit_status(findings, strict=config.strict)
    exe = find_executable("microexp", "rig_check", prefixes)  # ConfigError names the fix
    argv = [str(exe), "--ros-args", "-p", f"rig_dir:={config.rig_dir}"]
    if config.cameras:
        argv += ["-p", f"cameras:=[{','.join(config.cameras)}]"]
    argv += [
        "-p",
        f"sim:={str(config.sim).lower()}",
        "-p",
        f"timeout_s:={float(config.timeout_s)}",
        "-p",
        f"strict:={str(config.strict).lower()}",
    ]
    return subprocess.run(argv, env=env, check=False).returncode
