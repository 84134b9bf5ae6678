# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The analytic FLOP count against torch's FlopCounterMode, and at the released size."""

from __future__ import annotations

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from hggt_core.bench.flops import ForwardFlops, forward_flops
from hggt_core.model import HGGT, HGGTConfig
from hggt_core.model.mano_head import ManoHead

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


def test_released_model_at_four_views_is_about_15_tflop() -> None:
    flops = forward_flops(HGGTConfig(), 4, 518)
    assert flops.total == pytest.approx(14.81e12, rel=0.005)
    # The compute floor: ~15 TFLOP per forward at S = 4, 518 crops.
    assert 14e12 < flops.total < 16e12
    assert flops.global_attention == pytest.approx(2.97e12, rel=0.01)
    # Smaller crops are the Jetson trade-off: 224-pixel crops cost ~7x less.
    assert forward_flops(HGGTConfig(), 4, 224).total == pytest.approx(2.14e12, rel=0.01)


def counted_head_flops(
    config: HGGTConfig, views: int, tokens_per_view: int, iterations: int
) -> int:
    """Brute force for the MANO head alone, on the meta device (see :func:`counted_flops`)."""
    width = 2 * config.embed_dim
    with torch.device("meta"):
        head = ManoHead(width, config.head_trunk_depth, config.head_num_heads).eval()
        tokens = torch.empty(1, views, tokens_per_view, width)
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            head(tokens, iterations)
    return int(counter.get_total_flops())


@pytest.mark.parametrize("views", [1, 3])
def test_mano_head_count_is_exact(views: int) -> None:
    tokens_per_view = 1 + TINY_DINO.num_register_tokens + (56 // TINY_DINO.patch_size) ** 2
    counted = counted_head_flops(TINY_DINO, views, tokens_per_view, TINY_DINO.num_iterations)
    assert forward_flops(TINY_DINO, views, 56).mano_head == counted


def test_unchanged_keys_and_values_are_projected_once_per_block() -> None:
    """Counted: 4 iterations cost 4 single ones less 3 projections per block of the others.

    The projections saved are those of the S (P - 1) unchanged view tokens: 1.1 TFLOP, ~7 % of
    the released model at 4 views x 518 px.
    """
    config = HGGTConfig()
    views, tokens_per_view, width = 4, 5 + 37 * 37, 2 * config.embed_dim
    one, four = (counted_head_flops(config, views, tokens_per_view, n) for n in (1, 4))
    projection = 2 * views * (tokens_per_view - 1) * width * 2 * width
    saved = 3 * config.head_trunk_depth * projection
    assert 4 * one - four == saved
    assert saved == pytest.approx(1.105e12, rel=0.001)
    assert saved / (forward_flops(config, views, 518).total + saved) == pytest.approx(
        0.069, abs=0.001
    )


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="views"):
        forward_flops(TINY_CONV, 0, 28)
    with pytest.raises(ValueError, match="multiple of 14"):
        forward_flops(TINY_CONV, 1, 30)
