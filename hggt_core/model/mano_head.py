# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""HGGT's unified cross-attention refinement ("MANO head", MODEL_SPEC.md section 5).

Hand tokens (pose, shape, translation, living in MANO parameter space) and the camera token of
every view are the queries; all view tokens plus the hand tokens are keys/values. Each of the
refinement iterations runs the whole cross-attention trunk, decodes parameter deltas from the
hand queries and writes the refined camera tokens back into the view tokens, which the camera
head then reads. Keys and values of the view tokens that never change (all but the camera
tokens) are projected once per block, not once per iteration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
from torch import Tensor, nn

from hggt_core.model.layers.cross_attention import CrossAttentionBlock
from hggt_core.model.layers.mlp import Mlp

HAND_POSE_DIM = 48
SHAPE_DIM = 10
TRANSL_DIM = 3
NUM_HAND_TOKENS = 3
"""Hand tokens among the queries and keys: pose, shape, translation (after the S cameras)."""
_TOKEN_INIT_STD = 0.02


@dataclass(frozen=True)
class HandParams:
    """MANO parameters of one hand per batch element, in camera 0's frame.

    Attributes:
        hand_pose: [B, 48] axis-angle (radians); first 3 = global orientation, the remaining 45
            are offsets from MANO's mean hand pose (the release uses ``flat_hand_mean=False``).
        betas: [B, 10] MANO shape coefficients.
        transl: [B, 3] translation added to the MANO output, metres, camera-0 OpenCV axes.
    """

    hand_pose: Tensor
    betas: Tensor
    transl: Tensor


@dataclass(frozen=True)
class ManoHeadOutput:
    """What the refinement returns.

    Attributes:
        params_per_iteration: the accumulated prediction after every iteration; the last one
            is the answer, the earlier ones feed intermediate supervision.
        view_tokens: [B, S, P, 2C] the token-normed view tokens with each view's camera token
            (index 0) replaced by its refined value, for the camera head.
    """

    params_per_iteration: tuple[HandParams, ...]
    view_tokens: Tensor


def _modulation(dim: int) -> nn.Sequential:
    """SiLU -> Linear(dim, 3 dim): shift, scale and gate of an adaptive LayerNorm."""
    return nn.Sequential(nn.SiLU(), nn.Linear(dim, 3 * dim))


