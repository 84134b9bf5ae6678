# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""VGGT's alternating-attention aggregator (MODEL_SPEC.md section 2).

Every view is patch-embedded (DINOv2 or a plain convolution), prefixed with a camera token and
register tokens (one set for view 0, another shared by all other views), then passed through
``depth`` pairs of blocks: frame attention (within each view) and global attention (across all
views). Layer i's output is the channel concatenation of frame block i's and global block i's
outputs. State-dict keys match VGGT-1B's ``aggregator.*``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from hggt_core.model.dinov2 import DINOV2_VARIANTS, PatchEmbed, dinov2_from_name
from hggt_core.model.layers.block import Block
from hggt_core.model.layers.rope import RopeTables, RotaryEmbedding2D

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_TOKEN_INIT_STD = 1e-6
_ATTENTION_TYPES = ("frame", "global")


def _per_view_tokens(token: Tensor, batch: int, views: int) -> Tensor:
    """[1, 2, X, C] learned tokens -> [B * S, X, C]: index 0 for view 0, index 1 for the rest."""
    # Gathering [0, 1, 1, ...] keeps S symbolic under torch.export; expanding index 1 to S - 1
    # (a size-1 broadcast) would make the tracer specialise S.
    index = (torch.arange(views, device=token.device) > 0).long()
    per_view = token.index_select(1, index).expand(batch, -1, -1, -1)
    return per_view.reshape(batch * views, *token.shape[2:])


