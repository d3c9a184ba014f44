#!/usr/bin/env python3
"""Record the ROS parameters a camera driver declares or reads, from a checkout of its source.

    python tools/driver_params.py DRIVER CHECKOUT [-o config/rig/driver_params/DRIVER.yaml]
           [--repository URL]

DRIVER is one of the drivers below (the ROS package name). CHECKOUT is a git work tree at the
commit that ros2_ws/drivers.repos pins (or, for a driver installed from apt, the upstream tag of
the installed version). The list (name, type, file:line of the first declaration or read) goes to
``config/rig/driver_params/<package>.yaml``, which ``tests/rigcheck`` and ``microexp rig check``
compare with every key of config/rig/*.yaml: a key the driver never reads fails there.

The C++ is read with regular expressions (``declare_parameter("name", default)``,
``get_parameter_or("name", var, default)``, ``list_parameters({"prefix"})``, and each driver's own
table of dynamic parameters): enough for these three drivers, whose sources were read by hand to
confirm every hit. Adding a driver means adding a rule below and reading its source once.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Rule:
    """Where a driver's parameters live in its repository."""

    package_dir: str  # folder of the package.xml, relative to the checkout
    sources: tuple[str, ...]  # files with declare_parameter / get_parameter_or calls
    structs: tuple[str, ...] = ()  # headers whose member defaults give the types of m_params.x
    dynamic: tuple[tuple[str, str], ...] = ()  # (file, regex with groups name, default): tables
    dynamic_note: str = ""
    overrides: str = "ignored"  # what an undeclared key in the YAML does
    install: str = ""  # how a user gets the driver (printed by microexp rig check)
    notes: tuple[str, ...] = ()


RULES: dict[str, Rule] = {
    "dv_ros2_capture": Rule(
        package_dir="dv_ros2_capture",
        sources=("dv_ros2_capture/src/Capture.cpp",),
        structs=("dv_ros2_capture/include/dv_ros2_capture/Capture.hpp",),
        overrides="ignored (the node declares each parameter itself; an unknown key never "
        "reaches it)",
        install="build it from ros2_ws/drivers.repos (vcs import --recursive, with libcaer from "
        "iniVation's PPA; README 'Native ROS 2')",
        notes=(
            "sync_device_list: only a truly empty list means 'no devices' (Capture.cpp "
            "discoverSyncDevices); [''] makes a lone master camera wait forever.",
            "wait_for_sync is inverted at this commit (true = do not wait).",
        ),
    ),
    "metavision_driver": Rule(
        package_dir=".",
        sources=("src/driver_ros2.cpp",),
        dynamic=(("src/bias_parameter.cpp", r'\{\s*"(bias_\w+)"\s*,\s*\{\s*(-?\d+)'),),
        dynamic_note="declared once the camera is open, only where the sensor has that bias",
        overrides="accepted (automatically_declare_parameters_from_overrides: a misspelt key is "
        "declared and never read)",
        install="build it from ros2_ws/drivers.repos (with openeb_vendor), or apt install "
        "ros-$ROS_DISTRO-metavision-driver where that is this version",
        notes=(
            "frame_id is set by the upstream launch files but never read by the ROS 2 node "
            "at this commit (the frame id is the serial number's last 4 digits).",
            "The README's trigger_out_duty_cycle is read as trigger_duty_cycle.",
        ),
    ),
    "gscam": Rule(
        package_dir=".",
        sources=("src/gscam.cpp",),
        overrides="ignored (declared in configure(), on the pipeline thread)",
        install="apt install ros-$ROS_DISTRO-gscam",
    ),
}

_CPP_TYPES = {
    "bool": "bool",
    "int": "integer",
    "int64_t": "integer",
    "int32_t": "integer",
    "long": "integer",
    "uint32_t": "integer",
    "uint64_t": "integer",
    "size_t": "integer",
    "float": "double",
    "double": "double",
    "std::string": "string",
    "std::filesystem::path": "string",
    "fs::path": "string",
    "std::vector<std::string>": "string_array",
    "std::vector<int64_t>": "integer_array",
    "std::vector<int>": "integer_array",
    "std::vector<long>": "integer_array",
    "std::vector<double>": "double_array",
    "std::vector<float>": "double_array",
    "std::vector<bool>": "bool_array",
}

