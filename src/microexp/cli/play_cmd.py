"""``microexp play BAG``: republish a bag's raw messages at the recorded pace (the ``player`` node).

The bag, the topic selection and the QoS are checked here first (``ERROR: <bag>: <problem>``), then
the installed ``microexp/player`` node of the sourced ROS environment is started as
``microexp launch`` starts nodes (``. .ros_build/setup.bash`` after ``tools/setup_ros.sh``); Ctrl-C
stops it. It exits at the end of the bag (never with ``--loop``) and logs a summary.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from microexp.bagio.reader import open_bag
from microexp.errors import ConfigError
from microexp.playback import QOS_PRESETS, PlayerConfig, select_topics
from microexp.rosgraph import GraphRunner, load_rig, ros_env
from microexp.rosgraph.player import player_node

__all__ = ["HELP", "configure", "run"]

HELP = "republish a bag's messages at the recorded pace (ROS; after tools/setup_ros.sh)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bag", type=Path, help="bag folder, or a bare .mcap / .db3 file")
    parser.add_argument("-r", "--rate", type=float, default=1.0, help="speed factor (2 = twice)")
    parser.add_argument("-l", "--loop", action="store_true", help="play again and again")
    parser.add_argument("--topics", nargs="+", default=[], metavar="TOPIC",
                        help="play only these topics (default: all)")  # fmt: skip
    parser.add_argument("--qos", nargs="+", default=[], metavar="TOPIC=PRESET",
                        help=f"QoS override, PRESET one of {'|'.join(QOS_PRESETS)} (default: "
                        "what each driver offers, config/rig/rig.yaml)")  # fmt: skip
    parser.add_argument("--qos-profiles", type=Path, default=None, metavar="FILE",
                        help="QoS profiles in rosbag2's override format (as ros2 bag play "
                        "--qos-profile-overrides-path)")  # fmt: skip
    parser.add_argument("--wait-for", nargs="+", default=[], metavar="TOPIC",
                        help="start once each of these topics has a subscriber")  # fmt: skip
    parser.add_argument("--wait-timeout", type=float, default=60.0, metavar="S",
                        help="play anyway after this many seconds of waiting")  # fmt: skip
    parser.add_argument("--remap", nargs="+", default=[], metavar="FROM:=TO",
                        help="publish topic FROM as TO")  # fmt: skip
    parser.add_argument("--rig", type=Path, default=None, help="rig config folder (config/rig)")
    parser.add_argument("--dry-run", action="store_true", help="print the command, start nothing")


def run(args: argparse.Namespace) -> int:
    bag = args.bag.resolve()
    rig = load_rig(args.rig)
    remaps = []
    for item in args.remap:
        src, sep, dst = item.partition(":=")
        if not sep or not src.startswith("/") or not dst.startswith("/"):
            raise ConfigError(f"--remap {item!r}: expected /FROM:=/TO")
        remaps.append((src, dst))
    config = PlayerConfig(
        bag=str(bag),
        rate=args.rate,
        loop=args.loop,
        topics=tuple(args.topics),
        qos=tuple(args.qos),
        qos_profiles=str(args.qos_profiles.resolve()) if args.qos_profiles else "",
        wait_for=tuple(args.wait_for),
        wait_timeout_s=args.wait_timeout,
        rig_dir=str(rig.directory.resolve()),
    )
    with open_bag(bag) as reader:  # every input error surfaces here, before ROS starts
        for t in select_topics(reader, config, rig=rig, where=str(bag)):
            print(f"{t.name} [{t.msgtype}] {t.count} msgs, qos {t.qos.preset} ({t.qos.source})")
    spec = player_node(
        bag=config.bag,
        rate=config.rate,
        loop=config.loop,
        topics=config.topics,
        qos=config.qos,
        qos_profiles=config.qos_profiles,
        wait_for=config.wait_for,
        wait_timeout_s=config.wait_timeout_s,
        rig_dir=config.rig_dir,
        remappings=remaps,
    )
    with tempfile.TemporaryDirectory(prefix="microexp_play_") as tmp:
        runner = GraphRunner([spec], ros_env(os.environ), Path(tmp))
        if args.dry_run:
            print(" ".join(runner.commands()[0]))
            return 0
        runner.start()
        return runner.wait(stop_on=("source",), settle_s=0.0)
