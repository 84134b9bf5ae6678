#!/usr/bin/env bash
# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
#
# Installs the ROS 2 test environment into .venv (made by tools/setup_venv.sh) and builds the
# one interface package PyPI lacks, tf2_msgs, into .ros-install/. Idempotent: a second run only
# checks the pins and rewrites the environment file. Background, from the repository root:
# ../shared/design/ROS_TESTING.md.
#   - rclpy, rmw_fastrtps_cpp and the message packages: ROS 2 Jazzy wheels from PyPI
#     (tools/ros/requirements.txt, every version pinned by tools/ros/constraints.txt);
#   - tf2_msgs: generated and compiled by the rosidl toolchain from tools/ros/tf2_msgs;
#   - with ../shared/ros beside the checkout: the real ros2 CLI into .venv and colcon into
#     .ros-install/colcon, for the launch tests (.ros-install/cli/env.sh sets up `ros2`);
#   - .ros-install/env.sh: source it BEFORE starting Python (the dynamic loader reads
#     LD_LIBRARY_PATH only at start-up), then run the tests or the node:
#       . .ros-install/env.sh && python -m pytest
# Usage: tools/setup_ros_env.sh   (HGGT_VENV overrides the environment, default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
VENV="${HGGT_VENV:-$REPO/.venv}"
PREFIX="$REPO/.ros-install"
PYTHON="$VENV/bin/python"

if [ ! -x "$PYTHON" ]; then
  echo "setup_ros_env: no Python environment at $VENV; run tools/setup_venv.sh dev first" >&2
  exit 1
fi
mkdir -p "$PREFIX"
# Concurrent runs (several test sessions on one machine) would build into the same prefix.
exec 9>"$PREFIX/.lock"
flock 9

# Hold what the main environment already has, so the ROS wheels can never move numpy, torch or
# OpenCV (pip fails loudly instead).
held="$PREFIX/held-versions.txt"
"$PYTHON" - >"$held" <<'EOF'
from importlib import metadata

for name in ("numpy", "torch", "opencv-python-headless", "opencv-python"):
    try:
        print(f"{name}=={metadata.version(name)}")
    except metadata.PackageNotFoundError:
        pass
EOF
# pip spends seconds re-checking ~100 satisfied pins, so a rerun with unchanged pins whose
# modules still import skips it.
pip_fingerprint="$(cat tools/ros/requirements.txt tools/ros/constraints.txt "$held" \
  <(echo "$VENV") | sha256sum | cut -d' ' -f1)"
pip_stamp="$PREFIX/pip.stamp"
if [ "$(cat "$pip_stamp" 2>/dev/null)" != "$pip_fingerprint" ] || ! "$PYTHON" -c '
import catkin_pkg, em, lark, rclpy, rosidl_generator_py, rosidl_parser
import builtin_interfaces.msg, diagnostic_msgs.msg, geometry_msgs.msg, rcl_interfaces.msg
import sensor_msgs.msg, std_msgs.msg, visualization_msgs.msg' 2>/dev/null; then
  rm -f "$pip_stamp"
  "$PYTHON" -m pip install --quiet -r tools/ros/requirements.txt -c tools/ros/constraints.txt \
    -c "$held"
  # rosidl_parser declares the old lark-parser, which shares the `lark` import name with
  # lark 1.x; the generators need lark 1.x, whichever of the two pip happened to unpack last.
  if ! "$PYTHON" -c 'import lark, sys; sys.exit(int(lark.__version__.split(".")[0]) < 1)'; then
    "$PYTHON" -m pip install --quiet --force-reinstall --no-deps -c tools/ros/constraints.txt lark
  fi
  echo "$pip_fingerprint" >"$pip_stamp"
fi

py_version="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
site_packages="$PREFIX/lib/python$py_version/site-packages"
sources=(tools/ros/tf2_msgs tools/ros/wheel_paths.cmake tools/ros/requirements.txt
  tools/ros/constraints.txt tools/setup_ros_env.sh)
fingerprint="$( (find "${sources[@]}" -type f -print0 | sort -z | xargs -0 sha256sum
  echo "$PYTHON $py_version"
  cat "$held") | sha256sum | cut -d' ' -f1)"
stamp="$PREFIX/tf2_msgs.stamp"

