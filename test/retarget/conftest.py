# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Hands of the procedural MANO model and the shipped LEAP V1 KAIZEN (ghand) configs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hggt_core.mano.fit_kinematics import ManoJointModel
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.retarget.hand_frame import FloatArray, HandSide

Posed = Callable[..., FloatArray]


@pytest.fixture(scope="session")
def joint_models() -> dict[HandSide, ManoJointModel]:
    """Joints-only MANO of both procedural hands."""
    return {
        side: ManoJointModel(ManoLayer(make_synthetic_mano(side))) for side in ("right", "left")
    }


@pytest.fixture(scope="session")
def posed(joint_models: dict[HandSide, ManoJointModel]) -> Posed:
    """``posed(side, theta, orient=None, transl=None)`` -> [21, 3] OpenPose joints (m)."""

    def pose(
        side: HandSide, theta: FloatArray, orient: FloatArray | None = None,
        transl: FloatArray | None = None,
    ) -> FloatArray:  # fmt: skip
        params = np.concatenate([theta, np.zeros(13)])
        if orient is not None:
            params[:3] = orient
        if transl is not None:
            params[58:] = transl
        return joint_models[side].pose(params).points

    return pose


@pytest.fixture(scope="session")
def dex_available() -> None:
    """Skip unless dex-retargeting and ghand (the retarget extra) are installed."""
    pytest.importorskip("dex_retargeting", reason="the retarget extra is not installed")
    pytest.importorskip("ghand", reason="the retarget extra (ghand's URDF) is not installed")
