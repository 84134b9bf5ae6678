# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
import torch

from hggt_core.model import HGGT, HGGTConfig
from training.train import init_translation

TINY = HGGTConfig(
    img_size=28, embed_dim=32, depth=1, num_heads=2, patch_embed="conv", num_iterations=3
)


def test_fresh_network_starts_at_the_given_translation() -> None:
    torch.manual_seed(0)
    model = HGGT(TINY).eval()
    init_translation(model, (0.0, 0.05, 0.45))
    out = model(torch.rand(2, 3, 3, 28, 28))
    torch.testing.assert_close(out.transl, torch.tensor([[0.0, 0.05, 0.45]] * 2))
    assert model.mano_head.transl_head.fc2.weight.requires_grad
