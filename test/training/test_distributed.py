# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""DDP under torchrun (two CPU processes, Gloo) takes the same steps as one process.

The image-budget sampler draws each micro-step's samples as a function of (seed, stream, step)
and splits them between the ranks, and DDP averages the ranks' gradients; with every sample
fully labelled and B samples per rank, two ranks with budget N therefore compute the gradient
one process computes with budget 2N on the same samples, and the weights must agree after
several AdamW updates up to float32 summation order. FSDP, which torch runs on accelerators
only, is refused on CPUs with a clear error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from training.config import load_config
from training.train import Runtime, build_model, train, wrap_model

REPO = Path(__file__).resolve().parents[2]
STEPS = 3
CONFIG = """
model: {{img_size: 56, embed_dim: 32, depth: 2, num_heads: 2, patch_embed: conv,
        head_trunk_depth: 1, head_num_heads: 2, num_iterations: 2}}
data:
  image_budget: {budget}
  multi_view:
    - {{name: procedural, length: 16, view_range: [2, 2], seed: 3,
       params: {{crop_size: 56, image_size_hw: [120, 160], view_cone_deg: 40.0}}}}
optim: {{steps: {steps}, lr_peak: 1.0e-3, warmup_fraction: 0.0}}
init_transl_m: [0.0, 0.0, 0.45]
log_every: 1
checkpoint_every: {steps}
num_threads: 1
"""


def _config(folder: Path, name: str, budget: int) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(CONFIG.format(budget=budget, steps=STEPS), encoding="utf-8")
    return path


def test_two_ranks_match_one_process(tmp_path: Path) -> None:
    single_config = replace(
        load_config(_config(tmp_path, "single", budget=8)), output_dir=str(tmp_path / "single")
    )
    single = train(single_config)
    initial = build_model(single_config, Runtime(0, 1, torch.device("cpu"))).state_dict()

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"),
        *("-m", "training.train", "--config", str(_config(tmp_path, "ddp", budget=4))),
        *("--output-dir", str(tmp_path / "ddp")),
    ]
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    name = f"step_{STEPS:07d}.safetensors"
    written = sorted(p.name for p in (tmp_path / "ddp" / "checkpoints").glob("*.safetensors"))
    assert written == [name]

    expected = load_file(single.checkpoint)
    got = load_file(tmp_path / "ddp" / "checkpoints" / name)
    assert expected.keys() == got.keys() == initial.keys()
    largest_move = max(float((expected[k] - initial[k]).abs().max()) for k in expected)
    assert largest_move > 1e-3  # the updates changed the weights ...
    for key, value in expected.items():  # ... and both runs changed them alike
        torch.testing.assert_close(got[key], value, rtol=1e-4, atol=1e-5, msg=key)


def test_fsdp_on_cpus_is_a_clear_error(tmp_path: Path) -> None:
    config = replace(load_config(_config(tmp_path, "fsdp", budget=4)), distributed="fsdp")
    runtime = Runtime(0, 2, torch.device("cpu"))
    with pytest.raises(ValueError, match="fsdp needs CUDA"):
        wrap_model(build_model(config, runtime), config, runtime)
