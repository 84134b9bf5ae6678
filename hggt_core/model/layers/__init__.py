# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Small reusable building blocks of the HGGT network (VGGT / DINOv2 layouts)."""

from hggt_core.model.layers.attention import Attention
from hggt_core.model.layers.block import Block
from hggt_core.model.layers.layer_scale import LayerScale
from hggt_core.model.layers.mlp import Mlp
from hggt_core.model.layers.rope import RotaryEmbedding2D, apply_rope, grid_positions, rope_tables

__all__ = [
    "Attention",
    "Block",
    "LayerScale",
    "Mlp",
    "RotaryEmbedding2D",
    "apply_rope",
    "grid_positions",
    "rope_tables",
]
