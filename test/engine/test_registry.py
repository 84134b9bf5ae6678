# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The HGGT engines by name: providers, loading and the errors of bad requests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hggt_core.assembly.factory import ENGINE_NAMES
from hggt_core.engine import registry
from hggt_core.engine.registry import (
    HGGT_ENGINES,
    UNTRAINED_CONFIG,
    load_hggt_engine,
    onnx_providers,
)
from hggt_core.engine.torch_engine import TorchEngine
from hggt_core.model import HGGT, HGGTConfig
from hggt_core.model.checkpoint import save_hggt_checkpoint


def test_names_and_providers() -> None:
    assert HGGT_ENGINES == ("torch", "onnx", "tensorrt")
    assert ENGINE_NAMES == ("auto", "landmarks", "torch", "onnx", "tensorrt")
    assert onnx_providers("cpu") == ["CPUExecutionProvider"]
    assert onnx_providers("cuda:1") == [
        ("CUDAExecutionProvider", {"device_id": 1}),
        "CPUExecutionProvider",
    ]
    assert onnx_providers("cuda")[0] == ("CUDAExecutionProvider", {"device_id": 0})


def test_torch_engine_from_a_checkpoint(tmp_path: Path, tiny_config: HGGTConfig) -> None:
    path = tmp_path / "tiny.safetensors"
    save_hggt_checkpoint(HGGT(tiny_config), path)
    loaded = load_hggt_engine("torch", path)
    assert isinstance(loaded.engine, TorchEngine)
    assert (loaded.source, loaded.trained, loaded.engine.crop_size) == (str(path), True, 28)


def test_without_a_checkpoint_torch_runs_the_bundled_or_an_untrained_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(registry, "BUNDLED_MODEL", tmp_path / "not_shipped.safetensors")
    state = torch.random.get_rng_state()
    loaded = load_hggt_engine("torch", None)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert (loaded.source, loaded.trained) == ("untrained tiny network (random weights)", False)
    assert loaded.engine.crop_size == UNTRAINED_CONFIG.img_size
    assert "UNTRAINED" in caplog.text


def test_bad_requests_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown HGGT engine 'landmarks'"):
        load_hggt_engine("landmarks", None)
    with pytest.raises(ValueError, match="the onnx engine needs a checkpoint file"):
        load_hggt_engine("onnx", None)
    with pytest.raises(ValueError, match="the tensorrt engine needs a checkpoint file"):
        load_hggt_engine("tensorrt", None, device="cuda")
