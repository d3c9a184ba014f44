#!/usr/bin/env bash
# Sources ROS 2 Jazzy, the workspace and the microexp venv, then runs the command.
set -eo pipefail
# shellcheck disable=SC1091
source /opt/ros/jazzy/setup.bash
# shellcheck disable=SC1091
source /opt/microexp/ros2_ws/install/setup.bash
# shellcheck disable=SC1091
source "${MICROEXP_VENV:-/opt/microexp-venv}/bin/activate"
export ROS_AUTOMATIC_DISCOVERY_RANGE=${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}
exec "$@"