class Aggregator(nn.Module):
    """Alternating frame/global attention over S views (VGGT's aggregator).

    Args:
        img_size: training image side in pixels (sets DINOv2's native pos_embed grid).
        patch_size: patch side in pixels.
        embed_dim: token width C (must equal the DINOv2 width when a DINOv2 embed is used).
        depth: number of frame blocks (= number of global blocks = number of output layers).
        num_heads: attention heads (head width C / num_heads, 64 in VGGT).
        mlp_ratio: MLP hidden width / C.
        num_register_tokens: register tokens per view (also used inside DINOv2).
        qkv_bias: bias on the qkv projections.
        proj_bias: bias on the attention output projections.
        ffn_bias: biases in the MLPs.
        patch_embed: ``"conv"`` or a DINOv2 name from :data:`DINOV2_VARIANTS`.
        aa_order: order of the two attention types within each alternation step.
        aa_block_size: blocks of one type run before switching to the other.
        qk_norm: per-head LayerNorm of queries and keys in the aggregator blocks.
        rope_freq: 2-D RoPE base frequency; <= 0 disables RoPE.
        init_values: LayerScale initial value of the aggregator blocks.

    Attributes:
        patch_start_idx: index of the first patch token in each view (1 + registers).
        gradient_checkpointing: when True and in training mode, blocks are recomputed in the
            backward pass instead of storing their activations (VGGT trains this way).
    """

    _image_mean: Tensor
    _image_std: Tensor

    def __init__(
        self,
        img_size: int = 518,
        patch_size: int = 14,
        embed_dim: int = 1024,
        depth: int = 24,
        num_heads: int = 16,
        mlp_ratio: float = 4.0,
        num_register_tokens: int = 4,
        qkv_bias: bool = True,
        proj_bias: bool = True,
        ffn_bias: bool = True,
        patch_embed: str = "dinov2_vitl14_reg",
        aa_order: Sequence[str] = ("frame", "global"),
        aa_block_size: int = 1,
        qk_norm: bool = True,
        rope_freq: float = 100,
        init_values: float = 0.01,
    ) -> None:
        super().__init__()
        if sorted(aa_order) != sorted(_ATTENTION_TYPES):
            raise ValueError(f"aa_order must order {_ATTENTION_TYPES}, got {tuple(aa_order)}")
        if aa_block_size < 1 or depth % aa_block_size:
            raise ValueError(f"depth {depth} must be a multiple of aa_block_size {aa_block_size}")
        self.patch_embed = self._build_patch_embed(
            patch_embed, img_size, patch_size, embed_dim, num_register_tokens
        )
        self.rope = RotaryEmbedding2D(rope_freq) if rope_freq > 0 else None

        make_block = partial(
            Block,
            embed_dim,
            num_heads,
            mlp_ratio,
            qkv_bias,
            proj_bias,
            ffn_bias,
            init_values,
            qk_norm,
            rope=self.rope is not None,
        )
        self.frame_blocks = nn.ModuleList(make_block() for _ in range(depth))
        self.global_blocks = nn.ModuleList(make_block() for _ in range(depth))
        self.camera_token = nn.Parameter(torch.zeros(1, 2, 1, embed_dim))
        self.register_token = nn.Parameter(torch.zeros(1, 2, num_register_tokens, embed_dim))
        nn.init.normal_(self.camera_token, std=_TOKEN_INIT_STD)
        nn.init.normal_(self.register_token, std=_TOKEN_INIT_STD)
        self.register_buffer(
            "_image_mean", torch.tensor(_IMAGENET_MEAN).view(1, 1, 3, 1, 1), persistent=False
        )
        self.register_buffer(
            "_image_std", torch.tensor(_IMAGENET_STD).view(1, 1, 3, 1, 1), persistent=False
        )
        self.depth = depth
        self.patch_size = patch_size
        self.head_dim = embed_dim // num_heads
        self.aa_order = tuple(aa_order)
        self.aa_block_size = aa_block_size
        self.patch_start_idx = 1 + num_register_tokens
        self.gradient_checkpointing = False

    @staticmethod
    def _build_patch_embed(
        name: str, img_size: int, patch_size: int, embed_dim: int, num_register_tokens: int
    ) -> nn.Module:
        if name == "conv":
            return PatchEmbed(patch_size, 3, embed_dim)
        if name not in DINOV2_VARIANTS:
            raise ValueError(
                f"unknown patch_embed {name!r}; choose 'conv' or one of {sorted(DINOV2_VARIANTS)}"
            )
        if DINOV2_VARIANTS[name][0] != embed_dim:
            raise ValueError(
                f"{name} produces {DINOV2_VARIANTS[name][0]}-wide tokens but embed_dim is "
                f"{embed_dim}"
            )
        return dinov2_from_name(name, img_size, patch_size, num_register_tokens)

    def forward(
        self, images: Tensor, keep_layers: Sequence[int] | None = None
    ) -> tuple[list[Tensor], int]:
        """Aggregate the views.

        Args:
            images: [B, S, 3, H, W] or [S, 3, H, W] RGB in [0, 1] (ImageNet normalisation is
                applied here); H and W multiples of ``patch_size``; view 0 is the reference.
            keep_layers: layer indices to return (negative counts from the end, e.g. (-1,));
                None returns all ``depth`` layers. Other layers are never stored.

        Returns:
            (layers, patch_start_idx): layers is a list of [B, S, P, 2C] tensors (frame-block
            output then global-block output on the channel axis) in ascending layer order,
            P = patch_start_idx + (H / p)(W / p); token order per view is [camera, registers,
            patches (row-major)]. A 4-D input gives B = 1.

        Raises:
            ValueError: on a wrong input shape or an out-of-range layer index.
        """
        images = self._check_images(images)
        keep = self._resolve_keep_layers(keep_layers)
        batch, views, _, height, width = images.shape
        normalised = (images - self._image_mean) / self._image_std
        patches = self.patch_embed(normalised.reshape(batch * views, 3, height, width))
        tokens = torch.cat(
            [
                _per_view_tokens(self.camera_token, batch, views),
                _per_view_tokens(self.register_token, batch, views),
                patches,
            ],
            dim=1,
        )
        rope = self._frame_rope(height // self.patch_size, width // self.patch_size, tokens)
        return self._run_blocks(tokens, batch, views, rope, keep), self.patch_start_idx

    def _check_images(self, images: Tensor) -> Tensor:
        if images.dim() == 4:
            images = images.unsqueeze(0)
        if images.dim() != 5 or images.shape[2] != 3:
            raise ValueError(
                f"images must be [B, S, 3, H, W] or [S, 3, H, W], got {tuple(images.shape)}"
            )
        height, width = images.shape[-2:]
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f"image size {height}x{width} is not a multiple of the patch size "
                f"{self.patch_size}"
            )
        return images

    def _resolve_keep_layers(self, keep_layers: Sequence[int] | None) -> list[int]:
        if keep_layers is None:
            return list(range(self.depth))
        resolved = set()
        for index in keep_layers:
            if not -self.depth <= index < self.depth:
                raise ValueError(f"layer index {index} out of range for depth {self.depth}")
            resolved.add(index % self.depth)
        return sorted(resolved)

    def _frame_rope(self, grid_h: int, grid_w: int, tokens: Tensor) -> RopeTables | None:
        if self.rope is None:
            return None
        return self.rope.frame_tables(
            grid_h, grid_w, self.patch_start_idx, self.head_dim, tokens.device
        )

    def _apply_block(self, block: nn.Module, tokens: Tensor, rope: RopeTables | None) -> Tensor:
        if self.gradient_checkpointing and self.training:
            out: Tensor = checkpoint(block, tokens, rope, use_reentrant=False)
            return out
        result: Tensor = block(tokens, rope)
        return result

    def _run_blocks(
        self, tokens: Tensor, batch: int, views: int, rope: RopeTables | None, keep: list[int]
    ) -> list[Tensor]:
        """Alternate frame and global blocks, concatenating the kept layers' outputs."""
        num_tokens, dim = tokens.shape[1:]
        # Global attention sees S frames back to back; each keeps its own grid positions.
        global_rope = None
        if rope is not None:
            global_rope = (rope[0].repeat(views, 1), rope[1].repeat(views, 1))
        keep_set = set(keep)
        outputs: list[Tensor] = []
        for step in range(self.depth // self.aa_block_size):
            layers = range(step * self.aa_block_size, (step + 1) * self.aa_block_size)
            kept: dict[tuple[str, int], Tensor] = {}
            for attn_type in self.aa_order:
                if attn_type == "frame":
                    blocks, shape, block_rope = self.frame_blocks, (batch * views, -1, dim), rope
                else:
                    blocks, shape, block_rope = self.global_blocks, (batch, -1, dim), global_rope
                tokens = tokens.reshape(shape)
                for layer in layers:
                    tokens = self._apply_block(blocks[layer], tokens, block_rope)
                    if layer in keep_set:
                        kept[attn_type, layer] = tokens.reshape(batch, views, num_tokens, dim)
            outputs.extend(
                torch.cat([kept["frame", layer], kept["global", layer]], dim=-1)
                for layer in layers
                if layer in keep_set
            )
        return outputs
