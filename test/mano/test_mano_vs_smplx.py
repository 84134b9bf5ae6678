# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""ManoLayer against smplx.MANO 0.1.28 on the same (synthetic) model files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from hggt_core.mano.io import load_mano_model
from hggt_core.mano.layer import ManoLayer

smplx = pytest.importorskip("smplx")

B = 4


@pytest.mark.parametrize("use_pca", [False, True])
@pytest.mark.parametrize("flat_hand_mean", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_matches_smplx(mano_dir: Path, side: str, flat_hand_mean: bool, use_pca: bool) -> None:
    logging.getLogger("smplx").setLevel(logging.ERROR)
    reference = smplx.MANO(
        model_path=str(mano_dir),
        is_rhand=side == "right",
        use_pca=use_pca,
        flat_hand_mean=flat_hand_mean,
        num_pca_comps=6,
    )
    layer = ManoLayer(
        load_mano_model(mano_dir, side=side),  # type: ignore[arg-type]
        use_pca=use_pca,
        num_pca_comps=6,
        flat_hand_mean=flat_hand_mean,
    )
    generator = torch.Generator().manual_seed(7)
    global_orient = torch.randn(B, 3, generator=generator)
    hand_pose = 0.7 * torch.randn(B, 6 if use_pca else 45, generator=generator)
    betas = torch.randn(B, 10, generator=generator)
    transl = 0.2 * torch.randn(B, 3, generator=generator)

    with torch.no_grad():
        expected = reference(
            betas=betas, global_orient=global_orient, hand_pose=hand_pose, transl=transl
        )
        ours = layer(global_orient, hand_pose, betas, transl)

    # smplx 0.1.28's MANO returns the 16 skeleton joints (no tips).
    assert expected.joints.shape == (B, 16, 3)
    assert (ours.vertices - expected.vertices).abs().max().item() <= 1e-6
    assert (ours.joints16 - expected.joints).abs().max().item() <= 1e-6
    assert (ours.vertices - ours.vertices.mean()).abs().max() > 0.05  # not a trivial pose
