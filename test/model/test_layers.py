# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the small transformer layers (MLP, LayerScale, Attention, Block, cross-attention)."""

from __future__ import annotations

import math

import pytest
import torch

from hggt_core.model.layers import Attention, Block, LayerScale, Mlp, rope_tables
from hggt_core.model.layers.cross_attention import CrossAttentionBlock


def test_mlp_is_fc_gelu_fc_with_vggt_keys() -> None:
    torch.manual_seed(0)
    mlp = Mlp(6, 10, 3)
    assert list(mlp.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    x = torch.randn(2, 4, 6)
    hidden = x @ mlp.fc1.weight.T + mlp.fc1.bias
    exact_gelu = 0.5 * hidden * (1 + torch.erf(hidden / math.sqrt(2)))
    expected = exact_gelu @ mlp.fc2.weight.T + mlp.fc2.bias
    torch.testing.assert_close(mlp(x), expected)


def test_mlp_widths_default_to_input_and_bias_flag() -> None:
    mlp = Mlp(5, bias=False)
    assert mlp.fc1.weight.shape == (5, 5) and mlp.fc2.weight.shape == (5, 5)
    assert list(mlp.state_dict()) == ["fc1.weight", "fc2.weight"]


def test_layer_scale_multiplies_last_axis() -> None:
    scale = LayerScale(3, 0.5)
    assert list(scale.state_dict()) == ["gamma"]
    torch.testing.assert_close(scale.gamma.detach(), torch.full((3,), 0.5))
    x = torch.ones(2, 3)
    torch.testing.assert_close(scale(x), torch.full((2, 3), 0.5))
    assert x.eq(1).all()  # not in place


def _manual_attention(attn: Attention, x: torch.Tensor, rope: bool) -> torch.Tensor:
    batch, tokens, dim = x.shape
    heads, head_dim = attn.num_heads, attn.head_dim
    qkv = attn.qkv(x).reshape(batch, tokens, 3, heads, head_dim)
    q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))
    q, k = attn.q_norm(q), attn.k_norm(k)
    if rope:
        positions = torch.stack([torch.arange(tokens), torch.arange(tokens) % 3], dim=-1)
        cos, sin = rope_tables(positions, head_dim)
        half = head_dim // 4

        def rotate(t: torch.Tensor) -> torch.Tensor:
            a, b, c, d = t.split(half, dim=-1)
            return t * cos + torch.cat([-b, a, -d, c], dim=-1) * sin

        q, k = rotate(q), rotate(k)
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head_dim), dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(batch, tokens, dim)
    return attn.proj(out)


@pytest.mark.parametrize("qk_norm", [False, True])
@pytest.mark.parametrize("rope", [False, True])
def test_attention_matches_softmax_formula(qk_norm: bool, rope: bool) -> None:
    torch.manual_seed(0)
    attn = Attention(16, 2, qk_norm=qk_norm, rope=rope)
    x = torch.randn(2, 7, 16)
    tables = None
    if rope:
        positions = torch.stack([torch.arange(7), torch.arange(7) % 3], dim=-1)
        tables = rope_tables(positions, 8)
    torch.testing.assert_close(attn(x, tables), _manual_attention(attn, x, rope))


def test_attention_keys_and_rope_mismatch() -> None:
    attn = Attention(16, 2, qk_norm=True, rope=True)
    assert list(attn.state_dict()) == [
        "qkv.weight",
        "qkv.bias",
        "q_norm.weight",
        "q_norm.bias",
        "k_norm.weight",
        "k_norm.bias",
        "proj.weight",
        "proj.bias",
    ]
    assert attn.q_norm.eps == 1e-5
    with pytest.raises(ValueError, match="rope"):
        attn(torch.randn(1, 3, 16))
    plain = Attention(16, 2)
    with pytest.raises(ValueError, match="rope"):
        plain(torch.randn(1, 3, 16), rope_tables(torch.zeros(3, 2), 8))
    with pytest.raises(ValueError, match="divisible"):
        Attention(10, 3)


def test_block_keys_follow_vggt() -> None:
    block = Block(16, 2, init_values=0.01, qk_norm=True)
    assert list(block.state_dict()) == [
        "norm1.weight",
        "norm1.bias",
        "attn.qkv.weight",
        "attn.qkv.bias",
        "attn.q_norm.weight",
        "attn.q_norm.bias",
        "attn.k_norm.weight",
        "attn.k_norm.bias",
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
    ]
    assert block.mlp.fc1.out_features == 64
    assert block.norm1.eps == 1e-5
    assert Block(16, 2, norm_eps=1e-6).norm2.eps == 1e-6
    no_scale = Block(16, 2, init_values=None, qkv_bias=False, proj_bias=False, ffn_bias=False)
    keys = list(no_scale.state_dict())
    assert not any("gamma" in key for key in keys)
    assert [key for key in keys if key.endswith("bias")] == ["norm1.bias", "norm2.bias"]


def test_block_is_two_pre_norm_residuals() -> None:
    torch.manual_seed(0)
    block = Block(16, 2, mlp_ratio=2.0, init_values=0.3)
    x = torch.randn(2, 5, 16)
    mid = x + 0.3 * block.attn(block.norm1(x))
    expected = mid + 0.3 * block.mlp(block.norm2(mid))
    torch.testing.assert_close(block(x), expected)


def test_cross_attention_key_side_is_per_token_and_splits_from_attend() -> None:
    """Keys/values of a concatenation are the parts' (what lets the MANO head cache them)."""
    torch.manual_seed(0)
    block = CrossAttentionBlock(32, 4, qk_norm=True).eval()
    queries, first, second = torch.randn(2, 5, 32), torch.randn(2, 7, 32), torch.randn(2, 3, 32)
    keys, values = block.project_keys_values(torch.cat([first, second], dim=1))
    assert keys.shape == values.shape == (2, 4, 10, 8)
    parts = [block.project_keys_values(tokens) for tokens in (first, second)]
    torch.testing.assert_close(keys, torch.cat([part[0] for part in parts], dim=2))
    torch.testing.assert_close(values, torch.cat([part[1] for part in parts], dim=2))
    context = torch.cat([first, second], dim=1)
    torch.testing.assert_close(block.attend(queries, keys, values), block(queries, context))
    # k_norm is a per-head LayerNorm of each key: zero mean over the head width.
    torch.testing.assert_close(keys.mean(-1), torch.zeros(2, 4, 10), atol=1e-6, rtol=0)
