# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The bundled demo model: the configured network in float16, and it reads its input.

Reading its input means beating the mean hand of its training distribution on held-out scenes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from safetensors.torch import load_file

from hggt_core.engine.registry import BUNDLED_MODEL
from hggt_core.model.checkpoint import build_hggt_from_checkpoint
from training.config import load_config
from training.eval import (
    GroupReport,
    eval_batches,
    evaluate,
    mean_hand,
    mean_hand_predictor,
    model_predictor,
    training_samples,
)
from training.sampler import right_hand_mano

CONFIG = Path(__file__).resolve().parents[2] / "training" / "configs" / "demo_model_stage2.yaml"
HELD_OUT = 24
"""Held-out scenes evaluated here (the README's numbers use the configuration's 64)."""
BASELINE_SAMPLES = 150
"""Training scenes averaged into the mean hand."""


def test_bundled_model_is_the_configured_network_in_float16() -> None:
    assert BUNDLED_MODEL.stat().st_size < 8 * 2**20
    assert {tensor.dtype for tensor in load_file(BUNDLED_MODEL).values()} == {torch.float16}
    assert build_hggt_from_checkpoint(BUNDLED_MODEL).config == load_config(CONFIG).model


def _four_views(reports: tuple[GroupReport, ...]) -> GroupReport:
    [report] = [item for item in reports if item.num_views == 4]
    return report


def test_bundled_model_beats_the_mean_hand_on_held_out_scenes() -> None:
    config = load_config(CONFIG)
    held_out = tuple(replace(item, length=HELD_OUT, eval_views=(4,)) for item in config.data.eval)
    mano = right_hand_mano(None)
    model = build_hggt_from_checkpoint(BUNDLED_MODEL)
    ours = _four_views(evaluate(model_predictor(model, mano), eval_batches(held_out, 16), mano))
    hand = mean_hand(training_samples(config.data.multi_view, BASELINE_SAMPLES))
    mean = _four_views(evaluate(mean_hand_predictor(hand, mano), eval_batches(held_out, 16), mano))
    print(  # shown with pytest -s
        f"demo model RR {ours.hand.rr_mpjpe_mm:.1f} PA {ours.hand.pa_mpjpe_mm:.1f} mm; "
        f"mean hand RR {mean.hand.rr_mpjpe_mm:.1f} PA {mean.hand.pa_mpjpe_mm:.1f} mm"
    )
    assert ours.hand.rr_mpjpe_mm < 0.75 * mean.hand.rr_mpjpe_mm
    assert ours.camera is not None and mean.camera is not None
    assert ours.camera.rotation_deg < 0.75 * mean.camera.rotation_deg
