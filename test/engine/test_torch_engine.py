# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The PyTorch engine on a tiny random HGGT."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch.nn.attention import SDPBackend

from hggt_core.engine.base import Engine
from hggt_core.engine.torch_engine import TorchEngine
from hggt_core.model import HGGT

Crops = Callable[..., np.ndarray]


def test_run_returns_the_model_outputs_as_float32(
    fresh_tiny_model: HGGT, make_crops: Crops
) -> None:
    engine: Engine = TorchEngine(fresh_tiny_model)
    assert (engine.name, engine.device, engine.crop_size) == ("torch", "cpu", 28)
    crops = make_crops(3, 28)
    raw = engine.run(crops)
    shapes = (raw.hand_pose.shape, raw.betas.shape, raw.transl.shape, raw.pose_enc.shape)
    assert shapes == ((48,), (10,), (3,), (3, 9))
    for array in (raw.hand_pose, raw.betas, raw.transl, raw.pose_enc):
        assert array.dtype == np.float32 and np.all(np.isfinite(array))
    assert not fresh_tiny_model.training
    with torch.no_grad():
        expected = fresh_tiny_model(torch.from_numpy(crops))
    np.testing.assert_allclose(raw.hand_pose, expected.hand_pose[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(raw.betas, expected.betas[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(raw.transl, expected.transl[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(raw.pose_enc, expected.pose_enc[0].numpy(), atol=1e-6)


def test_crop_size_can_be_overridden(fresh_tiny_model: HGGT, make_crops: Crops) -> None:
    engine = TorchEngine(fresh_tiny_model, crop_size=42)
    assert engine.crop_size == 42
    assert engine.run(make_crops(1, 42)).pose_enc.shape == (1, 9)
    with pytest.raises(ValueError, match=r"\[S, 3, 42, 42\]"):
        engine.run(make_crops(1, 28))


@pytest.mark.parametrize("crop_size", [0, 30, -14])
def test_crop_size_must_be_a_multiple_of_the_patch(fresh_tiny_model: HGGT, crop_size: int) -> None:
    with pytest.raises(ValueError, match="multiple of 14"):
        TorchEngine(fresh_tiny_model, crop_size=crop_size)


def test_dtype_rules(fresh_tiny_model: HGGT) -> None:
    with pytest.raises(ValueError, match="CUDA only"):
        TorchEngine(fresh_tiny_model, dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="unsupported dtype"):
        TorchEngine(fresh_tiny_model, dtype=torch.float64)
    engine = TorchEngine(fresh_tiny_model, dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in engine.model.parameters())


def test_rejects_malformed_crops(fresh_tiny_model: HGGT, make_crops: Crops) -> None:
    engine = TorchEngine(fresh_tiny_model)
    with pytest.raises(ValueError, match="float32"):
        engine.run(make_crops(2, 28).astype(np.float64))
    with pytest.raises(ValueError, match="float32"):
        engine.run(make_crops(2, 28)[0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_reduced_precision_weights(fresh_tiny_model: HGGT, make_crops: Crops) -> None:
    engine = TorchEngine(fresh_tiny_model, device="cuda", dtype=torch.bfloat16)
    assert engine.device == "cuda"
    assert engine.model.aggregator.camera_token.dtype == torch.bfloat16
    assert engine.model.mano_head.token_norm.weight.dtype == torch.float32
    raw = engine.run(make_crops(2, 28))
    assert raw.pose_enc.dtype == np.float32 and np.all(np.isfinite(raw.pose_enc))


def test_only_the_last_aggregator_layer_is_kept(
    fresh_tiny_model: HGGT, make_crops: Crops, monkeypatch: pytest.MonkeyPatch
) -> None:
    aggregator = fresh_tiny_model.aggregator
    forward = aggregator.forward
    requested = []

    def recording_forward(images: torch.Tensor, keep_layers: object = None) -> object:
        requested.append(keep_layers)
        return forward(images, keep_layers)

    monkeypatch.setattr(aggregator, "forward", recording_forward)
    TorchEngine(fresh_tiny_model).run(make_crops(2, 28))
    assert requested == [(-1,)]


def test_sdpa_backends_are_applied(fresh_tiny_model: HGGT, make_crops: Crops) -> None:
    crops = make_crops(2, 28)
    assert TorchEngine(fresh_tiny_model).sdpa_backends is None  # CPU: torch's own choice
    reference = TorchEngine(fresh_tiny_model).run(crops)
    math_only = TorchEngine(fresh_tiny_model, sdpa_backends=[SDPBackend.MATH])
    assert math_only.sdpa_backends == (SDPBackend.MATH,)
    np.testing.assert_allclose(math_only.run(crops).pose_enc, reference.pose_enc, atol=1e-5)
    # The memory-efficient kernel has no CPU implementation: proof that the choice is honoured.
    efficient_only = TorchEngine(fresh_tiny_model, sdpa_backends=[SDPBackend.EFFICIENT_ATTENTION])
    with pytest.raises(RuntimeError, match="No viable backend"):
        efficient_only.run(crops)


@pytest.mark.slow
def test_compile_traces_the_whole_forward_for_a_fixed_view_count(
    fresh_tiny_model: HGGT, make_crops: Crops, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real_compile = torch.compile

    def eager_compile(model: torch.nn.Module, **kwargs: object) -> object:
        calls.append(kwargs)
        # The eager backend checks that dynamo captures one graph without inductor's minutes
        # of code generation on a CPU.
        return real_compile(model, dynamic=False, backend="eager", fullgraph=True)

    monkeypatch.setattr(torch, "compile", eager_compile)
    crops = make_crops(2, 28)
    eager = TorchEngine(fresh_tiny_model).run(crops)
    engine = TorchEngine(fresh_tiny_model, compile=True)
    assert engine.compiled and calls == [{"dynamic": False, "mode": None}]
    compiled = engine.run(crops)
    np.testing.assert_allclose(compiled.hand_pose, eager.hand_pose, atol=1e-5)
    np.testing.assert_allclose(compiled.pose_enc, eager.pose_enc, atol=1e-5)
    assert not TorchEngine(fresh_tiny_model).compiled
