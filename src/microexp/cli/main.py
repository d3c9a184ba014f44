"""Entry point of the ``microexp`` command.

Every subcommand lives in its own module of this package exposing ``HELP: str``,
``configure(parser: argparse.ArgumentParser) -> None`` and ``run(args: argparse.Namespace) -> int``.
Errors from the core (:class:`microexp.errors.MicroexpError`) are printed as ``ERROR: ...``
with exit status 1, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from microexp import __version__
from microexp.errors import MicroexpError

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: dict[str, str] = {
    "inspect": "microexp.cli.inspect_cmd",
    "sim": "microexp.cli.sim_cmd",
    "export": "microexp.cli.export_cmd",
    "dataset": "microexp.cli.dataset_cmd",
    "import": "microexp.cli.import_cmd",
    "train": "microexp.cli.train_cmd",
    "reconstruct": "microexp.cli.reconstruct_cmd",
    "sweep": "microexp.cli.sweep_cmd",
    "batch": "microexp.cli.batch_cmd",
    "infer": "microexp.cli.infer_cmd",
    "tune-stream": "microexp.cli.tune_stream_cmd",
    "demo": "microexp.cli.demo_cmd",
    "report": "microexp.cli.report_cmd",
    "protocol": "microexp.cli.protocol_cmd",
    "launch": "microexp.cli.launch_cmd",
    "rig": "microexp.cli.rig_cmd",
    "play": "microexp.cli.play_cmd",
}


def _load(module_name: str) -> ModuleType | None:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name:
            return None  # command not built yet
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="microexp",
        description="Record, label, export and learn facial micro-expressions with event cameras.",
    )
    parser.add_argument("--version", action="version", version=f"microexp {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = _load(module_name)
        if module is None:
            p = sub.add_parser(name, help="(not built yet)")
            p.set_defaults(_run=_not_built(name))
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(_run=module.run)
    return parser


def _not_built(name: str) -> Callable[[argparse.Namespace], int]:
    def run(_args: argparse.Namespace) -> int:
        print(f"ERROR: 'microexp {name}' is not built yet in this version.", file=sys.stderr)
        return 2

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args))
    except MicroexpError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ERROR: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
