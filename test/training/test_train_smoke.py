# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""A short CPU training run learns, and resuming reproduces the run exactly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from hggt_core.model.checkpoint import build_hggt_from_checkpoint
from hggt_core.model.hggt import HGGT, HGGTConfig
from hggt_core.render.scene_config import SceneConfig
from training.config import DataConfig, DatasetConfig, OptimConfig, TrainConfig
from training.eval import (
    eval_batches,
    evaluate,
    mean_hand,
    mean_hand_predictor,
    model_predictor,
)
from training.sampler import ProceduralHandDataset, ViewRequest, register_dataset, right_hand_mano
from training.train import train

CROP = 56
VIEWS = (2, 3)
TRAIN_SCENES = 32
HELD_OUT_SCENES = 12
CONE_DEG = 25.0
ROLL_DEG = 15.0
BUDGET = 8


def _rendered(length: int, seed: int) -> ProceduralHandDataset:
    """A fully rendered (cached) synthetic set seen by a palm-side rig with a narrow cone.

    Uniformly random orientations cannot be learnt in seconds on a CPU; a learnable task keeps
    the smoke test meaningful: the network must read the views to beat its initial guess.
    """
    config = SceneConfig(
        image_size_hw=(240, 320),
        crop_size=CROP,
        supersample=1,
        view_cone_deg=CONE_DEG,
        roll_range_deg=ROLL_DEG,
    )
    dataset = ProceduralHandDataset(
        right_hand_mano(None), length, VIEWS, config, seed, True, "smoke"
    )
    for index in range(length):
        dataset[ViewRequest(index, VIEWS[1], 0)]
    return dataset


@pytest.fixture(scope="module")
def datasets() -> Iterator[dict[str, ProceduralHandDataset]]:
    built = {
        "smoke_train": _rendered(TRAIN_SCENES, 1),
        "smoke_held_out": _rendered(HELD_OUT_SCENES, 2),
    }
    for name, dataset in built.items():
        register_dataset(name, lambda config, dataset=dataset: dataset)
    yield built


@pytest.fixture(scope="module")
def network(tiny_config: HGGTConfig) -> HGGTConfig:
    """The suite's tiny network at 56 pixels, two blocks per stage, four iterations."""
    return replace(tiny_config, img_size=CROP, depth=2, head_trunk_depth=2, num_iterations=4)


def _config(output_dir: Path, steps: int, network: HGGTConfig) -> TrainConfig:
    stream = DatasetConfig(name="smoke_train", view_range=VIEWS)
    return TrainConfig(
        model=network,
        data=DataConfig(
            image_budget=BUDGET,
            single_view=(replace(stream, view_range=(1, 1)),),
            multi_view=(stream,),
            eval=(DatasetConfig(name="smoke_held_out", eval_views=(VIEWS[1],)),),
        ),
        optim=OptimConfig(steps=steps, lr_start=1e-4, lr_peak=2e-3, lr_floor=1e-4),
        output_dir=str(output_dir),
        log_every=10,
        checkpoint_every=steps // 2,
        num_threads=1,
    )


def _rr_mpjpe(model: HGGT, config: TrainConfig) -> float:
    mano = right_hand_mano(None)
    reports = evaluate(model_predictor(model, mano), eval_batches(config.data.eval, BUDGET), mano)
    return reports[0].hand.rr_mpjpe_mm


def test_training_reduces_loss_and_held_out_error(
    datasets, tmp_path: Path, network: HGGTConfig
) -> None:  # type: ignore[no-untyped-def]
    config = _config(tmp_path / "run", steps=STEPS, network=network)
    torch.manual_seed(config.seed)
    before = _rr_mpjpe(HGGT(network), config)
    began = time.monotonic()
    result = train(config)
    seconds = time.monotonic() - began
    after = _rr_mpjpe(build_hggt_from_checkpoint(result.checkpoint), config)
    first, last = np.mean(result.losses[:10]), np.mean(result.losses[-10:])
    baseline = _mean_pose_rr_mpjpe(datasets, config)
    print(  # measured numbers, shown with pytest -s
        f"train {seconds:.1f} s; loss {first:.3f} -> {last:.3f}; RR-MPJPE {before:.1f} -> "
        f"{after:.1f} mm; mean-pose baseline {baseline:.1f} mm"
    )
    assert last < 0.5 * first
    assert after < 0.7 * before


def _mean_pose_rr_mpjpe(datasets, config: TrainConfig) -> float:  # type: ignore[no-untyped-def]
    train_set = datasets["smoke_train"]
    hand = mean_hand(train_set[ViewRequest(i, 1, 0)] for i in range(len(train_set)))
    mano = right_hand_mano(None)
    predictor = mean_hand_predictor(hand, mano)
    return evaluate(predictor, eval_batches(config.data.eval, BUDGET), mano)[0].hand.rr_mpjpe_mm


STEPS = 60


def test_resume_reproduces_the_next_steps(datasets, tmp_path: Path, network: HGGTConfig) -> None:  # type: ignore[no-untyped-def]
    config = replace(_config(tmp_path / "full", steps=6, network=network), checkpoint_every=3)
    full = train(config)
    folder = tmp_path / "full" / "checkpoints"
    assert sorted(p.name for p in folder.glob("*.state.pt")) == [
        "step_0000003.state.pt",
        "step_0000006.state.pt",
    ]
    (folder / "latest").write_text("step_0000003", encoding="utf-8")
    resumed = train(config)
    assert resumed.first_step == 3
    np.testing.assert_allclose(resumed.losses, full.losses[3:], rtol=1e-5)
    fresh = train(replace(config, output_dir=str(tmp_path / "other")), resume=False)
    np.testing.assert_allclose(fresh.losses, full.losses, rtol=1e-5)
