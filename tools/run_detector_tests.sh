#!/usr/bin/env bash
# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
#
# Runs the MediaPipe detector tests in their own environment, .venv-detector (first run only).
# mediapipe 0.10.14 needs protobuf < 5 while the main environment's onnx needs protobuf >= 6,
# so the two cannot share a venv. The detector's hand-solution graph imports neither jax nor
# sounddevice, so mediapipe is installed without its declared dependencies, plus the ones it
# really uses (about 40 s and 440 MB instead of 1.1 GB).
# Usage: tools/run_detector_tests.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv-detector/bin/python ]; then
  python3 -m venv .venv-detector
fi
# shellcheck disable=SC1091
. .venv-detector/bin/activate
python -m pip install --quiet numpy opencv-python-headless pytest absl-py attrs flatbuffers \
  matplotlib "protobuf>=4.25.3,<5"
python -m pip install --quiet --no-deps "mediapipe==0.10.14"
exec python -m pytest -p no:cacheprovider "$@" \
  test/pipeline/test_mediapipe_detector.py
