# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The demo model's training configuration draws the demo example's scene distribution."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hggt_core.render.demo import DEMO_SCENE
from training.config import load_config
from training.sampler import ProceduralHandDataset, build_dataset

CONFIGS = Path(__file__).resolve().parents[2] / "training" / "configs"


@pytest.mark.parametrize("name", ["demo_model.yaml", "demo_model_stage2.yaml"])
def test_configuration_draws_the_demo_scene_at_the_model_size(name: str) -> None:
    config = load_config(CONFIGS / name)
    datasets = (*config.data.multi_view, *config.data.eval)
    assert datasets
    for dataset_config in datasets:
        dataset = build_dataset(dataset_config)
        assert isinstance(dataset, ProceduralHandDataset)
        assert dataset.scene.crop_size == config.model.img_size
        assert replace(dataset.scene, crop_size=DEMO_SCENE.crop_size) == DEMO_SCENE


def test_both_stages_train_the_same_network() -> None:
    stage1, stage2 = (
        load_config(CONFIGS / name) for name in ("demo_model.yaml", "demo_model_stage2.yaml")
    )
    assert stage1.model == stage2.model
    assert stage1.data.eval == stage2.data.eval
