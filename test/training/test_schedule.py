# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Learning-rate schedule (warm-up + cosine) and training configuration files."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from hggt_core.model.hggt import HGGT, HGGTConfig
from training.config import DataConfig, DatasetConfig, OptimConfig, TrainConfig, load_config
from training.train import freeze_aggregator, learning_rate

CONFIGS = Path(__file__).resolve().parents[2] / "training" / "configs"
_DATA = DataConfig(multi_view=(DatasetConfig(name="procedural", length=4),))


def _config(steps: int = 1000) -> TrainConfig:
    optim = OptimConfig(steps=steps, lr_start=1e-8, lr_peak=1e-6, lr_floor=1e-8)
    return TrainConfig(data=_DATA, optim=optim)


def test_warm_up_is_linear_over_five_percent() -> None:
    cfg = _config()
    assert learning_rate(0, cfg) == pytest.approx(1e-8)
    assert learning_rate(25, cfg) == pytest.approx(1e-8 + 0.5 * (1e-6 - 1e-8))
    assert learning_rate(50, cfg) == pytest.approx(1e-6)
    rates = [learning_rate(step, cfg) for step in range(51)]
    assert all(a < b for a, b in itertools.pairwise(rates))


def test_cosine_decays_to_the_floor() -> None:
    cfg = _config()
    middle = 50 + (999 - 50) / 2
    assert learning_rate(999, cfg) == pytest.approx(1e-8)
    assert learning_rate(int(middle), cfg) == pytest.approx(
        1e-8 + 0.5 * (1e-6 - 1e-8) * (1 + math.cos(math.pi * (int(middle) - 50) / 949))
    )
    rates = [learning_rate(step, cfg) for step in range(50, 1000)]
    assert all(a >= b for a, b in itertools.pairwise(rates))


def test_scheduler_follows_the_function() -> None:
    cfg = _config(steps=40)
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([parameter], lr=cfg.optim.lr_peak)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate(step, cfg) / cfg.optim.lr_peak
    )
    for step in range(40):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(learning_rate(step, cfg))
        optimizer.step()
        scheduler.step()


@pytest.mark.parametrize(
    ("option", "frozen_prefixes"),
    [("none", ()), ("all", ("aggregator.",)), ("patch_embed", ("aggregator.patch_embed.",))],
)
def test_freeze_options(
    option: str, frozen_prefixes: tuple[str, ...], tiny_config: HGGTConfig
) -> None:
    model = HGGT(replace(tiny_config, head_num_heads=2, num_iterations=1))
    freeze_aggregator(model, option)
    for name, parameter in model.named_parameters():
        assert parameter.requires_grad == (not name.startswith(frozen_prefixes)), name
    assert any(p.requires_grad for p in model.mano_head.parameters())


def test_tiny_config_file_loads() -> None:
    cfg = load_config(CONFIGS / "tiny_cpu.yaml")
    assert cfg.model.patch_embed == "conv"
    assert cfg.data.single_view[0].view_range == (1, 1)
    assert cfg.data.multi_view[0].params == {"crop_size": 56}
    assert cfg.optim.weight_decay == 0.05 and cfg.optim.grad_clip == 1.0
    assert cfg.loss.gamma == 0.6


def test_json_config_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    values = {
        "data": {"multi_view": [{"name": "poem", "path": "shards/ho3d", "view_range": [2, 5]}]},
        "vggt_checkpoint": "weights/vggt.pt",
        "freeze": "patch_embed",
    }
    path = tmp_path / "run.json"
    path.write_text(json.dumps(values), encoding="utf-8")
    cfg = load_config(path)
    assert cfg.data.multi_view[0].path == str(tmp_path / "shards" / "ho3d")
    assert cfg.data.multi_view[0].view_range == (2, 5)
    assert cfg.vggt_checkpoint == str(tmp_path / "weights" / "vggt.pt")
    assert cfg.output_dir is None


def test_config_errors_are_explicit(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("optim: {stepz: 3}\ndata: {multi_view: [{name: x}]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"config\.optim: unknown field"):
        load_config(path)
    with pytest.raises(ValueError, match="freeze"):
        replace(_config(), freeze="half")
    with pytest.raises(ValueError, match="no training dataset"):
        TrainConfig()