_STRING = r'"(?:[^"\\]|\\.)*"'
# declare_parameter("name", default...) / declare_parameter<T>("name", ...)
_DECLARE = re.compile(
    r"declare_parameter\s*(?:<\s*(?P<t>[\w:<>\s]+?)\s*>)?\s*\(\s*(?P<name>" + _STRING + r")"
    r"\s*(?:,\s*(?P<default>[^;]*?))?\)\s*;",
    re.S,
)
# get_parameter_or("name", var, default) / get_parameter_or<T>(...)
_GET_OR = re.compile(
    r"get_parameter_or\s*(?:<\s*(?P<t>[\w:<>\s]+?)\s*>)?\s*\(\s*(?P<name>" + _STRING + r")"
    r"\s*,\s*(?P<var>[\w.\->]+)\s*,\s*(?P<default>[^;]*?)\)\s*;",
    re.S,
)
# get_parameter("name", var) (read of a declared parameter)
_GET = re.compile(r"get_parameter\s*\(\s*(?P<name>" + _STRING + r")\s*,\s*(?P<var>[\w.\->]+)\s*\)")
_LIST = re.compile(r"list_parameters\s*\(\s*\{\s*(?P<name>" + _STRING + r")")
_MEMBER = re.compile(r"^\s*(?P<t>[\w:<>]+(?:<[\w:]+>)?)\s+(?P<name>\w+)\s*(?:=\s*(?P<v>[^;]+))?;")


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _literal_type(text: str) -> str:
    """The ROS parameter type of a C++ default expression (``"any"`` if it cannot tell)."""
    s = text.strip()
    cast = re.fullmatch(r"([\w:]+(?:<[\w:]+>)?)\s*[({].*[)}]", s, re.S)
    if cast and cast.group(1) in _CPP_TYPES:
        return _CPP_TYPES[cast.group(1)]
    if s in ("true", "false"):
        return "bool"
    if re.fullmatch(_STRING, s):
        return "string"
    if re.fullmatch(r"-?\d+[lLuU]*", s):
        return "integer"
    if re.fullmatch(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?[fF]?", s):
        return "double"
    return "any"


def _struct_types(checkout: Path, headers: tuple[str, ...]) -> dict[str, str]:
    types: dict[str, str] = {}
    for rel in headers:
        for line in (checkout / rel).read_text(encoding="utf-8").splitlines():
            m = _MEMBER.match(line)
            if m and m.group("t") in _CPP_TYPES:
                types[m.group("name")] = _CPP_TYPES[m.group("t")]
    return types


def _type_of(explicit: str | None, default: str | None, members: dict[str, str]) -> str:
    if explicit:
        return _CPP_TYPES.get(re.sub(r"\s+", "", explicit), "any")
    if default is None:
        return "any"
    member = re.fullmatch(r"\s*(?:this->)?m_params\.(\w+)\s*", default)
    if member:
        return members.get(member.group(1), "any")
    return _literal_type(default)


def extract(driver: str, checkout: Path) -> dict[str, object]:
    """The parameter record of ``driver`` from the source in ``checkout``."""
    rule = RULES[driver]
    members = _struct_types(checkout, rule.structs)
    params: dict[str, dict[str, str]] = {}
    prefixes: dict[str, dict[str, str]] = {}

    def add(name: str, ptype: str, where: str, how: str) -> None:
        entry = params.setdefault(name, {"type": ptype, "source": where, "how": how})
        if entry["type"] == "any" and ptype != "any":
            entry["type"] = ptype

    for rel in rule.sources:
        text = (checkout / rel).read_text(encoding="utf-8")
        for m in _DECLARE.finditer(text):
            name = yaml.safe_load(m.group("name"))
            add(name, _type_of(m.group("t"), m.group("default"), members),
                f"{rel}:{_line(text, m.start())}", "declared")  # fmt: skip
        for m in _GET_OR.finditer(text):
            name = yaml.safe_load(m.group("name"))
            add(name, _type_of(m.group("t"), m.group("default"), members),
                f"{rel}:{_line(text, m.start())}", "read (get_parameter_or)")  # fmt: skip
        for m in _GET.finditer(text):
            name = yaml.safe_load(m.group("name"))
            add(name, "any", f"{rel}:{_line(text, m.start())}", "read (get_parameter)")
        for m in _LIST.finditer(text):
            prefix = yaml.safe_load(m.group("name")) + "."
            prefixes[prefix] = {
                "type": "any",
                "source": f"{rel}:{_line(text, m.start())}",
                "how": "read (list_parameters)",
            }
    for rel, pattern in rule.dynamic:
        text = (checkout / rel).read_text(encoding="utf-8")
        for m in re.finditer(pattern, text):
            add(m.group(1), _literal_type(m.group(2)), f"{rel}:{_line(text, m.start())}",
                f"declared ({rule.dynamic_note})")  # fmt: skip
    if not params:
        raise SystemExit(f"ERROR: {checkout}: no parameters found for {driver}; wrong checkout?")
    pkg_xml = (checkout / rule.package_dir / "package.xml").read_text(encoding="utf-8")
    version = re.search(r"<version>([^<]+)</version>", pkg_xml)
    package = re.search(r"<name>([^<]+)</name>", pkg_xml)
    if not package or package.group(1) != driver:
        raise SystemExit(f"ERROR: {checkout}: {rule.package_dir}/package.xml is not {driver}")
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "package": driver,
        "version": version.group(1) if version else "",
        "commit": commit,
        "files": list(rule.sources) + [f for f, _ in rule.dynamic],
        "undeclared_keys": rule.overrides,
        "install": rule.install,
        "notes": list(rule.notes),
        "parameters": dict(sorted(params.items())),
        "prefixes": dict(sorted(prefixes.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("driver", choices=sorted(RULES))
    parser.add_argument("checkout", type=Path, help="git work tree of the driver at its pin")
    parser.add_argument("-o", "--output", type=Path, help="YAML file to write (default: stdout)")
    parser.add_argument("--repository", default="", help="upstream URL to record")
    args = parser.parse_args(argv)
    if not args.checkout.is_dir():
        print(f"ERROR: {args.checkout}: not a directory", file=sys.stderr)
        return 1
    record = extract(args.driver, args.checkout)
    record = {"repository": args.repository, **record} if args.repository else record
    header = (
        f"# Parameters that {args.driver} declares or reads at {record['commit'] or '?'}"
        f" (version {record['version']}).\n"
        "# Written by tools/driver_params.py from a checkout of that commit; regenerate, do not "
        "edit:\n"
        f"#   python tools/driver_params.py {args.driver} CHECKOUT -o "
        f"config/rig/driver_params/{args.driver}.yaml"
        + (f" --repository {args.repository}" if args.repository else "")
        + "\n"
    )
    text = header + yaml.safe_dump(record, sort_keys=False, width=100)
    if args.output is None:
        sys.stdout.write(text)
    else:
        tmp = args.output.with_name(args.output.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.output)
        print(f"wrote {args.output}: {len(record['parameters'])} parameters")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
