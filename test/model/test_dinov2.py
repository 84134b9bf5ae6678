# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the DINOv2 patch embedding: keys, token order, pos_embed interpolation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hggt_core.model.dinov2 import DinoVisionTransformer, PatchEmbed, dinov2_from_name


def _tiny(depth: int = 1) -> DinoVisionTransformer:
    torch.manual_seed(0)
    return DinoVisionTransformer(32, depth, 2, img_size=56, patch_size=14).eval()


def test_dinov2_large_parameter_count_and_keys() -> None:
    with torch.device("meta"):
        model = dinov2_from_name("dinov2_vitl14_reg")
    assert sum(p.numel() for p in model.parameters()) == 304_372_736
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert shapes["cls_token"] == (1, 1, 1024)
    assert shapes["pos_embed"] == (1, 1 + 37 * 37, 1024)
    assert shapes["register_tokens"] == (1, 4, 1024)
    assert shapes["mask_token"] == (1, 1024)
    assert shapes["patch_embed.proj.weight"] == (1024, 3, 14, 14)
    assert shapes["norm.weight"] == (1024,)
    block_keys = {key[len("blocks.23.") :] for key in shapes if key.startswith("blocks.23.")}
    assert block_keys == {
        "norm1.weight",
        "norm1.bias",
        "attn.qkv.weight",
        "attn.qkv.bias",
        "attn.proj.weight",
        "attn.proj.bias",
        "ls1.gamma",
        "norm2.weight",
        "norm2.bias",
        "mlp.fc1.weight",
        "mlp.fc1.bias",
        "mlp.fc2.weight",
        "mlp.fc2.bias",
        "ls2.gamma",
    }
    assert "blocks.24.norm1.weight" not in shapes
    assert not model.mask_token.requires_grad


@pytest.mark.parametrize(
    ("name", "dim", "depth"),
    [
        ("dinov2_vits14_reg", 384, 12),
        ("dinov2_vitb14_reg", 768, 12),
        ("dinov2_vitg2_reg", 1536, 40),
    ],
)
def test_dinov2_variants(name: str, dim: int, depth: int) -> None:
    with torch.device("meta"):
        model = dinov2_from_name(name)
    assert model.embed_dim == dim and len(model.blocks) == depth
    assert model.blocks[0].attn.head_dim == 64
    assert model.norm.eps == model.blocks[0].norm1.eps == 1e-6
    assert model.blocks[0].ls1.gamma.shape == (dim,)
    assert model.pos_embed.shape == (1, 1 + 37 * 37, dim)


def test_layer_scale_starts_at_one() -> None:
    torch.testing.assert_close(_tiny().blocks[0].ls2.gamma.detach(), torch.ones(32))


def test_unknown_variant_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown DINOv2 variant"):
        dinov2_from_name("dinov2_vith14_reg")


def test_pos_embed_untouched_at_native_grid() -> None:
    model = _tiny()
    assert model.interpolated_pos_embed(4, 4) is model.pos_embed


@pytest.mark.parametrize("grid", [(2, 3), (6, 6), (5, 2)])
def test_pos_embed_resized_bicubic_antialiased_to_exact_grid(grid: tuple[int, int]) -> None:
    model = _tiny()
    resized = model.interpolated_pos_embed(*grid)
    assert resized.shape == (1, 1 + grid[0] * grid[1], 32)
    torch.testing.assert_close(resized[:, 0], model.pos_embed[:, 0])
    square = model.pos_embed[0, 1:].reshape(4, 4, 32).permute(2, 0, 1)[None]
    expected = F.interpolate(square, size=grid, mode="bicubic", antialias=True)
    torch.testing.assert_close(resized[0, 1:], expected[0].permute(1, 2, 0).reshape(-1, 32))


def test_constant_pos_embed_holds_the_resized_values_only_inside_the_block() -> None:
    model = _tiny()
    resized = model.interpolated_pos_embed(6, 6)
    with model.constant_pos_embed(6, 6):
        constant = model.interpolated_pos_embed(6, 6)
        assert model.interpolated_pos_embed(6, 6) is constant
        assert not constant.requires_grad
        torch.testing.assert_close(constant, resized, rtol=0, atol=0)
        # Other grids are still resized from the parameter.
        assert model.interpolated_pos_embed(5, 2).requires_grad
    after = model.interpolated_pos_embed(6, 6)
    assert after.requires_grad and after is not constant


def test_output_is_normed_patch_tokens_after_pos_embed() -> None:
    """With no blocks the output is norm(patch embedding + grid pos_embed), registers dropped."""
    model = _tiny(depth=0)
    images = torch.randn(3, 3, 28, 42)
    with torch.no_grad():
        patches = model.patch_embed(images) + model.interpolated_pos_embed(2, 3)[:, 1:]
        expected = model.norm(patches)
        out = model(images)
    assert out.shape == (3, 6, 32)
    torch.testing.assert_close(out, expected)


def test_registers_see_no_pos_embed_and_are_inserted_after_cls() -> None:
    """Registers attend like any token; changing them changes patch outputs through blocks."""
    model = _tiny(depth=1)
    images = torch.randn(1, 3, 56, 56)
    with torch.no_grad():
        before = model(images)
        assert model.register_tokens is not None
        model.register_tokens.add_(1.0)
        after = model(images)
    assert before.shape == (1, 16, 32)
    assert not torch.allclose(before, after)


def test_patch_embed_rejects_non_multiple_sizes_and_orders_row_major() -> None:
    embed = PatchEmbed(2, 1, 1)
    with torch.no_grad():
        embed.proj.weight.fill_(1.0)
        embed.proj.bias.zero_()
    image = torch.arange(24, dtype=torch.float32).reshape(1, 1, 4, 6)
    tokens = embed(image)[0, :, 0]
    # Patch sums of a 2x3 grid of 2x2 patches, row-major.
    assert tokens.tolist() == [14.0, 22.0, 30.0, 62.0, 70.0, 78.0]
    with pytest.raises(ValueError, match="multiple of the patch size"):
        embed(torch.zeros(1, 1, 5, 6))
