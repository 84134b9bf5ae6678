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

import hggt_core.render.scene as scene
from hggt_core.geometry.rotations import axis_angle_to_matrix
from hggt_core.model.checkpoint import build_hggt_from_checkpoint
from hggt_core.model.hggt import HGGT, HGGTConfig
from training.config import DataConfig, DatasetConfig, OptimConfig, TrainConfig
from training.eval import MetricAccumulator, Predictions, eval_batches, evaluate
from training.sampler import ProceduralHandDataset, ViewRequest, register_dataset, right_hand_mano
from training.train import train

CROP = 56
VIEWS = (2, 3)
TRAIN_SCENES = 32
HELD_OUT_SCENES = 12
JITTER_RAD = 0.35
BUDGET = 8
TINY = HGGTConfig(
    img_size=CROP,
    embed_dim=32,
    depth=2,
    num_heads=2,
    patch_embed="conv",
    head_trunk_depth=2,
    head_num_heads=4,
    num_iterations=4,
)


def _jittered_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation of at most JITTER_RAD about a random axis (instead of a uniform one)."""
    axis_angle = rng.normal(size=3)
    axis_angle *= rng.uniform(0.0, JITTER_RAD) / np.linalg.norm(axis_angle)
    return axis_angle_to_matrix(torch.from_numpy(axis_angle)).numpy()


def _front_camera_first(original):  # type: ignore[no-untyped-def]
    """Wrap ``cameras_looking_at``: camera 0 sits on the -z axis looking along +z.

    The hand's orientation in camera 0's frame is then the near-canonical one drawn by
    :func:`_jittered_rotation`; the other cameras stay random.
    """

    def cameras(target, num_views, rng, config=None):  # type: ignore[no-untyped-def]
        drawn = original(target, num_views, rng, config)
        cam_from_world = np.eye(4)
        cam_from_world[2, 3] = float(rng.uniform(0.4, 0.5))
        drawn[0] = scene.PinholeCamera(drawn[0].intrinsics, cam_from_world, drawn[0].image_size_hw)
        return drawn

    return cameras


def _rendered(length: int, seed: int) -> ProceduralHandDataset:
    """A fully rendered (cached) synthetic set whose hands face camera 0 with some jitter.

    Uniformly random orientations cannot be learnt in seconds on a CPU; a learnable task keeps
    the smoke test meaningful: the network must read the views to beat its initial guess.
    """
    config = scene.SceneConfig(image_size_hw=(240, 320), crop_size=CROP, supersample=1)
    dataset = ProceduralHandDataset(
        right_hand_mano(None), length, VIEWS, config, seed, True, "smoke"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scene, "random_rotation", _jittered_rotation)
        patch.setattr(scene, "cameras_looking_at", _front_camera_first(scene.cameras_looking_at))
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


def _config(output_dir: Path, steps: int) -> TrainConfig:
    stream = DatasetConfig(name="smoke_train", view_range=VIEWS)
    return TrainConfig(
        model=TINY,
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
    reports = evaluate(model, eval_batches(config.data.eval, BUDGET), right_hand_mano(None))
    return reports[0].hand.rr_mpjpe_mm


def test_training_reduces_loss_and_held_out_error(datasets, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = _config(tmp_path / "run", steps=STEPS)
    torch.manual_seed(config.seed)
    before = _rr_mpjpe(HGGT(TINY), config)
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
    samples = [train_set[ViewRequest(i, 1, 0)] for i in range(len(train_set))]
    hand_pose = torch.stack([s.hand_pose for s in samples]).mean(0)
    betas = torch.stack([s.betas for s in samples]).mean(0)
    mano = right_hand_mano(None)
    accumulator = MetricAccumulator(mano)
    for batch in eval_batches(config.data.eval, BUDGET):
        count = batch.images.shape[0]
        hand = mano.forward_theta(hand_pose.expand(count, -1), betas.expand(count, -1))
        cams = torch.eye(4)[:3].expand(count, batch.images.shape[1], 3, 4)
        accumulator.add(batch, Predictions(hand.joints, hand.vertices, cams))
    return accumulator.report()[0].hand.rr_mpjpe_mm


STEPS = 60


def test_resume_reproduces_the_next_steps(datasets, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = replace(_config(tmp_path / "full", steps=6), checkpoint_every=3)
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
