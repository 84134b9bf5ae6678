# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared across the suite: the real example crops and a working MediaPipe."""

import os
from pathlib import Path

import pytest

from hggt_core.landmarks.model_file import default_model_path

# Real hand crops with a non-commercial licence: read from the shared folder beside the
# checkout, never copied into the repository.
EXAMPLES = Path(
    os.environ.get(
        "HGGT_EXAMPLES_DIR", Path(__file__).resolve().parents[2] / "shared/data/hggt_examples"
    )
)


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    """The shared example crops (``<Dataset>/sample_XXXX/view_YY.jpg``), or skip."""
    if not EXAMPLES.is_dir():
        pytest.skip(f"the shared example images are not present at {EXAMPLES}")
    return EXAMPLES


@pytest.fixture(scope="session")
def mediapipe_ready() -> None:
    """Skip unless mediapipe and the built hand landmarker model are installed."""
    pytest.importorskip("mediapipe", reason="mediapipe is not installed: run tools/setup_venv.sh")
    if not default_model_path().is_file():
        pytest.skip(f"no model file at {default_model_path()}: run tools/setup_venv.sh")