if [ "$(cat "$stamp" 2>/dev/null)" != "$fingerprint" ] || [ ! -d "$site_packages/tf2_msgs" ]; then
  rm -rf "${PREFIX:?}/build" "${PREFIX:?}/lib" "${PREFIX:?}/share" "${PREFIX:?}/include" "$stamp"
  # The wheels were built by manylinux' /opt/python/cpXY-cpXY and their exported CMake targets
  # still name its include directories; wheel_paths.cmake points them at this interpreter's.
  # This needs no root and writes nothing outside the repository (no /opt symlinks).
  tag="cp${py_version/./}"
  python_include="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  numpy_include="$("$PYTHON" -c 'import numpy; print(numpy.get_include())')"
  log="$PREFIX/build.log"
  if ! (
    export AMENT_PREFIX_PATH="$VENV" PATH="$VENV/bin:$PATH"
    cmake -S tools/ros/tf2_msgs -B "$PREFIX/build/tf2_msgs" \
      -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
      -DCMAKE_PREFIX_PATH="$VENV" -DCMAKE_INSTALL_PREFIX="$PREFIX" \
      -DPython3_EXECUTABLE="$PYTHON" \
      -DCMAKE_PROJECT_INCLUDE="$REPO/tools/ros/wheel_paths.cmake" \
      -DHGGT_WHEEL_PREFIX="/opt/python/$tag-$tag" \
      -DHGGT_PYTHON_INCLUDE_DIR="$python_include" -DHGGT_NUMPY_INCLUDE_DIR="$numpy_include" &&
      cmake --build "$PREFIX/build/tf2_msgs" --parallel "$(nproc)" &&
      cmake --install "$PREFIX/build/tf2_msgs"
  ) >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "setup_ros_env: building tf2_msgs failed; full log: $log" >&2
    exit 1
  fi
  echo "$fingerprint" >"$stamp"
fi

# The real ros2 CLI (launch, launch_ros, ros2cli) from ../shared/ros, when the checkout has it
# beside it, into .venv (composition_interfaces into .ros-install/cli), and colcon in its own
# venv (tools/ros/colcon-requirements.txt): what test/ros/test_launch.py runs the user's
# `colcon build` and `ros2 launch` with. Without ../shared/ros those tests skip, saying why.
shared_ros="$REPO/../shared/ros"
if [ -f "$shared_ros/setup_ros_cli.sh" ]; then
  bash "$shared_ros/setup_ros_cli.sh" "$VENV" "$PREFIX/cli" >/dev/null
  colcon_venv="$PREFIX/colcon"
  colcon_fingerprint="$( (cat tools/ros/colcon-requirements.txt; echo "$PYTHON $py_version") |
    sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$colcon_venv/stamp" 2>/dev/null)" != "$colcon_fingerprint" ] ||
    [ ! -x "$colcon_venv/bin/colcon" ]; then
    rm -rf "$colcon_venv"
    # From .venv's interpreter: colcon installs into lib/pythonX.Y of the Python it runs on,
    # which must be the node's.
    "$PYTHON" -m venv "$colcon_venv"
    "$colcon_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r tools/ros/colcon-requirements.txt
    echo "$colcon_fingerprint" >"$colcon_venv/stamp"
  fi
fi

# Written at every run so it always names this checkout's paths. ROS_DOMAIN_ID defaults to a
# per-shell value (1..100) and discovery stays on this host, so concurrent test runs on one
# machine do not see each other's nodes.
{
  echo "# Generated by tools/setup_ros_env.sh: the ROS 2 test environment of this checkout."
  echo "# Source it before starting Python: . .ros-install/env.sh"
  printf "_hggt_site_packages='%s'\n_hggt_prefix='%s'\n_hggt_venv='%s'\n" \
    "$site_packages" "$PREFIX" "$VENV"
  cat <<'EOF'
_hggt_prepend() {  # VARIABLE DIRECTORY: put DIRECTORY first unless it is already listed
  _hggt_old=""
  eval "_hggt_old=\"\${$1:-}\""
  case ":$_hggt_old:" in
    *":$2:"*) ;;
    *) eval "export $1=\"\$2\${_hggt_old:+:\$_hggt_old}\"" ;;
  esac
}
_hggt_prepend PYTHONPATH "$_hggt_site_packages"
_hggt_prepend LD_LIBRARY_PATH "$_hggt_prefix/lib"
_hggt_prepend AMENT_PREFIX_PATH "$_hggt_venv"
_hggt_prepend AMENT_PREFIX_PATH "$_hggt_prefix"
export HGGT_ROS_ENV="$_hggt_prefix"
export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(($$ % 100 + 1))}"
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
export ROS_LOG_DIR="${ROS_LOG_DIR:-$_hggt_prefix/log}"
unset -f _hggt_prepend
unset _hggt_old _hggt_site_packages _hggt_prefix _hggt_venv
EOF
} >"$PREFIX/env.sh"
