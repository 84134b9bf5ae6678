# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The analytic FLOP count against torch's FlopCounterMode, and at the released size."""

from __future__ import annotations

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from hggt_core.engine.flops import ForwardFlops, forward_flops
from hggt_core.model import HGGT, HGGTConfig

TINY_CONV = HGGTConfig(
    img_size=28,
    embed_dim=32,
    depth=2,
    num_heads=2,
    patch_embed="conv",
    head_trunk_depth=1,
    head_num_heads=4,
    num_iterations=2,
)
TINY_DINO = HGGTConfig(
    img_size=56,
    embed_dim=384,
    depth=1,
    num_heads=6,
    patch_embed="dinov2_vits14_reg",
    head_trunk_depth=2,
    head_num_heads=6,
    num_iterations=2,
)


def counted_flops(config: HGGTConfig, views: int, crop_size: int) -> int:
    """Brute force: run the network under FlopCounterMode.

    On the meta device nothing is computed or initialised, only shapes propagate, so even the
    released model is counted in seconds. The math attention backend decomposes attention into
    matmuls, which the counter sees; grad mode stays on because the counter's module tracker
    needs autograd nodes.
    """
    with torch.device("meta"):
        model = HGGT(config).eval()
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            model(torch.rand(views, 3, crop_size, crop_size))
    return int(counter.get_total_flops())


@pytest.mark.parametrize(
    ("config", "views", "crop_size"),
    [
        pytest.param(TINY_CONV, 1, 28, id="tiny-S1"),
        pytest.param(TINY_CONV, 3, 42, id="tiny-S3"),
        pytest.param(TINY_DINO, 2, 56, id="dino-S2"),
        pytest.param(HGGTConfig(), 4, 518, id="released-S4-518", marks=pytest.mark.slow),
    ],
)
def test_matches_brute_force_count(config: HGGTConfig, views: int, crop_size: int) -> None:
    analytic = forward_flops(config, views, crop_size).total
    assert analytic == pytest.approx(counted_flops(config, views, crop_size), rel=0.02)


def test_parts_add_up_and_scale_as_expected() -> None:
    flops = forward_flops(TINY_CONV, 2, 28)
    assert isinstance(flops, ForwardFlops)
    assert flops.total == flops.aggregator + flops.mano_head + flops.camera_head
    # Global attention is quadratic in S, everything else in the aggregator linear.
    double = forward_flops(TINY_CONV, 4, 28)
    assert double.global_attention == 4 * flops.global_attention
    assert double.frame_blocks == 2 * flops.frame_blocks
    assert double.patch_embed == 2 * flops.patch_embed


def test_released_model_at_four_views_is_about_16_tflop() -> None:
    flops = forward_flops(HGGTConfig(), 4, 518)
    assert flops.total == pytest.approx(15.92e12, rel=0.005)
    # The compute floor: ~16 TFLOP per forward at S = 4, 518 crops.
    assert 15e12 < flops.total < 17e12
    assert flops.global_attention == pytest.approx(2.97e12, rel=0.01)
    # Smaller crops are the Jetson trade-off: 224-pixel crops cost ~7x less.
    assert forward_flops(HGGTConfig(), 4, 224).total == pytest.approx(2.35e12, rel=0.01)


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="views"):
        forward_flops(TINY_CONV, 0, 28)
    with pytest.raises(ValueError, match="multiple of 14"):
        forward_flops(TINY_CONV, 1, 30)
