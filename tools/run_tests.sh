#!/usr/bin/env bash
# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
#
# Sets up .venv (first run only) and runs the test suite, then the MediaPipe detector tests in
# their own environment (see run_detector_tests.sh).
# Usage: tools/run_tests.sh [pytest arguments for the main suite]
set -euo pipefail
cd "$(dirname "$0")/.."
(
  # shellcheck source=tools/setup_venv.sh
  . tools/setup_venv.sh dev
  python -m pytest "$@"
)
tools/run_detector_tests.sh -q
