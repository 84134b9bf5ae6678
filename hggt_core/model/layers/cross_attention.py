# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Pre-norm cross-attention block: a few query tokens attend to many key/value tokens."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from hggt_core.model.layers.layer_scale import LayerScale
from hggt_core.model.layers.mlp import Mlp


class CrossAttentionBlock(nn.Module):
    """Queries attend to a fixed key/value set, then pass through an MLP; only queries change.

    q <- q + ls1(proj(attn(q_proj(norm_q(q)), kv_proj(norm_kv(kv)))))
    q <- q + ls2(mlp(norm_mlp(q)))

    The key/value side is also offered on its own (:meth:`project_keys_values`, then
    :meth:`attend`), so a caller whose context is mostly unchanged between calls projects each
    context token once: every step of the key side (``norm_kv``, ``kv_proj``, ``k_norm``) acts
    on one token at a time, so the keys and values of a concatenation are the concatenation of
    the parts' keys and values.

    State-dict keys match the released HGGT head: ``norm_q``, ``norm_kv``, ``norm_mlp``,
    ``q_proj``, ``kv_proj``, ``proj``, ``mlp.fc1``, ``mlp.fc2``, ``ls1.gamma``, ``ls2.gamma``
    and, with ``qk_norm``, per-head ``q_norm`` / ``k_norm``.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        init_values: float = 0.01,
        qk_norm: bool = False,
    ) -> None:
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.norm_mlp = nn.LayerNorm(dim)
        self.q_proj = nn.Linear(dim, dim)
        self.kv_proj = nn.Linear(dim, 2 * dim)
        self.q_norm: nn.Module = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.k_norm: nn.Module = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.proj = nn.Linear(dim, dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.ls1 = LayerScale(dim, init_values)
        self.ls2 = LayerScale(dim, init_values)

    def forward(self, queries: Tensor, keys_values: Tensor) -> Tensor:
        """Update the queries.

        Args:
            queries: [B, Nq, C] tokens to update.
            keys_values: [B, Nkv, C] context tokens (left unchanged).

        Returns:
            [B, Nq, C] updated queries.
        """
        keys, values = self.project_keys_values(keys_values)
        return self.attend(queries, keys, values)

    def project_keys_values(self, tokens: Tensor) -> tuple[Tensor, Tensor]:
        """Keys and values of context tokens, one token at a time.

        Args:
            tokens: [B, N, C] context tokens.

        Returns:
            keys (``k_norm`` applied) and values, each [B, heads, N, C / heads].
        """
        batch = tokens.shape[0]
        kv = self.kv_proj(self.norm_kv(tokens))
        kv = kv.reshape(batch, -1, 2, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        keys: Tensor = self.k_norm(kv[0])
        return keys, kv[1]

    def attend(self, queries: Tensor, keys: Tensor, values: Tensor) -> Tensor:
        """Update the queries from projected keys and values.

        Args:
            queries: [B, Nq, C] tokens to update.
            keys: [B, heads, Nkv, C / heads] from :meth:`project_keys_values`.
            values: [B, heads, Nkv, C / heads] from :meth:`project_keys_values`.

        Returns:
            [B, Nq, C] updated queries.
        """
        batch, num_queries, dim = queries.shape
        q = self.q_proj(self.norm_q(queries))
        q = q.reshape(batch, num_queries, self.num_heads, self.head_dim).transpose(1, 2)
        attended = F.scaled_dot_product_attention(self.q_norm(q), keys, values)
        attended = attended.transpose(1, 2).reshape(batch, num_queries, dim)
        queries = queries + self.ls1(self.proj(attended))
        updated: Tensor = queries + self.ls2(self.mlp(self.norm_mlp(queries)))
        return updated
