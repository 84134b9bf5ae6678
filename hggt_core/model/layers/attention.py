# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Multi-head self-attention with optional per-head QK LayerNorm and 2-D RoPE (VGGT layout)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from hggt_core.model.layers.rope import RopeTables, apply_rope


class Attention(nn.Module):
    """Self-attention: qkv -> heads -> [q_norm, k_norm] -> [RoPE] -> SDPA -> proj.

    State-dict keys ``qkv``, ``q_norm``, ``k_norm`` (only with ``qk_norm``) and ``proj`` match
    VGGT and DINOv2. The softmax scale is ``1 / sqrt(head_dim)``.

    Args:
        dim: token width C; must be divisible by ``num_heads``.
        num_heads: attention heads.
        qkv_bias: bias on the qkv projection.
        proj_bias: bias on the output projection.
        qk_norm: LayerNorm (affine, eps 1e-5) over the head width on queries and keys.
        rope: whether this layer expects RoPE tables in :meth:`forward`.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        qkv_bias: bool = True,
        proj_bias: bool = True,
        qk_norm: bool = False,
        rope: bool = False,
    ) -> None:
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.rope = rope
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.q_norm: nn.Module = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.k_norm: nn.Module = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.proj = nn.Linear(dim, dim, bias=proj_bias)

    def forward(self, x: Tensor, rope: RopeTables | None = None) -> Tensor:
        """Attend over the N tokens of each sequence.

        Args:
            x: [B, N, C] tokens.
            rope: (cos, sin) [N, head_dim] float32 tables; required iff built with ``rope``.

        Returns:
            [B, N, C] attention output (before the residual).
        """
        if (rope is not None) != self.rope:
            raise ValueError(
                f"this attention layer was built with rope={self.rope} but "
                f"{'got' if rope is not None else 'did not get'} RoPE tables"
            )
        batch, num_tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, num_tokens, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None:
            q, k = apply_rope(q, rope), apply_rope(k, rope)
        out = F.scaled_dot_product_attention(q, k, v)
        projected: Tensor = self.proj(out.transpose(1, 2).reshape(batch, num_tokens, dim))
        return projected
