#!/usr/bin/env bash
# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
#
# Creates .venv (first run only) and installs the package with the given extras into it, plus
# the landmark engine: MediaPipe (the `detector` extra and mediapipe itself) and the hand
# landmarker's model file, built once into the cache folder (hggt_core/landmarks/model_file.py).
# Sourced by run_tests.sh and run_demo.sh; usage: . tools/setup_venv.sh [extras, e.g. dev]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MEDIAPIPE_VERSION=1.2.3
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# The CPU build of torch first, pinned, so nothing below pulls a multi-GB CUDA build.
python -m pip install --quiet "torch==2.13.0"
python -m pip install --quiet -e ".[detector${1:+,$1}]"
# mediapipe declares opencv-contrib-python, a second provider of cv2 beside the project's
# opencv-python-headless: install it without its declared dependencies (the detector extra
# holds the ones it uses) and remove any other OpenCV build that an earlier install brought.
python -m pip install --quiet --no-deps "mediapipe==${MEDIAPIPE_VERSION}"
removed_opencv=""
for other_opencv in opencv-contrib-python opencv-python opencv-contrib-python-headless; do
  if python -m pip show --quiet "${other_opencv}" >/dev/null 2>&1; then
    python -m pip uninstall --quiet --yes "${other_opencv}"
    removed_opencv=1
  fi
done
if [ -n "${removed_opencv}" ]; then
  # The removed build deleted the cv2 files that both provide: put the headless ones back.
  headless_version="$(python -c 'from importlib.metadata import version as v
print(v("opencv-python-headless"))')"
  python -m pip install --quiet --force-reinstall --no-deps \
    "opencv-python-headless==${headless_version}"
fi
python -m hggt_core.landmarks.model_file --quiet
