# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""2-D rotary position embedding (RoPE) of VGGT's aggregator.

Each attention head of width ``head_dim`` is split into two halves: the first half is rotated
by the token's row position, the second by its column position. Within a half of width ``d``
the ``d / 2`` angles ``position * inv_freq`` (``inv_freq = 1 / frequency ** (arange(0, d, 2) /
d)``) are concatenated with themselves and applied with the rotate-half convention
``x * cos + rotate_half(x) * sin``, ``rotate_half([x1, x2]) = [-x2, x1]``.

Unlike the public VGGT code, the cos/sin tables are always computed and applied in float32,
whatever the token dtype, so bf16 inference does not quantise the angles (identical results in
float32).
"""

from __future__ import annotations

import torch
from torch import Tensor

RopeTables = tuple[Tensor, Tensor]
"""``(cos, sin)``, each [N, head_dim] float32, one row per token of a sequence."""


def grid_positions(
    height: int, width: int, num_special: int, device: torch.device | None = None
) -> Tensor:
    """RoPE positions of one frame's tokens: special tokens first, then the patch grid.

    Args:
        height: patch rows (image height / patch size).
        width: patch columns (image width / patch size).
        num_special: tokens before the patches (camera + registers); they get position (0, 0).
        device: where to create the tensor.

    Returns:
        [num_special + height * width, 2] int64 (row, col); patches in row-major order with
        both coordinates shifted by +1 so that no patch shares the special tokens' (0, 0).
    """
    rows = torch.arange(height, device=device).view(height, 1).expand(height, width)
    cols = torch.arange(width, device=device).view(1, width).expand(height, width)
    patches = torch.stack([rows, cols], dim=-1).reshape(height * width, 2) + 1
    special = torch.zeros(num_special, 2, dtype=patches.dtype, device=device)
    return torch.cat([special, patches], dim=0)


def _axis_angles(positions: Tensor, half_dim: int, frequency: float) -> Tensor:
    """[N] positions -> [N, half_dim] float32 angles (the half_dim / 2 angles twice)."""
    exponents = torch.arange(0, half_dim, 2, device=positions.device).float() / half_dim
    inv_freq = 1.0 / (frequency**exponents)
    angles = positions.float()[:, None] * inv_freq[None, :]
    return torch.cat([angles, angles], dim=-1)


def rope_tables(positions: Tensor, head_dim: int, frequency: float = 100.0) -> RopeTables:
    """Cos/sin tables for tokens at 2-D integer positions.

    Args:
        positions: [N, 2] (row, col) positions.
        head_dim: attention head width; must be a multiple of 4.
        frequency: RoPE base (VGGT: 100).

    Returns:
        (cos, sin), each [N, head_dim] float32: columns [0, head_dim / 2) follow the row,
        the rest the column.
    """
    if head_dim % 4 != 0:
        raise ValueError(f"2-D RoPE needs head_dim divisible by 4, got {head_dim}")
    half = head_dim // 2
    angles = torch.cat(
        [
            _axis_angles(positions[:, 0], half, frequency),
            _axis_angles(positions[:, 1], half, frequency),
        ],
        dim=-1,
    )
    return angles.cos(), angles.sin()


def _rotate_half_per_axis(x: Tensor) -> Tensor:
    """Rotate-half applied separately to the row half and the column half of the last axis."""
    x1, x2, x3, x4 = x.chunk(4, dim=-1)
    return torch.cat([-x2, x1, -x4, x3], dim=-1)


def apply_rope(x: Tensor, tables: RopeTables) -> Tensor:
    """Rotate queries or keys by their tokens' positions.

    Args:
        x: [..., N, head_dim] queries or keys (e.g. [B, heads, N, head_dim]), any float dtype.
        tables: (cos, sin), each [N, head_dim] float32, from :func:`rope_tables`.

    Returns:
        Tensor of x's shape and dtype; the rotation itself is computed in float32.
    """
    cos, sin = tables
    x32 = x.float()
    return (x32 * cos + _rotate_half_per_axis(x32) * sin).to(x.dtype)


class RotaryEmbedding2D:
    """Caches one frame's RoPE tables per (grid, special-token count, head width, device).

    Holds no parameters or buffers, so it adds nothing to a state dict.

    Args:
        frequency: RoPE base (VGGT: 100).
    """

    def __init__(self, frequency: float = 100.0) -> None:
        self.frequency = float(frequency)
        self._cache: dict[tuple[int, int, int, int, torch.device], RopeTables] = {}

    def clear_cache(self) -> None:
        """Forget the cached tables (e.g. ones made under ``torch.inference_mode``)."""
        self._cache.clear()

    def frame_tables(
        self, height: int, width: int, num_special: int, head_dim: int, device: torch.device
    ) -> RopeTables:
        """Tables for one frame's tokens ([num_special + height * width, head_dim] each).

        See :func:`grid_positions` for the token order and positions.
        """
        key = (height, width, num_special, head_dim, device)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        positions = grid_positions(height, width, num_special, device)
        tables = rope_tables(positions, head_dim, self.frequency)
        # Under torch.export / torch.compile these are traced tensors: caching them would
        # break every later eager call.
        if not torch.compiler.is_compiling():
            self._cache[key] = tables
        return tables
