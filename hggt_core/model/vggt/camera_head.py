# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""VGGT's camera head: iterative refinement of a 9-D pose encoding per view (MODEL_SPEC.md 3).

The encoding is [T (3), quaternion XYZW (4), fov_h, fov_w] of each view's camera-from-world
extrinsic (OpenCV axes, view 0 = world; see :mod:`hggt_core.geometry`). State-dict keys match
VGGT-1B's ``camera_head.*``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hggt_core.model.layers.block import Block
from hggt_core.model.layers.mlp import Mlp

POSE_ENCODING_DIMS = {"absT_quaR_FoV": 9}
"""Supported pose encodings -> width."""

_ACTIVATIONS = ("linear", "inv_log", "exp", "relu")


def _activate(x: Tensor, kind: str) -> Tensor:
    if kind == "linear":
        return x
    if kind == "inv_log":
        return torch.sign(x) * torch.expm1(torch.abs(x))
    if kind == "exp":
        return torch.exp(x)
    if kind == "relu":
        return F.relu(x)
    raise ValueError(f"unknown activation {kind!r}; choose from {_ACTIVATIONS}")


def activate_pose_encoding(
    encoding: Tensor, trans_act: str = "linear", quat_act: str = "linear", fl_act: str = "relu"
) -> Tensor:
    """Apply the per-part output activations to a raw [..., 9] encoding.

    Args:
        encoding: [..., 9] raw [T, quaternion, fov_h, fov_w].
        trans_act: activation of T (one of "linear", "inv_log", "exp", "relu").
        quat_act: activation of the quaternion.
        fl_act: activation of the two fields of view (VGGT: "relu", keeps them >= 0).

    Returns:
        [..., 9] activated encoding.
    """
    return torch.cat(
        [
            _activate(encoding[..., :3], trans_act),
            _activate(encoding[..., 3:7], quat_act),
            _activate(encoding[..., 7:], fl_act),
        ],
        dim=-1,
    )


class CameraHead(nn.Module):
    """Predict each view's pose encoding from its camera token, refining it iteratively.

    Each iteration embeds the previous (detached) prediction, or the learned
    ``empty_pose_tokens`` first, into shift/scale/gate of an adaptive LayerNorm on the camera
    tokens, runs the ``trunk`` (self-attention across the S views, no RoPE, no qk-norm) and
    adds the decoded delta to the prediction.

    Args:
        dim_in: token width 2C (aggregator frame + global outputs).
        trunk_depth: transformer blocks in the trunk.
        pose_encoding_type: only "absT_quaR_FoV" (9-D).
        num_heads: trunk attention heads.
        mlp_ratio: trunk MLP hidden width / dim_in.
        init_values: trunk LayerScale initial value.
        trans_act: activation of the translation part.
        quat_act: activation of the quaternion part.
        fl_act: activation of the field-of-view part.
    """

    def __init__(
        self,
        dim_in: int = 2048,
        trunk_depth: int = 4,
        pose_encoding_type: str = "absT_quaR_FoV",
        num_heads: int = 16,
        mlp_ratio: float = 4,
        init_values: float = 0.01,
        trans_act: str = "linear",
        quat_act: str = "linear",
        fl_act: str = "relu",
    ) -> None:
        super().__init__()
        if pose_encoding_type not in POSE_ENCODING_DIMS:
            raise ValueError(f"unsupported pose encoding {pose_encoding_type!r}")
        for act in (trans_act, quat_act, fl_act):
            if act not in _ACTIVATIONS:
                raise ValueError(f"unknown activation {act!r}; choose from {_ACTIVATIONS}")
        self.target_dim = POSE_ENCODING_DIMS[pose_encoding_type]
        self.trans_act, self.quat_act, self.fl_act = trans_act, quat_act, fl_act
        self.trunk = nn.Sequential(
            *(
                Block(dim_in, num_heads, mlp_ratio, init_values=init_values)
                for _ in range(trunk_depth)
            )
        )
        self.token_norm = nn.LayerNorm(dim_in)
        self.trunk_norm = nn.LayerNorm(dim_in)
        self.empty_pose_tokens = nn.Parameter(torch.zeros(1, 1, self.target_dim))
        self.embed_pose = nn.Linear(self.target_dim, dim_in)
        self.poseLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim_in, 3 * dim_in))
        self.adaln_norm = nn.LayerNorm(dim_in, elementwise_affine=False, eps=1e-6)
        self.pose_branch = Mlp(dim_in, dim_in // 2, self.target_dim)

    def forward(
        self, aggregated_tokens_list: Sequence[Tensor], num_iterations: int = 4
    ) -> list[Tensor]:
        """Predict pose encodings.

        Args:
            aggregated_tokens_list: token tensors; only the last, [B, S, P, 2C], is read, and
                only its token 0 of each view (the camera token).
            num_iterations: refinement iterations.

        Returns:
            num_iterations activated encodings [B, S, 9] ([T, quaternion XYZW, fov_h, fov_w]),
            one per iteration; the last is the answer.
        """
        camera_tokens: Tensor = self.token_norm(aggregated_tokens_list[-1][:, :, 0])
        batch, views, _ = camera_tokens.shape
        normed: Tensor = self.adaln_norm(camera_tokens)
        pred: Tensor | None = None
        encodings: list[Tensor] = []
        for _ in range(num_iterations):
            if pred is None:
                embedded = self.embed_pose(self.empty_pose_tokens.expand(batch, views, -1))
            else:
                # Each iteration learns a correction; no gradient flows into earlier ones.
                pred = pred.detach()
                embedded = self.embed_pose(pred)
            shift, scale, gate = self.poseLN_modulation(embedded).chunk(3, dim=-1)
            modulated = gate * (normed * (1 + scale) + shift) + camera_tokens
            delta: Tensor = self.pose_branch(self.trunk_norm(self.trunk(modulated)))
            pred = delta if pred is None else pred + delta
            encodings.append(
                activate_pose_encoding(pred, self.trans_act, self.quat_act, self.fl_act)
            )
        return encodings
