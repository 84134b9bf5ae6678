# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tiny HGGT configurations shared by the model tests."""

from dataclasses import replace

import pytest
import torch

from hggt_core.model import HGGT, HGGTConfig
from hggt_core.model.layers.layer_scale import LayerScale


@pytest.fixture(scope="session")
def model_tiny_config(tiny_config: HGGTConfig) -> HGGTConfig:
    """The suite's tiny network with two blocks per stage and three refinement iterations."""
    return replace(tiny_config, depth=2, head_trunk_depth=2, num_iterations=3)


@pytest.fixture
def tiny_model(model_tiny_config: HGGTConfig) -> HGGT:
    """The model tests' tiny network (seed 0) in eval mode."""
    torch.manual_seed(0)
    return HGGT(model_tiny_config).eval()


@pytest.fixture
def trained_like_model(tiny_model: HGGT) -> HGGT:
    """Random weights with a trained model's signal paths open.

    VGGT initialises the special tokens near zero and every LayerScale at 0.01, so at init the
    reference view is barely distinguished and the image barely reaches the heads; a trained
    model has neither property, and the symmetry tests should see that regime.
    """
    with torch.no_grad():
        tiny_model.aggregator.camera_token.normal_()
        tiny_model.aggregator.register_token.normal_()
        for module in tiny_model.modules():
            if isinstance(module, LayerScale):
                module.gamma.fill_(1.0)
    return tiny_model
