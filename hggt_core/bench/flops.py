# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Analytic floating-point operations of one HGGT forward pass, from the configuration.

Only matrix products are counted (linear layers, the patch convolution and the two products of
every attention: Q K^T and A V), as :class:`torch.utils.flop_counter.FlopCounterMode` does; a
multiply-add counts as 2 FLOPs. Normalisation, activations, softmax, RoPE and biases are left
out: together they are well under 1 % of the total at HGGT's widths, and they are bound by
memory bandwidth, not by the arithmetic peak the count is compared with.

Sizes used below, for S views of ``crop`` x ``crop`` pixels: N = (crop / patch)^2 patches per
view; P = 1 + registers + N tokens per view (camera, registers, patches; DINOv2 has the same
count with its class token in place of the camera token); C the aggregator width; W = 2C the
width of both heads. The aggregator's global attention is the only term quadratic in S:
4 (S P)^2 C per global block.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from hggt_core.model.dinov2 import DINOV2_VARIANTS
from hggt_core.model.hggt import HGGTConfig
from hggt_core.model.mano_head import HAND_POSE_DIM, SHAPE_DIM, TRANSL_DIM

_HEAD_MLP_RATIO = 4.0
"""MLP expansion of the camera-head trunk and of the MANO head's cross-attention blocks."""
_DINO_MLP_RATIO = 4.0
_POSE_ENCODING_DIM = 9
_HAND_DIMS = (HAND_POSE_DIM, SHAPE_DIM, TRANSL_DIM)
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H100 PCIe": {"fp8": 1513.0, "fp16": 756.0, "bf16": 756.0, "tf32": 378.0, "fp32": 51.2},
    "H100": {"fp8": 1978.9, "fp16": 989.4, "bf16": 989.4, "tf32": 494.7, "fp32": 66.9},
    "H200": {"fp8": 1978.9, "fp16": 989.4, "bf16": 989.4, "tf32": 494.7, "fp32": 66.9},
    "A100": {"fp16": 312.0, "bf16": 312.0, "tf32": 156.0, "fp32": 19.5},
    "L40S": {"fp8": 733.0, "fp16": 362.0, "bf16": 362.0, "tf32": 183.0, "fp32": 91.6},
    "RTX 4090": {"fp8": 330.3, "fp16": 165.2, "bf16": 165.2, "tf32": 82.6, "fp32": 82.6},
    "Orin": {"fp16": 42.5, "bf16": 42.5, "tf32": 21.3, "fp32": 5.3},
}
"""Dense (no sparsity) peak TFLOPS by GPU-name substring, first match wins; "Orin" is the
64 GB Jetson AGX Orin module. Vendor datasheet figures, fp16/bf16 with fp32 accumulation."""


def device_peak_tflops(gpu_name: str, precision: str) -> float | None:
    """Dense peak TFLOPS of a GPU (by :data:`PEAK_TFLOPS`); None for an unknown GPU.

    Args:
        gpu_name: the name CUDA reports, e.g. "NVIDIA H100 80GB HBM3".
        precision: "fp8", "fp16", "bf16", "tf32" or "fp32" (FP8 on a GPU without it counts at
            its fp16 peak, which is what TensorRT falls back to).
    """
    for name, peaks in PEAK_TFLOPS.items():
        if name.lower() in gpu_name.lower():
            return peaks.get(precision, peaks["fp16"] if precision == "fp8" else None)
    return None


@dataclass(frozen=True)
class ForwardFlops:
    """FLOPs of one forward pass (one hand, S views), by part; the parts add up to the total.

    Attributes:
        patch_embed: DINOv2 (patch convolution and all its blocks) or the plain convolution.
        frame_blocks: the aggregator's frame-attention blocks (attention within each view).
        global_linear: the global blocks' projections and MLPs (linear in S).
        global_attention: the global blocks' attention products, 4 (S P)^2 C per block.
        mano_head: the cross-attention refinement (hand and camera queries, all view tokens as
            keys/values, every iteration; the keys and values of the view tokens that do not
            change, all but the camera tokens, projected once per block) and its hand-parameter
            MLPs.
        camera_head: the camera head's iterations (trunk over the S camera tokens).
    """

    patch_embed: int
    frame_blocks: int
    global_linear: int
    global_attention: int
    mano_head: int
    camera_head: int

    @property
    def aggregator(self) -> int:
        """Patch embedding, frame blocks and global blocks."""
        return self.patch_embed + self.frame_blocks + self.global_linear + self.global_attention

    @property
    def total(self) -> int:
        """The whole forward pass."""
        return sum(getattr(self, item.name) for item in fields(self))


def _linear(tokens: int, width_in: int, width_out: int) -> int:
    return 2 * tokens * width_in * width_out


