#!/usr/bin/env bash
# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
#
# Sets up .venv (first run only) and runs the main job on the bundled example:
# the whole pipeline, its outputs under hggt_demo_output/, and its errors against ground truth.
# Usage: tools/run_demo.sh [hggt demo options, e.g. --checkpoint hggt.safetensors]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/setup_venv.sh
. tools/setup_venv.sh ""  # no extras: an explicit argument keeps the demo's options out of it
exec hggt demo "$@"
