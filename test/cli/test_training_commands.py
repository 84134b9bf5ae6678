# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt train`` and ``hggt eval`` run the training package end to end on a tiny config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hggt_core.cli import main
from hggt_core.model.checkpoint import build_hggt_from_checkpoint

CONFIG = """
model: {img_size: 56, embed_dim: 32, depth: 1, num_heads: 2, patch_embed: conv,
        head_trunk_depth: 1, head_num_heads: 2, num_iterations: 2}
data:
  image_budget: 6
  multi_view:
    - {name: procedural, length: 6, view_range: [2, 3], seed: 1,
       params: {crop_size: 56, image_size_hw: [120, 160], view_cone_deg: 40.0}}
  eval:
    - {name: procedural, length: 4, view_range: [2, 3], eval_views: [2, 3], seed: 2,
       params: {crop_size: 56, image_size_hw: [120, 160], view_cone_deg: 40.0}}
optim: {steps: 2, lr_peak: 1.0e-3}
log_every: 1
checkpoint_every: 2
num_threads: 1
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_train_then_eval_the_checkpoint(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert main(["train", "--config", str(config), "--output-dir", str(run)]) == 0
    checkpoint = run / "checkpoints" / "step_0000002.safetensors"
    assert build_hggt_from_checkpoint(checkpoint).config.img_size == 56

    report = tmp_path / "report.json"
    args = ["eval", "--config", str(config), "--checkpoint", str(checkpoint)]
    assert main([*args, "--output", str(report)]) == 0
    table = capsys.readouterr().out
    assert "RR-J" in table and "procedural" in table
    groups = json.loads(report.read_text(encoding="utf-8"))
    assert [(g["dataset"], g["num_views"]) for g in groups] == [
        ("procedural", 2),
        ("procedural", 3),
        ("procedural", 0),
    ]
    assert [g["hand"]["num_samples"] for g in groups] == [4, 4, 8]
    assert all(g["hand"]["rr_mpjpe_mm"] > 0 for g in groups)


def test_mean_hand_baseline_needs_no_checkpoint(config: Path, tmp_path: Path) -> None:
    report = tmp_path / "baseline.json"
    args = ["eval", "--config", str(config), "--baseline", "mean-hand", "--output", str(report)]
    assert main(args) == 0
    groups = json.loads(report.read_text(encoding="utf-8"))
    pooled = groups[-1]
    # Every camera predicted at the reference: the relative rotation error is the true angle.
    assert pooled["camera"]["rotation_deg"] > 1.0
    assert 0.0 < pooled["hand"]["rr_mpjpe_mm"] < 100.0


def test_eval_errors_are_one_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.safetensors"
    status = main(["eval", "--config", str(config), "--checkpoint", str(missing)])
    assert status == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("hggt eval: error:") and "missing.safetensors" in error
    assert "\n" not in error
