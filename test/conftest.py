# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared across the suite: the tiny network, the real example crops, MediaPipe."""

import os
from pathlib import Path

import pytest

from hggt_core.landmarks.model_file import default_model_path
from hggt_core.model.hggt import HGGTConfig

# Real hand crops with a non-commercial licence: read from the shared folder beside the
# checkout, never copied into the repository.
EXAMPLES = Path(
    os.environ.get(
        "HGGT_EXAMPLES_DIR", Path(__file__).resolve().parents[2] / "shared/data/hggt_examples"
    )
)


TINY_CONFIG = HGGTConfig(
    img_size=28,
    embed_dim=32,
    depth=1,
    num_heads=2,
    patch_embed="conv",
    head_trunk_depth=1,
    head_num_heads=4,
    num_iterations=2,
)
"""The suite's tiny network: width 32, one block per stage, 28-pixel crops (two patches)."""


@pytest.fixture(scope="session")
def tiny_config() -> HGGTConfig:
    """The suite's tiny network config; tests vary it with ``dataclasses.replace``."""
    return TINY_CONFIG


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
