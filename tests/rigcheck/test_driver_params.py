"""Every key of the rig's driver configs against the parameters each driver declares or reads at
its pin (config/rig/driver_params, recorded from the drivers' sources by tools/driver_params.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from microexp.errors import ConfigError
from microexp.rigcheck import (
    check_node_params,
    driver_params_dir,
    load_driver_params,
    node_param_values,
)
from microexp.rosgraph import load_rig

ROOT = Path(__file__).resolve().parents[2]
RIG_DIR = ROOT / "config" / "rig"
TOOL = ROOT / "tools" / "driver_params.py"


def _pins() -> dict[str, str]:
    """drivers.repos: repository URL -> pinned commit."""
    repos = yaml.safe_load((ROOT / "ros2_ws" / "drivers.repos").read_text())["repositories"]
    return {r["url"]: r["version"] for r in repos.values()}


def test_every_driver_key_is_a_parameter_the_driver_reads_at_its_pin() -> None:
    rig = load_rig(RIG_DIR)
    assert rig.cameras, "the rig has cameras"
    for cam in rig.cameras.values():
        record = load_driver_params(driver_params_dir(RIG_DIR) / f"{cam.driver.package}.yaml")
        assert record.package == cam.driver.package
        keys = node_param_values(cam.driver.params, cam.driver.name)
        assert keys, f"{cam.driver.params} gives {cam.driver.name} no parameters"
        assert (
            check_node_params(
                params_file=cam.driver.params, node_name=cam.driver.name, record=record
            )
            == []
        ), cam.driver.params


def test_recorded_lists_come_from_the_pinned_commits() -> None:
    pins = _pins()
    built_from_source = {"dv_ros2_capture", "metavision_driver"}
    for path in sorted(driver_params_dir(RIG_DIR).glob("*.yaml")):
        record = load_driver_params(path)
        assert len(record.commit) == 40, path
        if record.package in built_from_source:
            assert pins[record.repository] == record.commit, (path, record.repository)
        else:  # from apt (gscam): the upstream tag of the version apt installs
            assert record.repository not in pins
    assert all(re.fullmatch(r"[0-9a-f]{40}", commit) for commit in pins.values()), pins
    # metavision_driver 3.0.0 is tested with OpenEB 5.0.0: openeb_vendor 2.0.2
    assert (
        pins["https://github.com/ros-event-camera/openeb_vendor.git"]
        == "37d40591bc59d05c3b1232476924231253604abe"
    )


def test_the_davis_is_not_told_to_wait_for_a_nameless_device() -> None:
    """At the pin, a non-empty sync_device_list (even [""]) holds a lone DAVIS forever."""
    values = node_param_values(RIG_DIR / "davis.yaml", "dv_ros2_capture")
    assert all(name for name in values.get("sync_device_list", []))
    assert "sync_device_list" not in values  # its default, the empty list, is the right one


def _evk4_yaml(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "evk4.yaml"
    path.write_text((RIG_DIR / "evk4.yaml").read_text() + extra)
    return path


@pytest.fixture(scope="module")
def mv_record():  # type: ignore[no-untyped-def]
    return load_driver_params(driver_params_dir(RIG_DIR) / "metavision_driver.yaml")


def test_a_misspelt_key_is_caught_with_a_suggestion(tmp_path: Path, mv_record) -> None:  # type: ignore[no-untyped-def]
    path = _evk4_yaml(tmp_path, "    trigger_in_mdoe: external\n")
    ((key, problem),) = check_node_params(
        params_file=path, node_name="event_camera", record=mv_record
    )
    assert key == "trigger_in_mdoe"
    assert "neither declares nor reads it" in problem and "'trigger_in_mode'" in problem
    assert "metavision_driver 3.0.0" in problem


@pytest.mark.parametrize(
    ("extra", "key", "match"),
    [
        ("    erc_rate: 1.0e+7\n", "erc_rate", "float 10000000.0; the driver reads a integer"),
        ("    statistics_print_interval: 2\n", "statistics_print_interval", "decimal point"),
        ("    roi: []\n", "roi", "empty list"),
        ("    roi: [0, 0, 1.5, 2]\n", "roi", "element"),
        ("    serial: [a]\n", "serial", "is a list"),
        ("    use_multithreading: 'yes'\n", "use_multithreading", "the driver reads a bool"),
    ],
)
def test_values_of_the_wrong_type_are_caught(
    tmp_path: Path,
    mv_record,
    extra: str,
    key: str,
    match: str,  # type: ignore[no-untyped-def]
) -> None:
    ((bad, problem),) = check_node_params(
        params_file=_evk4_yaml(tmp_path, extra), node_name="event_camera", record=mv_record
    )
    assert bad == key and match in problem
    assert "src/driver_ros2.cpp:" in problem  # where the driver reads it


def test_nested_keys_under_a_listed_prefix_are_accepted(tmp_path: Path, mv_record) -> None:  # type: ignore[no-untyped-def]
    extra = "    prophesee_pin_config:\n      evc3a_plugin_gen31:\n        external: 0\n"
    path = _evk4_yaml(tmp_path, extra)
    assert "prophesee_pin_config.evc3a_plugin_gen31.external" in node_param_values(
        path, "event_camera"
    )
    assert check_node_params(params_file=path, node_name="event_camera", record=mv_record) == []


def test_shared_section_counts_and_other_nodes_do_not(tmp_path: Path, mv_record) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.yaml"
    path.write_text(
        "/**:\n  ros__parameters:\n    serail: x\n"
        "other_node:\n  ros__parameters:\n    whatever: 1\n"
    )
    assert [
        k
        for k, _ in check_node_params(params_file=path, node_name="event_camera", record=mv_record)
    ] == ["serail"]


def test_bad_records_and_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"nope\.yaml: no recorded parameter list.*driver_params\.py"
    ):
        load_driver_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("package: x\nversion: '1'\ncommit: abc\nparameters: {p: {type: float}}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: parameters\.p: type must be one of"):
        load_driver_params(bad)
    bad.write_text("package: x\n")
    with pytest.raises(
        ConfigError, match=r"missing key\(s\) \['commit', 'parameters', 'version'\]"
    ):
        load_driver_params(bad)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("event_camera:\n  serial: x\n")
    with pytest.raises(ConfigError, match=r"cfg\.yaml: event_camera: expected a ros__parameters"):
        node_param_values(cfg, "event_camera")


# --- the tool that records the lists ---------------------------------------------------------

GSCAM_CPP = """\
bool GSCam::configure()
{
  const auto gsconfig_rosparam = declare_parameter("gscam_config", "");
  sync_sink_ = declare_parameter("sync_sink", true);
  camera_info_url_ = declare_parameter(
    "camera_info_url", "");
  image_encoding_ =
    declare_parameter("image_encoding", std::string(sensor_msgs::image_encodings::RGB8));
  rate_ = declare_parameter<double>("rate", 30);
  frame_id_ = declare_parameter("frame_id", "camera_frame");
}
"""


def _checkout(tmp_path: Path, package: str, files: dict[str, str]) -> Path:
    repo = tmp_path / package
    for rel, text in {
        "package.xml": f"<package><name>{package}</name><version>9.8.7</version></package>",
        **files,
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git = shutil.which("git")
    assert git
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}  # fmt: skip
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"]):
        subprocess.run([git, "-C", str(repo), *cmd], check=True, env=env)
    return repo


def test_tool_records_declared_parameters_with_types_and_lines(tmp_path: Path) -> None:
    repo = _checkout(tmp_path, "gscam", {"src/gscam.cpp": GSCAM_CPP})
    out = tmp_path / "gscam.yaml"
    proc = subprocess.run(
        [sys.executable, str(TOOL), "gscam", str(repo), "-o", str(out), "--repository", "URL"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    record = load_driver_params(out)
    assert (record.package, record.version, record.repository) == ("gscam", "9.8.7", "URL")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    assert record.commit == head
    got = {n: (s.ptype, s.source) for n, s in record.parameters.items()}
    assert got == {
        "gscam_config": ("string", "src/gscam.cpp:3"),
        "sync_sink": ("bool", "src/gscam.cpp:4"),
        "camera_info_url": ("string", "src/gscam.cpp:5"),
        "image_encoding": ("string", "src/gscam.cpp:8"),
        "rate": ("double", "src/gscam.cpp:9"),
        "frame_id": ("string", "src/gscam.cpp:10"),
    }
    assert "regenerate" in out.read_text().splitlines()[1]


METAVISION_CPP = """\
void DriverROS2::configureWrapper(const std::string & name)
{
  this->get_parameter_or("serial", sn, std::string(""));
  this->get_parameter_or("event_message_time_threshold", mtt, 1e-3);
  this->get_parameter_or("event_message_size_threshold", mts, int64_t(1000000000));
  this->get_parameter_or("roi", roi_long, std::vector<int64_t>());
  this->get_parameter_or<std::string>("settings", settingsFile, "");
  this->get_parameter_or("trigger_out_period", tOutPeriod, 100000L);
  const auto params = node->list_parameters({"prophesee_pin_config"}, 10);
}
"""
BIAS_CPP = '{{"bias_diff_on", {95, 140, "on threshold level"}},\n {"bias_fo", {-35, 55, "x"}}}'


def test_tool_records_reads_prefixes_and_the_bias_table(tmp_path: Path) -> None:
    repo = _checkout(
        tmp_path,
        "metavision_driver",
        {"src/driver_ros2.cpp": METAVISION_CPP, "src/bias_parameter.cpp": BIAS_CPP},
    )
    proc = subprocess.run(
        [sys.executable, str(TOOL), "metavision_driver", str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(proc.stdout)
    types = {n: p["type"] for n, p in doc["parameters"].items()}
    assert types == {
        "bias_diff_on": "integer",
        "bias_fo": "integer",
        "event_message_size_threshold": "integer",
        "event_message_time_threshold": "double",
        "roi": "integer_array",
        "serial": "string",
        "settings": "string",
        "trigger_out_period": "integer",
    }
    assert list(doc["prefixes"]) == ["prophesee_pin_config."]
    assert "automatically_declare_parameters_from_overrides" in doc["undeclared_keys"]


def test_tool_refuses_a_checkout_of_another_package(tmp_path: Path) -> None:
    repo = _checkout(tmp_path, "not_gscam", {"src/gscam.cpp": GSCAM_CPP})
    proc = subprocess.run(
        [sys.executable, str(TOOL), "gscam", str(repo)], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0 and "package.xml is not gscam" in proc.stderr
