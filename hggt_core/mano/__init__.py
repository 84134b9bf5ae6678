# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""MANO hand model: chumpy-free loading, a pure-torch layer, fitting, a synthetic model.

The joint order and fingertip conventions are in :mod:`hggt_core.base.hand_skeleton`.

Typical use::

    model = load_mano_model(find_mano_file(mano_dir, "right"))
    layer = ManoLayer(model)  # smplx.MANO(use_pca=False, flat_hand_mean=False) semantics
    out = layer(global_orient, hand_pose, betas, transl)  # out.vertices [B, 778, 3]
"""

from hggt_core.mano.io import (
    HandSide,
    ManoFileError,
    ManoModelData,
    find_mano_file,
    load_mano_model,
)
from hggt_core.mano.layer import ManoLayer, ManoOutput
from hggt_core.mano.synthetic import make_synthetic_mano, write_mano_npz, write_mano_pickle

__all__ = [
    "HandSide",
    "ManoFileError",
    "ManoLayer",
    "ManoModelData",
    "ManoOutput",
    "find_mano_file",
    "load_mano_model",
    "make_synthetic_mano",
    "write_mano_npz",
    "write_mano_pickle",
]
