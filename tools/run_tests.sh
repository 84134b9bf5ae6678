#!/usr/bin/env bash
# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
#
# Sets up a virtual environment in .venv (first run only) and runs the test suite.
# Usage: tools/run_tests.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# The CPU build of torch first, pinned, so nothing below pulls a multi-GB CUDA build.
python -m pip install --quiet "torch==2.13.0"
python -m pip install --quiet -e ".[dev]"
exec python -m pytest "$@"
