# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
from dataclasses import replace

import torch

from hggt_core.model import HGGT, HGGTConfig
from training.train import init_translation


def test_fresh_network_starts_at_the_given_translation(tiny_config: HGGTConfig) -> None:
    torch.manual_seed(0)
    model = HGGT(replace(tiny_config, num_iterations=3)).eval()
    init_translation(model, (0.0, 0.05, 0.45))
    out = model(torch.rand(2, 3, 3, 28, 28))
    torch.testing.assert_close(out.transl, torch.tensor([[0.0, 0.05, 0.45]] * 2))
    assert model.mano_head.transl_head.fc2.weight.requires_grad
