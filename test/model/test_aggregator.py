# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of VGGT's alternating-attention aggregator on tiny configurations."""

from __future__ import annotations

import pytest
import torch

from hggt_core.model.vggt import Aggregator

C = 32


def _tiny(**overrides: object) -> Aggregator:
    torch.manual_seed(0)
    kwargs: dict[str, object] = {
        "img_size": 28,
        "embed_dim": C,
        "depth": 2,
        "num_heads": 2,
        "patch_embed": "conv",
    }
    kwargs.update(overrides)
    return Aggregator(**kwargs).eval()  # type: ignore[arg-type]


def _randomise_special_tokens(model: Aggregator) -> None:
    # The default init (std 1e-6) makes view 0's tokens almost equal to the others'.
    with torch.no_grad():
        model.camera_token.normal_()
        model.register_token.normal_()


@pytest.mark.parametrize("views", range(1, 9))
def test_shapes_for_one_to_eight_views(views: int) -> None:
    model = _tiny()
    with torch.no_grad():
        layers, patch_start = model(torch.rand(2, views, 3, 28, 42))
    assert patch_start == 5
    assert len(layers) == 2
    for layer in layers:
        assert layer.shape == (2, views, 5 + 2 * 3, 2 * C)


def test_four_dim_input_is_one_batch() -> None:
    model = _tiny()
    images = torch.rand(3, 3, 28, 28)
    with torch.no_grad():
        layers, _ = model(images)
        batched, _ = model(images[None])
    assert layers[-1].shape == (1, 3, 5 + 4, 2 * C)
    torch.testing.assert_close(layers[-1], batched[-1])


def test_dinov2_small_patch_embed_on_non_square_input() -> None:
    model = _tiny(
        embed_dim=384, depth=1, num_heads=6, patch_embed="dinov2_vits14_reg", img_size=56
    )
    with torch.no_grad():
        layers, patch_start = model(torch.rand(1, 2, 3, 28, 42))
    assert patch_start == 5
    assert layers[0].shape == (1, 2, 5 + 6, 768)
    assert torch.isfinite(layers[0]).all()


@pytest.mark.parametrize("shape", [(1, 2, 3, 30, 28), (1, 2, 3, 28, 41), (2, 3, 28, 27)])
def test_sizes_not_multiple_of_patch_are_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="multiple of the patch size"):
        _tiny()(torch.rand(shape))


@pytest.mark.parametrize("shape", [(1, 2, 1, 28, 28), (28, 28), (1, 1, 2, 3, 28, 28)])
def test_wrong_ranks_or_channels_are_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"\[B, S, 3, H, W\]"):
        _tiny()(torch.rand(shape))


def test_view_zero_gets_its_own_special_tokens() -> None:
    model = _tiny(depth=1)
    _randomise_special_tokens(model)
    image = torch.rand(1, 1, 3, 28, 28)
    with torch.no_grad():
        (out,), _ = model(image.expand(1, 3, 3, 28, 28))
    assert not torch.allclose(out[0, 0], out[0, 1], atol=1e-3)
    torch.testing.assert_close(out[0, 1], out[0, 2])
    with torch.no_grad():
        model.camera_token[:, 1] = model.camera_token[:, 0]
        model.register_token[:, 1] = model.register_token[:, 0]
        (same,), _ = model(image.expand(1, 3, 3, 28, 28))
    torch.testing.assert_close(same[0, 0], same[0, 1])


