# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""ONNX export of ManoLayer: dynamic batch, onnxruntime parity, standard operators only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hggt_core.mano.io import ManoModelData
from hggt_core.mano.layer import ManoLayer

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

_INPUTS = ("global_orient", "hand_pose", "betas", "transl")
_OUTPUTS = ("vertices", "joints", "joints16", "global_rotations")


def _inputs(batch: int, seed: int) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    sizes = (3, 45, 10, 3)
    scales = (0.5, 0.5, 1.0, 0.1)
    return tuple(
        s * torch.randn(batch, n, generator=generator) for n, s in zip(sizes, scales, strict=True)
    )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*axis name.*:UserWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_onnx_export_matches_torch(tmp_path: Path, right_model: ManoModelData) -> None:
    layer = ManoLayer(right_model).eval()
    path = tmp_path / "mano.onnx"
    batch = torch.export.Dim("batch", min=1, max=1024)
    torch.onnx.export(
        layer,
        _inputs(2, seed=0),
        str(path),
        input_names=list(_INPUTS),
        output_names=list(_OUTPUTS),
        dynamic_shapes={name: {0: batch} for name in _INPUTS},
        opset_version=18,
        dynamo=True,
    )

    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert {op.domain for op in model.opset_import} <= {"", "ai.onnx"}
    assert {node.domain for node in model.graph.node} <= {"", "ai.onnx"}
    assert len(model.functions) == 0

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch_size in (1, 5):  # neither is the export batch
        inputs = _inputs(batch_size, seed=batch_size)
        outputs = session.run(
            list(_OUTPUTS), {n: t.numpy() for n, t in zip(_INPUTS, inputs, strict=True)}
        )
        with torch.no_grad():
            expected = layer(*inputs)
        for name, got, want in zip(_OUTPUTS, outputs, expected, strict=True):
            assert got.shape == tuple(want.shape), name
            np.testing.assert_allclose(got, want.numpy(), atol=1e-5, rtol=0, err_msg=name)
