# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Known-answer tests of VGGT's 2-D rotary position embedding."""

from __future__ import annotations

import pytest
import torch

from hggt_core.model.layers.rope import (
    RotaryEmbedding2D,
    apply_rope,
    grid_positions,
    rope_tables,
)


def test_grid_positions_special_tokens_at_origin_patches_shifted() -> None:
    positions = grid_positions(2, 3, 2)
    expected = [[0, 0], [0, 0], [1, 1], [1, 2], [1, 3], [2, 1], [2, 2], [2, 3]]
    assert positions.tolist() == expected
    assert positions.dtype == torch.int64


def test_position_zero_is_identity() -> None:
    x = torch.randn(2, 3, 4, 8)
    cos, sin = rope_tables(torch.zeros(4, 2, dtype=torch.int64), 8)
    torch.testing.assert_close(cos, torch.ones(4, 8))
    torch.testing.assert_close(sin, torch.zeros(4, 8))
    assert torch.equal(apply_rope(x, (cos, sin)), x)


def test_each_pair_rotates_by_position_times_inverse_frequency() -> None:
    head_dim, half = 16, 8
    row, col = 3, 5
    x = torch.randn(head_dim, dtype=torch.float64)
    tables = rope_tables(torch.tensor([[row, col]]), head_dim, frequency=100.0)
    out = apply_rope(x.float()[None], tables)[0].double()
    for axis, pos in ((0, row), (1, col)):
        for i in range(half // 2):
            angle = pos / 100.0 ** (2 * i / half)
            a, b = x[axis * half + i], x[axis * half + i + half // 2]
            expected = (
                a * torch.cos(torch.tensor(angle, dtype=torch.float64))
                - b * torch.sin(torch.tensor(angle, dtype=torch.float64)),
                b * torch.cos(torch.tensor(angle, dtype=torch.float64))
                + a * torch.sin(torch.tensor(angle, dtype=torch.float64)),
            )
            got = (out[axis * half + i], out[axis * half + i + half // 2])
            torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_dot_product_depends_only_on_position_difference() -> None:
    torch.manual_seed(0)
    q, k = torch.randn(64), torch.randn(64)

    def score(pos_q: tuple[int, int], pos_k: tuple[int, int]) -> float:
        rq = apply_rope(q[None], rope_tables(torch.tensor([pos_q]), 64))[0]
        rk = apply_rope(k[None], rope_tables(torch.tensor([pos_k]), 64))[0]
        return float(rq @ rk)

    reference = score((3, 7), (1, 2))
    assert score((12, 20), (10, 15)) == pytest.approx(reference, abs=1e-4)
    assert score((2, 5), (0, 0)) == pytest.approx(reference, abs=1e-4)
    assert score((3, 7), (1, 3)) != pytest.approx(reference, abs=1e-2)
    # Rows act on the first half of the head only, columns on the second.
    assert score((3, 7), (2, 2)) != pytest.approx(reference, abs=1e-2)


def test_tables_are_float32_and_bf16_tokens_are_rotated_in_float32() -> None:
    rope = RotaryEmbedding2D(100)
    cos, sin = rope.frame_tables(37, 37, 5, 64, torch.device("cpu"))
    assert cos.dtype == sin.dtype == torch.float32
    assert cos.shape == (5 + 37 * 37, 64)
    x = torch.randn(1, 2, cos.shape[0], 64)
    out_bf16 = apply_rope(x.bfloat16(), (cos, sin))
    assert out_bf16.dtype == torch.bfloat16
    expected = apply_rope(x.bfloat16().float(), (cos, sin))
    # Only the final rounding to bf16 is lossy (relative error <= 2^-8).
    torch.testing.assert_close(out_bf16.float(), expected, rtol=2**-8, atol=1e-6)


def test_tables_are_cached_per_grid_and_device() -> None:
    rope = RotaryEmbedding2D()
    cpu = torch.device("cpu")
    first = rope.frame_tables(4, 6, 5, 64, cpu)
    assert rope.frame_tables(4, 6, 5, 64, cpu) is first
    other = rope.frame_tables(6, 4, 5, 64, cpu)
    assert other is not first
    assert not torch.equal(other[0], first[0])


def test_head_dim_must_split_in_four() -> None:
    with pytest.raises(ValueError, match="divisible by 4"):
        rope_tables(torch.zeros(1, 2), 6)