class ManoHead(nn.Module):
    """Cross-attention refinement of hand and camera tokens (keys as the release's ``mano_head``).

    Args:
        dim_in: token width 2C of the aggregator output (2048 for VGGT-1B).
        trunk_depth: cross-attention blocks run in every iteration.
        num_heads: attention heads of the trunk.
        mlp_ratio: MLP expansion of the trunk blocks.
        init_values: LayerScale initial value of the trunk blocks.
        qk_norm: per-head LayerNorm on queries and keys (absent in the released checkpoint).
    """

    def __init__(
        self,
        dim_in: int = 2048,
        trunk_depth: int = 4,
        num_heads: int = 16,
        mlp_ratio: float = 4.0,
        init_values: float = 0.01,
        qk_norm: bool = False,
    ) -> None:
        super().__init__()
        self.token_norm = nn.LayerNorm(dim_in)
        self.hand_pose_token = nn.Parameter(torch.randn(1, 1, HAND_POSE_DIM) * _TOKEN_INIT_STD)
        self.shape_token = nn.Parameter(torch.randn(1, 1, SHAPE_DIM) * _TOKEN_INIT_STD)
        self.transl_token = nn.Parameter(torch.randn(1, 1, TRANSL_DIM) * _TOKEN_INIT_STD)
        self.embed_hand_pose = nn.Linear(HAND_POSE_DIM, dim_in)
        self.embed_shape = nn.Linear(SHAPE_DIM, dim_in)
        self.embed_transl = nn.Linear(TRANSL_DIM, dim_in)
        self.hand_pose_modulation = _modulation(dim_in)
        self.shape_modulation = _modulation(dim_in)
        self.transl_modulation = _modulation(dim_in)
        self.adaln_norm = nn.LayerNorm(dim_in, elementwise_affine=False, eps=1e-6)
        self.cross_attn_trunk = nn.ModuleList(
            CrossAttentionBlock(dim_in, num_heads, mlp_ratio, init_values, qk_norm)
            for _ in range(trunk_depth)
        )
        self.cross_attn_norm = nn.LayerNorm(dim_in)
        self.hand_pose_head = Mlp(dim_in, dim_in // 4, HAND_POSE_DIM)
        self.shape_head = Mlp(dim_in, dim_in // 4, SHAPE_DIM)
        self.transl_head = Mlp(dim_in, dim_in // 4, TRANSL_DIM)

    def forward(self, tokens: Tensor, num_iterations: int = 4) -> ManoHeadOutput:
        """Refine hand parameters and camera tokens.

        Only the S camera tokens and the 3 hand tokens change between iterations; the other
        S (P - 1) view tokens, and so each block's keys and values of them, stay the same. Those
        are projected once per block and reused by every iteration, which projects only the
        S + 3 changing tokens (the iteration's initial queries). The keys keep the order of the
        full context (each view's camera token, then its other tokens; hand tokens last), so
        attention sums in the same order as when the whole context is projected every
        iteration: the outputs are the same (bit for bit in fp32 on the CPU, torch and ONNX
        Runtime, as measured by ``bench/mano_head_cache.py``).

        Args:
            tokens: [B, S, P, 2C] last aggregator layer (camera token at index 0 of each view).
            num_iterations: refinement iterations (4 in the release).

        Returns:
            The per-iteration hand parameters and the view tokens with refined camera tokens.
        """
        view_tokens = self.token_norm(tokens)
        num_views = view_tokens.shape[1]
        unchanged = view_tokens[:, :, 1:].flatten(1, 2)
        cached = [block.project_keys_values(unchanged) for block in self._blocks()]
        camera_tokens = view_tokens[:, :, 0]
        previous: HandParams | None = None
        params_per_iteration = []
        for _ in range(num_iterations):
            hand_tokens = self._hand_tokens(previous, tokens.shape[0])
            queries = torch.cat([camera_tokens, hand_tokens], dim=1)
            queries = self._run_trunk(queries, cached)
            camera_tokens = queries[:, :num_views]
            delta = HandParams(
                hand_pose=self.hand_pose_head(queries[:, num_views]),
                betas=self.shape_head(queries[:, num_views + 1]),
                transl=self.transl_head(queries[:, num_views + 2]),
            )
            previous = delta if previous is None else _accumulate(previous, delta)
            params_per_iteration.append(previous)
        # The camera head reads these; built once, after the last iteration.
        view_tokens = torch.cat([camera_tokens[:, :, None], view_tokens[:, :, 1:]], dim=2)
        return ManoHeadOutput(tuple(params_per_iteration), view_tokens)

    def _run_trunk(self, queries: Tensor, cached: list[tuple[Tensor, Tensor]]) -> Tensor:
        """One iteration of the trunk, then ``cross_attn_norm``.

        Args:
            queries: [B, S + 3, 2C] camera and hand tokens; they are also the changing part of
                the context, so their keys and values are projected here.
            cached: per block, keys and values of the unchanged view tokens,
                [B, heads, S (P - 1), 2C / heads] each.

        Returns:
            [B, S + 3, 2C] the refined camera and hand tokens.
        """
        changing = queries
        for block, (keys, values) in zip(self._blocks(), cached, strict=True):
            new_keys, new_values = block.project_keys_values(changing)
            queries = block.attend(
                queries, _full_context(keys, new_keys), _full_context(values, new_values)
            )
        normed: Tensor = self.cross_attn_norm(queries)
        return normed

    def _blocks(self) -> list[CrossAttentionBlock]:
        """The trunk's blocks, typed for the key/value methods."""
        return [cast(CrossAttentionBlock, block) for block in self.cross_attn_trunk]

    def _hand_tokens(self, previous: HandParams | None, batch: int) -> Tensor:
        """Embed and modulate the three hand tokens: [B, 3, 2C] (pose, shape, translation)."""
        if previous is None:
            sources = (
                self.hand_pose_token.expand(batch, 1, -1),
                self.shape_token.expand(batch, 1, -1),
                self.transl_token.expand(batch, 1, -1),
            )
        else:
            # Detached like the camera head: each iteration learns a correction, not a path.
            sources = (
                previous.hand_pose.detach()[:, None],
                previous.betas.detach()[:, None],
                previous.transl.detach()[:, None],
            )
        kinds = (
            (self.embed_hand_pose, self.hand_pose_modulation),
            (self.embed_shape, self.shape_modulation),
            (self.embed_transl, self.transl_modulation),
        )
        modulated = []
        for source, (embed, modulation) in zip(sources, kinds, strict=True):
            embedded = embed(source)
            shift, scale, gate = modulation(embedded).chunk(3, dim=-1)
            modulated.append(gate * (self.adaln_norm(embedded) * (1 + scale) + shift) + embedded)
        return torch.cat(modulated, dim=1)


def _full_context(unchanged: Tensor, changing: Tensor) -> Tensor:
    """Keys (or values) of the whole context in its token order, from its two parts.

    Args:
        unchanged: [B, heads, S (P - 1), D] of each view's tokens after its camera token.
        changing: [B, heads, S + 3, D] of the S camera tokens, then the 3 hand tokens.

    Returns:
        [B, heads, S P + 3, D]: view 0's camera token and other tokens, view 1's, ..., then
        the hand tokens.
    """
    num_views = changing.shape[2] - NUM_HAND_TOKENS
    per_view = unchanged.unflatten(2, (num_views, -1))
    views = torch.cat([changing[:, :, :num_views, None], per_view], dim=3).flatten(2, 3)
    return torch.cat([views, changing[:, :, num_views:]], dim=2)


def _accumulate(previous: HandParams, delta: HandParams) -> HandParams:
    return HandParams(
        hand_pose=previous.hand_pose + delta.hand_pose,
        betas=previous.betas + delta.betas,
        transl=previous.transl + delta.transl,
    )
