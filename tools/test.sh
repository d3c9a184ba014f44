#!/usr/bin/env bash
# The test command of the README: sets up everything on a fresh machine, then lints and tests.
#   tools/test.sh [pytest args...]
# Steps: pinned venv (tools/install.sh), ROS 2 Jazzy from PyPI + colcon build (tools/setup_ros.sh),
# the real recordings of the golden tests (tools/fetch_test_data.sh: pinned, sha256-checked; without
# them those tests are skipped and pytest's summary says so), ruff, mypy, pytest (live ROS tests
# included; every ROS process stays on loopback).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
bash tools/install.sh "$root/.venv"
bash tools/setup_ros.sh "$root/.venv"
bash tools/fetch_test_data.sh || echo "WARNING: some real recordings are missing: their golden tests will be skipped"
# shellcheck disable=SC1091
. "$root/.venv/bin/activate"
echo "== ruff"; ruff check src tests bench tools ros2_ws launch
echo "== mypy"; mypy
echo "== pytest"; python -m pytest "$@"
