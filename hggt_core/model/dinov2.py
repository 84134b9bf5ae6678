# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""DINOv2 vision transformer with register tokens: VGGT's patch embedding.

Layout and state-dict keys follow DINOv2 (``cls_token``, ``pos_embed``, ``register_tokens``,
``mask_token``, ``patch_embed.proj``, ``blocks.{i}.*``, ``norm``) so VGGT-1B's
``aggregator.patch_embed.*`` weights load unchanged. Blocks use LayerNorm eps 1e-6, a GELU
MLP, LayerScale (init 1.0), no qk-norm and no RoPE.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hggt_core.model.layers.block import Block

DINOV2_VARIANTS: dict[str, tuple[int, int, int]] = {
    "dinov2_vits14_reg": (384, 12, 6),
    "dinov2_vitb14_reg": (768, 12, 12),
    "dinov2_vitl14_reg": (1024, 24, 16),
    "dinov2_vitg2_reg": (1536, 40, 24),
}
"""Name -> (embed_dim, depth, num_heads); all use MLP ratio 4 and head width 64."""

_NORM_EPS = 1e-6
_INIT_STD = 0.02
_TOKEN_INIT_STD = 1e-6


class PatchEmbed(nn.Module):
    """Non-overlapping patches -> tokens with one strided convolution (key ``proj``).

    Args:
        patch_size: patch side in pixels (stride and kernel of the convolution).
        in_chans: image channels.
        embed_dim: token width.
    """

    def __init__(self, patch_size: int = 14, in_chans: int = 3, embed_dim: int = 1024) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, images: Tensor) -> Tensor:
        """Embed [N, in_chans, H, W] into [N, (H / p) * (W / p), D] tokens, row-major.

        Raises:
            ValueError: if H or W is not a multiple of the patch size.
        """
        height, width = images.shape[-2:]
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f"image size {height}x{width} is not a multiple of the patch size "
                f"{self.patch_size}"
            )
        tokens: Tensor = self.proj(images)
        return tokens.flatten(2).transpose(1, 2)


class DinoVisionTransformer(nn.Module):
    """DINOv2 ViT returning the final-normed patch tokens.

    Token order inside: [cls, registers, patches]. The learned ``pos_embed`` covers the class
    token and an ``img_size / patch_size`` square grid; for another grid its grid part is
    resized (bicubic, antialiased, to exactly (H / p, W / p), in float32) and it is added to
    the class and patch tokens before the registers are inserted.

    Args:
        embed_dim: token width D.
        depth: number of blocks.
        num_heads: attention heads.
        img_size: training image side in pixels; sets the native pos_embed grid.
        patch_size: patch side in pixels.
        num_register_tokens: register tokens (DINOv2 "reg" models: 4).
        mlp_ratio: MLP hidden width / D.
        init_values: LayerScale initial value.
    """

    def __init__(
        self,
        embed_dim: int,
        depth: int,
        num_heads: int,
        img_size: int = 518,
        patch_size: int = 14,
        num_register_tokens: int = 4,
        mlp_ratio: float = 4.0,
        init_values: float = 1.0,
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.patch_size = patch_size
        self.num_register_tokens = num_register_tokens
        self.pos_grid = img_size // patch_size
        self.patch_embed = PatchEmbed(patch_size, 3, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.pos_grid**2, embed_dim))
        self._constant_pos_embed: tuple[tuple[int, int], Tensor] | None = None
        self.register_tokens = (
            nn.Parameter(torch.zeros(1, num_register_tokens, embed_dim))
            if num_register_tokens
            else None
        )
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, init_values=init_values, norm_eps=_NORM_EPS)
            for _ in range(depth)
        )
        self.norm = nn.LayerNorm(embed_dim, eps=_NORM_EPS)
        # Only used for masked-image pre-training; kept so DINOv2 checkpoints load strictly.
        self.mask_token = nn.Parameter(torch.zeros(1, embed_dim), requires_grad=False)
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=_INIT_STD)
        nn.init.normal_(self.cls_token, std=_TOKEN_INIT_STD)
        if self.register_tokens is not None:
            nn.init.normal_(self.register_tokens, std=_TOKEN_INIT_STD)
        for module in self.blocks.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=_INIT_STD)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def interpolated_pos_embed(self, grid_h: int, grid_w: int) -> Tensor:
        """Position embedding for a (grid_h, grid_w) patch grid.

        Returns:
            [1, 1 + grid_h * grid_w, D]: the parameter itself at the native grid, else a
            float32 tensor (class part unchanged, grid part resized bicubically with
            antialiasing to exactly (grid_h, grid_w)).
        """
        if (grid_h, grid_w) == (self.pos_grid, self.pos_grid):
            return self.pos_embed
        if self._constant_pos_embed is not None and self._constant_pos_embed[0] == (
            grid_h,
            grid_w,
        ):
            return self._constant_pos_embed[1]
        pos_embed = self.pos_embed.float()
        grid = pos_embed[:, 1:].reshape(1, self.pos_grid, self.pos_grid, self.embed_dim)
        grid = F.interpolate(
            grid.permute(0, 3, 1, 2), size=(grid_h, grid_w), mode="bicubic", antialias=True
        )
        grid = grid.permute(0, 2, 3, 1).reshape(1, grid_h * grid_w, self.embed_dim)
        return torch.cat([pos_embed[:, :1], grid], dim=1)

    @contextlib.contextmanager
    def constant_pos_embed(self, grid_h: int, grid_w: int) -> Iterator[None]:
        """Within the block, the resized embedding of this grid is a precomputed constant.

        A traced graph then holds the embedding itself instead of the bicubic antialiased
        resize, which ONNX exporters and TensorRT do not all support.
        """
        with torch.no_grad():
            resized = self.interpolated_pos_embed(grid_h, grid_w).detach().clone()
        self._constant_pos_embed = ((grid_h, grid_w), resized)
        try:
            yield
        finally:
            self._constant_pos_embed = None

    def forward(self, images: Tensor) -> Tensor:
        """Patch tokens after the final LayerNorm.

        Args:
            images: [N, 3, H, W] ImageNet-normalised images; H, W multiples of the patch size.

        Returns:
            [N, (H / p) * (W / p), D] patch tokens, row-major over the patch grid.
        """
        num_images, _, height, width = images.shape
        x = self.patch_embed(images)
        x = torch.cat([self.cls_token.expand(num_images, -1, -1), x], dim=1)
        grid = (height // self.patch_size, width // self.patch_size)
        x = x + self.interpolated_pos_embed(*grid).to(x.dtype)
        if self.register_tokens is not None:
            registers = self.register_tokens.expand(num_images, -1, -1)
            x = torch.cat([x[:, :1], registers, x[:, 1:]], dim=1)
        for block in self.blocks:
            x = block(x)
        normed: Tensor = self.norm(x)
        return normed[:, 1 + self.num_register_tokens :]


def dinov2_from_name(
    name: str, img_size: int = 518, patch_size: int = 14, num_register_tokens: int = 4
) -> DinoVisionTransformer:
    """Build one of :data:`DINOV2_VARIANTS` (e.g. ``"dinov2_vitl14_reg"``), randomly initialised.

    Raises:
        ValueError: for an unknown name.
    """
    if name not in DINOV2_VARIANTS:
        raise ValueError(f"unknown DINOv2 variant {name!r}; choose from {sorted(DINOV2_VARIANTS)}")
    embed_dim, depth, num_heads = DINOV2_VARIANTS[name]
    return DinoVisionTransformer(
        embed_dim, depth, num_heads, img_size, patch_size, num_register_tokens
    )
