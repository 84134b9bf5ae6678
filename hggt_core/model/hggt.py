# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The HGGT network: VGGT aggregator -> cross-attention MANO head -> camera head.

This module only composes; the blocks live in :mod:`hggt_core.model.vggt` and
:mod:`hggt_core.model.mano_head`.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from hggt_core.model.mano_head import HandParams, ManoHead
from hggt_core.model.vggt import Aggregator, CameraHead


@dataclass(frozen=True)
class HGGTConfig:
    """Network hyper-parameters; the defaults are the released HGGT model (VGGT-1B backbone)."""

    img_size: int = 518
    """Side of the square crops the DINO position embedding was trained on (pixels)."""
    patch_size: int = 14
    """Patch side in pixels; input height and width must be multiples of it."""
    embed_dim: int = 1024
    """Aggregator width C; heads work on 2C (frame and global outputs concatenated)."""
    depth: int = 24
    """Number of frame blocks (and of global blocks) in the aggregator."""
    num_heads: int = 16
    """Attention heads of the aggregator blocks."""
    mlp_ratio: float = 4.0
    """MLP expansion of the aggregator blocks."""
    num_register_tokens: int = 4
    """Register tokens per frame in the aggregator."""
    patch_embed: str = "dinov2_vitl14_reg"
    """Patch embedding: "conv", "dinov2_vit{s,b,l}14_reg" or "dinov2_vitg2_reg"."""
    head_trunk_depth: int = 4
    """Blocks in the camera-head trunk and in the MANO head's cross-attention trunk."""
    head_num_heads: int = 16
    """Attention heads of both heads (width 2C)."""
    hand_qk_norm: bool = False
    """Per-head q/k LayerNorm in the MANO head (absent in the released checkpoint)."""
    num_iterations: int = 4
    """Refinement iterations of both heads."""


@dataclass(frozen=True)
class HGGTOutput:
    """Predictions for B framesets of S views each.

    Attributes:
        hand_pose: [B, 48] MANO axis-angle pose (global orientation first), camera-0 frame.
        betas: [B, 10] MANO shape.
        transl: [B, 3] MANO translation, metres, camera-0 frame (OpenCV axes).
        pose_enc: [B, S, 9] per-view camera encoding [T, quat XYZW, fov_h, fov_w] of
            cam_from_cam0 (view 0 is identity up to prediction error).
        hand_params_per_iteration: accumulated hand parameters after each refinement iteration.
        pose_enc_per_iteration: camera encodings after each camera-head iteration.
    """

    hand_pose: Tensor
    betas: Tensor
    transl: Tensor
    pose_enc: Tensor
    hand_params_per_iteration: tuple[HandParams, ...]
    pose_enc_per_iteration: tuple[Tensor, ...]


class HGGT(nn.Module):
    """Multi-view hand mesh and camera regressor; state-dict keys match the released weights."""

    def __init__(self, config: HGGTConfig | None = None) -> None:
        super().__init__()
        self.config = config or HGGTConfig()
        cfg = self.config
        self.aggregator = Aggregator(
            img_size=cfg.img_size,
            patch_size=cfg.patch_size,
            embed_dim=cfg.embed_dim,
            depth=cfg.depth,
            num_heads=cfg.num_heads,
            mlp_ratio=cfg.mlp_ratio,
            num_register_tokens=cfg.num_register_tokens,
            patch_embed=cfg.patch_embed,
        )
        self.camera_head = CameraHead(
            dim_in=2 * cfg.embed_dim,
            trunk_depth=cfg.head_trunk_depth,
            num_heads=cfg.head_num_heads,
        )
        self.mano_head = ManoHead(
            dim_in=2 * cfg.embed_dim,
            trunk_depth=cfg.head_trunk_depth,
            num_heads=cfg.head_num_heads,
            qk_norm=cfg.hand_qk_norm,
        )

    def forward(self, images: Tensor) -> HGGTOutput:
        """Predict the hand and the cameras.

        Args:
            images: [B, S, 3, H, W] or [S, 3, H, W] RGB in [0, 1]; H, W multiples of the patch
                size; view 0 defines the output frame.

        Returns:
            The final and per-iteration predictions.
        """
        backbone_dtype = self.aggregator.camera_token.dtype
        tokens_per_layer, _ = self.aggregator(images.to(backbone_dtype), keep_layers=(-1,))
        # The heads may be kept in float32 while the backbone runs in bf16/fp16 (as the release
        # does with autocast); their inputs follow their own weights.
        head_dtype = self.mano_head.token_norm.weight.dtype
        refined = self.mano_head(tokens_per_layer[-1].to(head_dtype), self.config.num_iterations)
        pose_encodings = self.camera_head([refined.view_tokens], self.config.num_iterations)
        final = refined.params_per_iteration[-1]
        return HGGTOutput(
            hand_pose=final.hand_pose,
            betas=final.betas,
            transl=final.transl,
            pose_enc=pose_encodings[-1],
            hand_params_per_iteration=refined.params_per_iteration,
            pose_enc_per_iteration=tuple(pose_encodings),
        )