def test_permuting_views_after_the_first_permutes_outputs() -> None:
    model = _tiny()
    _randomise_special_tokens(model)
    images = torch.rand(2, 5, 3, 28, 42)
    order = torch.tensor([0, 3, 1, 4, 2])
    with torch.no_grad():
        layers, _ = model(images)
        permuted, _ = model(images[:, order])
    for out, out_perm in zip(layers, permuted, strict=True):
        torch.testing.assert_close(out_perm, out[:, order], atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        swapped_first, _ = model(images[:, torch.tensor([1, 0, 2, 3, 4])])
    assert not torch.allclose(swapped_first[-1][:, 1], layers[-1][:, 0], atol=1e-3)


def test_layer_is_frame_output_then_global_output() -> None:
    """Layer 0 = [frame block 0 on each view, global block 0 on all views jointly]."""
    model = _tiny(depth=1)
    _randomise_special_tokens(model)
    images = torch.rand(2, 3, 3, 28, 42)
    with torch.no_grad():
        (layer,), _ = model(images)
        # The frame half of layer 0 is also reachable through the tokens of one view alone.
        (single,), _ = model(images[:, :1])
    torch.testing.assert_close(layer[:, :1, :, :C], single[:, :, :, :C])
    assert not torch.allclose(layer[:, :1, :, C:], single[:, :, :, C:], atol=1e-4)
    block = model.global_blocks[0]
    assert model.rope is not None
    cos, sin = model.rope.frame_tables(2, 3, 5, C // 2, torch.device("cpu"))
    with torch.no_grad():
        joint = block(layer[..., :C].reshape(2, -1, C), (cos.repeat(3, 1), sin.repeat(3, 1)))
    torch.testing.assert_close(layer[..., C:], joint.reshape(2, 3, 11, C))


def test_keep_layers_returns_the_same_tensors() -> None:
    model = _tiny(depth=4)
    images = torch.rand(1, 3, 3, 28, 28)
    with torch.no_grad():
        full, _ = model(images)
        last, _ = model(images, keep_layers=(-1,))
        some, _ = model(images, keep_layers=[3, 0, -3, 0])
        none, _ = model(images, keep_layers=())
    assert len(full) == 4 and len(last) == 1 and len(some) == 3 and none == []
    torch.testing.assert_close(last[0], full[3], rtol=0, atol=0)
    for got, index in zip(some, (0, 1, 3), strict=True):
        torch.testing.assert_close(got, full[index], rtol=0, atol=0)
    with pytest.raises(ValueError, match="out of range"):
        model(images, keep_layers=(4,))
    with pytest.raises(ValueError, match="out of range"):
        model(images, keep_layers=(-5,))


def test_block_size_and_order_variants_run() -> None:
    model = _tiny(depth=4, aa_block_size=2, aa_order=("global", "frame"))
    with torch.no_grad():
        layers, _ = model(torch.rand(1, 2, 3, 28, 28), keep_layers=(1, 2))
    assert [layer.shape for layer in layers] == [(1, 2, 9, 2 * C)] * 2
    with pytest.raises(ValueError, match="aa_block_size"):
        _tiny(depth=3, aa_block_size=2)
    with pytest.raises(ValueError, match="aa_order"):
        _tiny(aa_order=("frame", "frame"))


def test_rope_can_be_disabled() -> None:
    model = _tiny(rope_freq=-1)
    assert model.rope is None
    with torch.no_grad():
        layers, _ = model(torch.rand(1, 2, 3, 28, 28))
    assert layers[-1].shape == (1, 2, 9, 2 * C)


def test_bad_patch_embed_configs_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown patch_embed"):
        _tiny(patch_embed="resnet")
    with pytest.raises(ValueError, match="384-wide"):
        _tiny(patch_embed="dinov2_vits14_reg")


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    model = _tiny().train()
    images = torch.rand(1, 2, 3, 28, 28)
    layers, _ = model(images)
    layers[-1].square().sum().backward()
    plain = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    model.zero_grad()
    model.gradient_checkpointing = True
    layers, _ = model(images)
    layers[-1].square().sum().backward()
    checkpointed = [p.grad for p in model.parameters() if p.grad is not None]
    assert len(plain) == len(checkpointed) > 0
    for a, b in zip(plain, checkpointed, strict=True):
        torch.testing.assert_close(a, b)


def test_full_size_parameter_counts_and_keys() -> None:
    with torch.device("meta"):
        model = Aggregator()
    count = sum(p.numel() for p in model.parameters())
    assert count == 909_112_320
    assert sum(p.numel() for p in model.patch_embed.parameters()) == 304_372_736
    assert sum(p.numel() for p in model.frame_blocks.parameters()) == 302_364_672
    assert sum(p.numel() for p in model.global_blocks.parameters()) == 302_364_672
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert shapes["camera_token"] == (1, 2, 1, 1024)
    assert shapes["register_token"] == (1, 2, 4, 1024)
    assert shapes["patch_embed.patch_embed.proj.weight"] == (1024, 3, 14, 14)
    assert shapes["patch_embed.mask_token"] == (1, 1024)
    for stack in ("frame_blocks", "global_blocks"):
        assert shapes[f"{stack}.23.attn.qkv.weight"] == (3072, 1024)
        assert shapes[f"{stack}.23.attn.q_norm.weight"] == (64,)
        assert shapes[f"{stack}.23.attn.k_norm.bias"] == (64,)
        assert shapes[f"{stack}.23.ls1.gamma"] == (1024,)
        assert shapes[f"{stack}.23.mlp.fc1.weight"] == (4096, 1024)
        assert f"{stack}.24.norm1.weight" not in shapes
    assert model.frame_blocks[0].norm1.eps == 1e-5
    assert model.patch_embed.blocks[0].norm1.eps == 1e-6
    assert not any("image_mean" in key or "rope" in key for key in shapes)


def test_conv_patch_embed_keys() -> None:
    keys = [key for key in _tiny().state_dict() if key.startswith("patch_embed.")]
    assert keys == ["patch_embed.proj.weight", "patch_embed.proj.bias"]


def test_reduced_precision_runs_close_to_float32() -> None:
    model = _tiny()
    images = torch.rand(1, 3, 3, 28, 42)
    with torch.no_grad():
        reference = model(images, keep_layers=(-1,))[0][0]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            autocast = model(images, keep_layers=(-1,))[0][0]
        bf16 = model.to(torch.bfloat16)(images.bfloat16(), keep_layers=(-1,))[0][0]
    assert bf16.dtype == torch.bfloat16
    for out in (autocast, bf16):
        assert out.shape == reference.shape
        torch.testing.assert_close(out.float(), reference, atol=0.1, rtol=0.05)
