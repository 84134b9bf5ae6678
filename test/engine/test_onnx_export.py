# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""ONNX export of a tiny HGGT: one graph for every view count, ORT parity, portable operators.

Parity metric (per output): max |onnx - torch| / max |torch|, required <= 1e-4 in float32.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from hggt_core.engine.export import (
    HGGT_OUTPUTS,
    MIN_OPSET,
    TENSORRT_OPS,
    OnnxExport,
    export_onnx,
)
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.model import HGGT, HGGTConfig

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

CROP = 28
MAX_VIEWS = 6
PARITY_VIEWS = (1, 3, 5)
MAX_RELATIVE_ERROR = 1e-4
# Ops whose presence would break TensorRT or a fixed-shape plan (see export.TENSORRT_OPS).
FORBIDDEN_OPS = {"SequenceAt", "SplitToSequence", "SequenceConstruct", "Loop", "If", "NonZero"}
Crops = Callable[..., np.ndarray]
RelativeError = Callable[[np.ndarray, np.ndarray], float]


def torch_outputs(model: HGGT, images: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        output = model(torch.from_numpy(images)[None])
    return [t.numpy() for t in (output.hand_pose, output.betas, output.transl, output.pose_enc)]


@pytest.fixture(scope="module")
def exported(
    tiny_model: HGGT, make_crops: Crops, tmp_path_factory: pytest.TempPathFactory
) -> tuple[OnnxExport, list[np.ndarray]]:
    """One export (S dynamic), plus the eager outputs for 3 views computed before it."""
    before = torch_outputs(tiny_model, make_crops(3, seed=99))
    result = export_onnx(
        tiny_model, tmp_path_factory.mktemp("onnx") / "hggt.onnx", CROP, MAX_VIEWS
    )
    return result, before


@pytest.mark.slow
@pytest.mark.onnx_export
def test_one_export_matches_torch_for_every_view_count(
    tiny_model: HGGT,
    exported: tuple[OnnxExport, list[np.ndarray]],
    make_crops: Crops,
    relative_error: RelativeError,
) -> None:
    result, _ = exported
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    for views in PARITY_VIEWS:
        images = make_crops(views, seed=views)
        got = session.run(list(HGGT_OUTPUTS), {"images": images})
        want = torch_outputs(tiny_model, images)
        for name, g, w in zip(HGGT_OUTPUTS, got, want, strict=True):
            assert g.shape == w.shape, (views, name)
            assert relative_error(g, w) <= MAX_RELATIVE_ERROR, (views, name)
    assert got[3].shape == (1, PARITY_VIEWS[-1], 9)


@pytest.mark.slow
@pytest.mark.onnx_export
def test_export_leaves_the_eager_model_unchanged(
    tiny_model: HGGT, exported: tuple[OnnxExport, list[np.ndarray]], make_crops: Crops
) -> None:
    _, before = exported
    after = torch_outputs(tiny_model, make_crops(3, seed=99))
    for b, a in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
@pytest.mark.onnx_export
def test_graph_is_portable_and_described(
    exported: tuple[OnnxExport, list[np.ndarray]], tiny_config: HGGTConfig
) -> None:
    result, _ = exported
    assert result.data_path is None and not result.path.with_suffix(".onnx.data").exists()
    assert (result.crop_size, result.max_views, result.opset) == (CROP, MAX_VIEWS, 18)
    assert set(result.op_types) <= TENSORRT_OPS
    assert not set(result.op_types) & FORBIDDEN_OPS
    assert {"MatMul", "LayerNormalization", "Softmax", "Conv"} <= set(result.op_types)

    proto = onnx.load(str(result.path))
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", 18)]
    images = proto.graph.input[0]
    dims = [d.dim_param or d.dim_value for d in images.type.tensor_type.shape.dim]
    assert (images.name, dims) == ("images", ["views", 3, CROP, CROP])
    outputs = {
        o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]
        for o in proto.graph.output
    }
    assert outputs == {
        "hand_pose": [1, 48],
        "betas": [1, 10],
        "transl": [1, 3],
        "pose_enc": [1, "views", 9],
    }
    metadata = {prop.key: prop.value for prop in proto.metadata_props}
    assert metadata["hggt.format"] == "hggt-onnx-1"
    assert (metadata["hggt.crop_size"], metadata["hggt.max_views"]) == ("28", "6")
    assert metadata["hggt.opset"] == "18"
    assert json.loads(metadata["hggt.config"]) == asdict(tiny_config)
    assert metadata["hggt.outputs"] == ",".join(HGGT_OUTPUTS)
    assert "hggt.mano" not in metadata


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"crop_size": 30}, "multiple of 14"),
        ({"max_views": 0}, "max_views"),
        ({"opset": MIN_OPSET - 1}, "opset"),
    ],
)
def test_rejects_bad_arguments(
    tiny_model: HGGT, tmp_path: Path, kwargs: dict[str, int], message: str
) -> None:
    arguments = {"crop_size": CROP, **kwargs}
    with pytest.raises(ValueError, match=message):
        export_onnx(tiny_model, tmp_path / "x.onnx", **arguments)
    assert not (tmp_path / "x.onnx").exists()


def test_rejects_reduced_precision_and_pca_mano(
    tmp_path: Path, fresh_tiny_model: HGGT, tiny_config: HGGTConfig
) -> None:
    half = fresh_tiny_model.to(torch.bfloat16)
    with pytest.raises(ValueError, match="float32"):
        export_onnx(half, tmp_path / "x.onnx", CROP)
    pca = ManoLayer(make_synthetic_mano("right"), use_pca=True)
    with pytest.raises(ValueError, match="use_pca"):
        export_onnx(HGGT(tiny_config), tmp_path / "x.onnx", CROP, include_mano=pca)


@pytest.mark.slow
@pytest.mark.onnx_export
def test_export_after_an_inference_mode_run_keeps_the_view_count_dynamic(
    tmp_path: Path, tiny_config: HGGTConfig, make_crops: Crops, relative_error: RelativeError
) -> None:
    torch.manual_seed(5)
    model = HGGT(tiny_config).eval()
    with torch.inference_mode():
        model(torch.rand(1, 2, 3, CROP, CROP))
    result = export_onnx(model, tmp_path / "after_eager.onnx", CROP, max_views=3)
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    for views in (1, 3):
        images = make_crops(views, seed=views)
        got = session.run(list(HGGT_OUTPUTS), {"images": images})
        for onnx_out, torch_out in zip(got, torch_outputs(model, images), strict=True):
            assert relative_error(onnx_out, torch_out) <= MAX_RELATIVE_ERROR
