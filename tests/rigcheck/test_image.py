"""docker/Dockerfile cannot be built on the development machines (no Docker engine, no internet):
these checks hold it to what the drivers' sources need, so that it fails rather than builds green
without a driver."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from microexp.rigcheck import driver_params_dir, load_driver_params
from microexp.rosgraph import load_rig

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()
RIG = load_rig(ROOT / "config" / "rig")


def _from_source() -> set[str]:
    repos = yaml.safe_load((ROOT / "ros2_ws" / "drivers.repos").read_text())["repositories"]
    return {r["url"] for r in repos.values()}


def test_every_rig_driver_is_built_or_installed_and_then_checked() -> None:
    urls = _from_source()
    build = re.search(r"packages\+=\(([^)]*)\)", DOCKERFILE)
    assert build, "the image builds the drivers with colcon --packages-up-to"
    built = set(build.group(1).split())
    for cam in RIG.cameras.values():
        package = cam.driver.package
        record = load_driver_params(driver_params_dir(RIG.directory) / f"{package}.yaml")
        if record.repository in urls:
            assert package in built, f"{package} (drivers.repos) is not built"
        else:
            apt = "ros-jazzy-" + package.replace("_", "-")
            assert apt in DOCKERFILE, f"{package} comes from neither drivers.repos nor apt"
    # submodules (dv-ros2's dv-processing), no green build without drivers, then the check
    assert "vcs import --recursive" in DOCKERFILE
    assert "--continue-on-error" not in DOCKERFILE
    assert "microexp rig check --offline" in DOCKERFILE
    assert "MICROEXP_WITH_DRIVERS" not in DOCKERFILE


def test_libcaer_comes_from_inivations_ppa_and_dv_processing_from_the_submodule() -> None:
    assert "add-apt-repository -y ppa:inivation-ppa/inivation" in DOCKERFILE
    assert "libcaer-dev" in DOCKERFILE
    assert "dv-processing/COLCON_IGNORE" in DOCKERFILE
    installs = " ".join(re.findall(r"apt-get install[^&]*", DOCKERFILE))
    assert not re.search(r"\bdv-processing\b", installs)  # the PPA's 2.x would not fit the pin
