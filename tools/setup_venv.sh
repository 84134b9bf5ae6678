#!/usr/bin/env bash
# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
#
# Creates .venv (first run only) and installs the package with the given extras into it.
# Sourced by run_tests.sh and run_demo.sh; usage: . tools/setup_venv.sh [extras, e.g. dev]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# The CPU build of torch first, pinned, so nothing below pulls a multi-GB CUDA build.
python -m pip install --quiet "torch==2.13.0"
python -m pip install --quiet -e ".${1:+[$1]}"