def _attention_products(sequences: int, queries: int, keys: int, width: int) -> int:
    """Q K^T and A V over all heads (width = heads x head width)."""
    return 2 * 2 * sequences * queries * keys * width


def _block_linear(tokens: int, width: int, mlp_ratio: float) -> int:
    """qkv, output projection and the two MLP layers of a self-attention block."""
    hidden = int(width * mlp_ratio)
    return (
        _linear(tokens, width, 3 * width)
        + _linear(tokens, width, width)
        + _linear(tokens, width, hidden)
        + _linear(tokens, hidden, width)
    )


def _self_attention_blocks(
    depth: int, sequences: int, tokens: int, width: int, mlp_ratio: float
) -> int:
    """``depth`` blocks, each over ``sequences`` sequences of ``tokens`` tokens."""
    per_block = _block_linear(sequences * tokens, width, mlp_ratio) + _attention_products(
        sequences, tokens, tokens, width
    )
    return depth * per_block


def _patch_embed(config: HGGTConfig, views: int, patches: int) -> int:
    conv = _linear(views * patches, 3 * config.patch_size**2, config.embed_dim)
    if config.patch_embed == "conv":
        return conv
    width, depth, _ = DINOV2_VARIANTS[config.patch_embed]
    tokens = 1 + config.num_register_tokens + patches
    return conv + _self_attention_blocks(depth, views, tokens, width, _DINO_MLP_RATIO)


def _mano_head(config: HGGTConfig, views: int, tokens_per_view: int) -> int:
    """The refinement: S + 3 queries attend to S P + 3 keys in every block of every iteration.

    Only the S camera and 3 hand tokens of the context change between iterations: the other
    S (P - 1) tokens' keys and values are projected once per block, the changing ones in every
    iteration.
    """
    width = 2 * config.embed_dim
    hidden = int(width * _HEAD_MLP_RATIO)
    changing = views + len(_HAND_DIMS)
    keys = views * tokens_per_view + len(_HAND_DIMS)
    unchanged_keys_values = _linear(views * (tokens_per_view - 1), width, 2 * width)
    embed = sum(_linear(1, size, width) + _linear(1, width, 3 * width) for size in _HAND_DIMS)
    block = (
        _linear(changing, width, width)
        + _linear(changing, width, 2 * width)
        + _attention_products(1, changing, keys, width)
        + _linear(changing, width, width)
        + _linear(changing, width, hidden)
        + _linear(changing, hidden, width)
    )
    heads = sum(
        _linear(1, width, width // 4) + _linear(1, width // 4, size) for size in _HAND_DIMS
    )
    iterations = config.num_iterations * (embed + config.head_trunk_depth * block + heads)
    return config.head_trunk_depth * unchanged_keys_values + iterations


def _camera_head(config: HGGTConfig, views: int) -> int:
    width = 2 * config.embed_dim
    embed = _linear(views, _POSE_ENCODING_DIM, width) + _linear(views, width, 3 * width)
    trunk = _self_attention_blocks(config.head_trunk_depth, 1, views, width, _HEAD_MLP_RATIO)
    branch = _linear(views, width, width // 2) + _linear(views, width // 2, _POSE_ENCODING_DIM)
    return config.num_iterations * (embed + trunk + branch)


def forward_flops(config: HGGTConfig, views: int, crop_size: int) -> ForwardFlops:
    """Count the FLOPs of ``HGGT(config)`` on one hand's ``views`` crops of ``crop_size`` px.

    Args:
        config: the network configuration.
        views: S >= 1.
        crop_size: square input side in pixels, a multiple of ``config.patch_size``.

    Returns:
        The count by part (see :class:`ForwardFlops`); ``.total`` is the whole forward.

    Raises:
        ValueError: S < 1, a crop size that is not a positive multiple of the patch, or an
            unknown patch embedding.
    """
    if views < 1:
        raise ValueError(f"views must be >= 1, got {views}")
    if crop_size <= 0 or crop_size % config.patch_size:
        raise ValueError(
            f"crop_size must be a positive multiple of {config.patch_size}, got {crop_size}"
        )
    if config.patch_embed != "conv" and config.patch_embed not in DINOV2_VARIANTS:
        raise ValueError(f"unknown patch_embed {config.patch_embed!r}")
    patches = (crop_size // config.patch_size) ** 2
    tokens = 1 + config.num_register_tokens + patches
    width = config.embed_dim
    return ForwardFlops(
        patch_embed=_patch_embed(config, views, patches),
        frame_blocks=_self_attention_blocks(config.depth, views, tokens, width, config.mlp_ratio),
        global_linear=config.depth * _block_linear(views * tokens, width, config.mlp_ratio),
        global_attention=config.depth
        * _attention_products(1, views * tokens, views * tokens, width),
        mano_head=_mano_head(config, views, tokens),
        camera_head=_camera_head(config, views),
    )
