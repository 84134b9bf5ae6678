#!/usr/bin/env bash
# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
#
# Sets up .venv (first run only), the ROS 2 test environment (rclpy wheels, a tf2_msgs built
# with rosidl; see setup_ros_env.sh) and runs the test suite, MediaPipe's included (one
# environment: see setup_venv.sh).
# Usage: tools/run_tests.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
(
  # shellcheck source=tools/setup_venv.sh
  . tools/setup_venv.sh dev
  tools/setup_ros_env.sh
  # The built tf2_msgs needs its library path set before Python starts.
  # shellcheck disable=SC1091
  . .ros-install/env.sh
  python -m pytest "$@"
)
