# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Fine-tuning a whole HGGT: ``hggt_checkpoint`` in the training configuration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from hggt_core.model import HGGT, HGGTConfig
from hggt_core.model.checkpoint import (
    CheckpointError,
    build_hggt_from_checkpoint,
    save_hggt_checkpoint,
)
from training.config import DataConfig, DatasetConfig, TrainConfig, load_config
from training.train import Runtime, build_model, main

_DATA = DataConfig(multi_view=(DatasetConfig(name="procedural", length=4),))
_CPU = Runtime(rank=0, world_size=1, device=torch.device("cpu"))


def _saved_network(path: Path, config: HGGTConfig, seed: int) -> HGGT:
    torch.manual_seed(seed)
    model = HGGT(config)
    save_hggt_checkpoint(model, path)
    return model


def test_network_starts_from_the_checkpoint(tmp_path: Path, tiny_config: HGGTConfig) -> None:
    saved = _saved_network(tmp_path / "start.safetensors", tiny_config, seed=7)
    cfg = TrainConfig(
        model=tiny_config, data=_DATA, hggt_checkpoint=str(tmp_path / "start.safetensors")
    )
    built = build_model(cfg, _CPU)
    expected = saved.state_dict()
    assert built.state_dict().keys() == expected.keys()
    for name, value in built.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=0, msg=name)
    fresh = build_model(replace(cfg, hggt_checkpoint=None), _CPU)
    assert not torch.equal(
        fresh.state_dict()["mano_head.hand_pose_head.fc2.weight"],
        expected["mano_head.hand_pose_head.fc2.weight"],
    )


def test_checkpoint_of_another_network_is_refused(tmp_path: Path, tiny_config: HGGTConfig) -> None:
    _saved_network(tmp_path / "wide.safetensors", replace(tiny_config, embed_dim=48), seed=0)
    cfg = TrainConfig(
        model=tiny_config, data=_DATA, hggt_checkpoint=str(tmp_path / "wide.safetensors")
    )
    with pytest.raises(CheckpointError, match="wrong shape"):
        build_model(cfg, _CPU)


def test_config_path_is_relative_to_its_file_and_clashes_are_named(tmp_path: Path) -> None:
    path = tmp_path / "fine_tune.yaml"
    path.write_text(
        "hggt_checkpoint: weights/hggt.safetensors\n"
        "data: {multi_view: [{name: procedural, length: 4}]}\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.hggt_checkpoint == str(tmp_path / "weights" / "hggt.safetensors")
    with pytest.raises(ValueError, match="drop vggt_checkpoint and init_transl_m"):
        replace(cfg, vggt_checkpoint="vggt.pt", init_transl_m=(0.0, 0.0, 0.45))
    with pytest.raises(ValueError, match="drop init_transl_m"):
        replace(cfg, init_transl_m=(0.0, 0.0, 0.45))


def test_command_line_names_the_starting_weights(tmp_path: Path, tiny_config: HGGTConfig) -> None:
    saved = _saved_network(tmp_path / "start.safetensors", tiny_config, seed=7)
    fields = ("img_size", "embed_dim", "depth", "num_heads", "patch_embed", "head_trunk_depth")
    fields += ("head_num_heads", "num_iterations")
    model = ", ".join(f"{name}: {getattr(tiny_config, name)}" for name in fields)
    config = tmp_path / "run.yaml"
    config.write_text(
        f"model: {{{model}}}\n"
        "data: {image_budget: 2, multi_view: [{name: procedural, length: 2, view_range: [2, 2],"
        " params: {crop_size: 28}}]}\n"
        "optim: {lr_start: 1.0e-12, lr_peak: 1.0e-12, lr_floor: 1.0e-12}\n",
        encoding="utf-8",
    )
    run = tmp_path / "run"
    main(["--config", str(config), "--output-dir", str(run), "--steps", "1",
          "--hggt-checkpoint", str(tmp_path / "start.safetensors")])  # fmt: skip
    trained = build_hggt_from_checkpoint(run / "checkpoints" / "step_0000001.safetensors")
    for name, value in trained.state_dict().items():  # one update of 1e-12 moves nothing visibly
        torch.testing.assert_close(value, saved.state_dict()[name], rtol=0, atol=1e-9, msg=name)
