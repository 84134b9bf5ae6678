# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The numpy objectives equal dex-retargeting's torch ones, value and gradient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hggt_core.retarget import demo_hands, objective
from hggt_core.retarget.dexterous import DexRetargetConfig, DexRetargeter

CONFIGS = Path(__file__).resolve().parents[2] / "config" / "retarget"


def test_huber_matches_smooth_l1() -> None:
    distance = np.array([0.0, 0.01, 0.02, 0.05])
    value, slope = objective.huber(distance, 0.02)
    np.testing.assert_allclose(value, [0.0, 0.0025, 0.01, 0.04])
    np.testing.assert_allclose(slope, [0.0, 0.5, 1.0, 1.0])


@pytest.mark.parametrize("kind", ["dexpilot", "vector"])
def test_ports_equal_dex_retargeting(dex_available, joint_models, posed, kind) -> None:
    config = DexRetargetConfig(CONFIGS / f"ghand_right_{kind}.yaml", numpy_objective=False)
    retargeter = DexRetargeter(config)
    optimizer = retargeter._seq.optimizer  # dex-retargeting's own objective
    port = objective.dexpilot_objective if kind == "dexpilot" else objective.vector_objective
    rng = np.random.default_rng(7)
    model = joint_models["right"]
    hands = {"open": demo_hands.open_hand, "pinch": demo_hands.pinch, "fist": demo_hands.fist}
    for name, make in hands.items():
        target = retargeter.reference(posed("right", make(model))).astype(np.float32)
        last = rng.uniform(-0.5, 0.3, 16).astype(np.float32)
        state = getattr(optimizer, "projected", np.zeros(0)).copy()
        theirs = optimizer.get_objective_function(target, np.array([]), last)
        if state.size:
            optimizer.projected[:] = state  # both see the same pinch projection state
        ours = port(optimizer, target, np.array([]), last)
        for _ in range(3):
            x = rng.uniform(-1.0, 0.3, 16)
            grad_theirs, grad_ours = np.zeros(16), np.zeros(16)
            value = theirs(x, grad_theirs)
            assert ours(x, grad_ours) == pytest.approx(value, rel=1e-6)
            np.testing.assert_allclose(grad_ours, grad_theirs, rtol=1e-5, atol=1e-7)
        if kind == "dexpilot":  # the thumb-index pair is projected in the pinch only
            assert optimizer.projected[0] == (name == "pinch")


def test_only_vector_and_dexpilot_are_ported() -> None:
    assert not objective.install(object(), "position")
