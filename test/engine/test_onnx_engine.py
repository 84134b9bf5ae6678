# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The ONNX Runtime engine: a real tiny export (MANO baked in, external data) and fakes.

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

from hggt_core.engine.base import Engine
from hggt_core.engine.export import OnnxExport, export_onnx
from hggt_core.engine.onnx_engine import OnnxEngine, OnnxModelError
from hggt_core.engine.torch_engine import TorchEngine
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.model import HGGT, HGGTConfig

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
from onnx import TensorProto, helper  # noqa: E402 (after the skip)

CROP = 28
MAX_RELATIVE_ERROR = 1e-4
FAKE_POSE_ENC = 0.25
ALL_OUTPUTS = ("hand_pose", "betas", "transl", "pose_enc")
Metadata = Callable[..., dict[str, str]]
"""``(crop_size="28", max_views="3") ->`` an export's hggt.* metadata for the tiny config."""


def write_fake(path: Path, metadata: dict[str, str], outputs: tuple[str, ...]) -> Path:
    """A small graph with the HGGT signature: constant hand outputs, pose_enc [1, S, 9]."""
    nodes, values = [], []
    for name, size in (("hand_pose", 48), ("transl", 3), ("betas", 10)):
        if name in outputs:
            tensor = helper.make_tensor(
                f"{name}_value", TensorProto.FLOAT, [1, size], [0.5] * size
            )
            nodes.append(helper.make_node("Constant", [], [name], value=tensor))
            values.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, size]))
    if "pose_enc" in outputs:
        one_nine = helper.make_tensor("c", TensorProto.INT64, [3], [1, 0, 9])
        fill = helper.make_tensor("f", TensorProto.FLOAT, [1], [FAKE_POSE_ENC])
        nodes += [
            helper.make_node("Shape", ["images"], ["views"], start=0, end=1),
            helper.make_node("Constant", [], ["shape_template"], value=one_nine),
            helper.make_node("Slice", ["shape_template", "zero", "one"], ["one_"]),
            helper.make_node("Slice", ["shape_template", "two", "three"], ["nine"]),
            helper.make_node("Concat", ["one_", "views", "nine"], ["shape"], axis=0),
            helper.make_node("ConstantOfShape", ["shape"], ["pose_enc"], value=fill),
        ]
        for name, value in (("zero", 0), ("one", 1), ("two", 2), ("three", 3)):
            constant = helper.make_tensor(name + "_v", TensorProto.INT64, [1], [value])
            nodes.append(helper.make_node("Constant", [], [name], value=constant))
        values.append(helper.make_tensor_value_info("pose_enc", TensorProto.FLOAT, [1, "S", 9]))
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["S", 3, CROP, CROP])
    graph = helper.make_graph(nodes, "fake_hggt", [images], values)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    helper.set_model_props(model, metadata)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def hggt_metadata(tiny_config: HGGTConfig) -> Metadata:
    def metadata(crop_size: str = "28", max_views: str = "3") -> dict[str, str]:
        return {
            "hggt.format": "hggt-onnx-1",
            "hggt.crop_size": crop_size,
            "hggt.max_views": max_views,
            "hggt.config": json.dumps(asdict(tiny_config)),
        }

    return metadata


@pytest.fixture
def fake_engine(tmp_path: Path, hggt_metadata: Metadata) -> OnnxEngine:
    return OnnxEngine(write_fake(tmp_path / "fake.onnx", hggt_metadata(), ALL_OUTPUTS))


@pytest.fixture(scope="module")
def mano() -> ManoLayer:
    return ManoLayer(make_synthetic_mano("right")).eval()


@pytest.fixture(scope="module")
def mesh_export(
    tiny_model: HGGT, mano: ManoLayer, tmp_path_factory: pytest.TempPathFactory
) -> OnnxExport:
    path = tmp_path_factory.mktemp("onnx_mesh") / "hggt_mano.onnx"
    return export_onnx(tiny_model, path, CROP, max_views=4, include_mano=mano, external_data=True)


def test_engine_reads_everything_from_the_metadata(
    fake_engine: OnnxEngine, tiny_config: HGGTConfig, make_crops: Callable[..., np.ndarray]
) -> None:
    engine: Engine = fake_engine
    assert (engine.name, engine.device, engine.crop_size) == ("onnx", "cpu", CROP)
    assert (fake_engine.max_views, fake_engine.config, fake_engine.has_mano) == (
        3,
        tiny_config,
        False,
    )
    assert fake_engine.providers == ("CPUExecutionProvider",)
    raw = engine.run(make_crops(2))
    assert raw.pose_enc.shape == (2, 9) and raw.pose_enc.dtype == np.float32
    np.testing.assert_array_equal(raw.pose_enc, FAKE_POSE_ENC)
    assert (raw.hand_pose.shape, raw.betas.shape, raw.transl.shape) == ((48,), (10,), (3,))


def test_providers_may_carry_options(tmp_path: Path, hggt_metadata: Metadata) -> None:
    path = write_fake(tmp_path / "fake.onnx", hggt_metadata(), ALL_OUTPUTS)
    engine = OnnxEngine(path, providers=[("CPUExecutionProvider", {})], threads=1)
    assert (engine.device, engine.providers) == ("cpu", ("CPUExecutionProvider",))


def test_rejects_crops_it_cannot_run(
    fake_engine: OnnxEngine, make_crops: Callable[..., np.ndarray]
) -> None:
    with pytest.raises(ValueError, match=r"\[S, 3, 28, 28\] float32"):
        fake_engine.run(make_crops(2, size=42))
    with pytest.raises(ValueError, match="float32"):
        fake_engine.run(make_crops(2).astype(np.float64))
    with pytest.raises(ValueError, match="float32"):
        fake_engine.run(make_crops(2)[0])
    with pytest.raises(ValueError, match="1 to 3 views, got 4"):
        fake_engine.run(make_crops(4))
    with pytest.raises(ValueError, match="1 to 3 views, got 0"):
        fake_engine.run(make_crops(0))
    with pytest.raises(ValueError, match="no MANO outputs"):
        fake_engine.run_with_mesh(make_crops(1))


def test_rejects_files_that_are_not_hggt_exports(tmp_path: Path, hggt_metadata: Metadata) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        OnnxEngine(tmp_path / "missing.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a protobuf")
    with pytest.raises(OnnxModelError, match="cannot load"):
        OnnxEngine(garbage)
    with pytest.raises(OnnxModelError, match="not an HGGT export"):
        OnnxEngine(write_fake(tmp_path / "plain.onnx", {}, ALL_OUTPUTS))
    with pytest.raises(OnnxModelError, match=r"missing outputs \['betas'\]"):
        OnnxEngine(
            write_fake(
                tmp_path / "partial.onnx", hggt_metadata(), ("hand_pose", "transl", "pose_enc")
            )
        )
    with pytest.raises(OnnxModelError, match=r"hggt\.crop_size"):
        OnnxEngine(write_fake(tmp_path / "bad.onnx", hggt_metadata(crop_size="big"), ALL_OUTPUTS))
    with pytest.raises(OnnxModelError, match=r"hggt\.max_views"):
        OnnxEngine(write_fake(tmp_path / "zero.onnx", hggt_metadata(max_views="0"), ALL_OUTPUTS))
    with pytest.raises(ValueError, match="threads"):
        OnnxEngine(write_fake(tmp_path / "ok.onnx", hggt_metadata(), ALL_OUTPUTS), threads=0)


@pytest.mark.slow
@pytest.mark.onnx_export
def test_external_data_export_with_mano_matches_torch(
    mesh_export: OnnxExport,
    tiny_model: HGGT,
    mano: ManoLayer,
    make_crops: Callable[..., np.ndarray],
    relative_error: Callable[[np.ndarray, np.ndarray], float],
) -> None:
    assert mesh_export.data_path is not None and mesh_export.data_path.is_file()
    # The weights live in the data file: the graph file is far smaller than the weights.
    assert mesh_export.path.stat().st_size < mesh_export.parameter_bytes
    assert mesh_export.data_path.stat().st_size >= mesh_export.parameter_bytes
    engine = OnnxEngine(mesh_export.path, threads=1)
    assert (engine.has_mano, engine.max_views, engine.crop_size) == (True, 4, CROP)
    reference = TorchEngine(tiny_model)
    for views in (1, 4):
        images = make_crops(views, seed=views)
        raw, mesh = engine.run_with_mesh(images)
        want = reference.run(images)
        for name in ALL_OUTPUTS:
            got_value, want_value = getattr(raw, name), getattr(want, name)
            assert got_value.shape == want_value.shape, name
            assert relative_error(got_value, want_value) <= MAX_RELATIVE_ERROR, name
        with torch.no_grad():
            posed = mano.forward_theta(
                *(
                    torch.from_numpy(getattr(want, n))[None]
                    for n in ("hand_pose", "betas", "transl")
                )
            )
        assert mesh.vertices.shape == (778, 3) and mesh.joints.shape == (21, 3)
        assert relative_error(mesh.vertices, posed.vertices[0].numpy()) <= MAX_RELATIVE_ERROR
        assert relative_error(mesh.joints, posed.joints[0].numpy()) <= MAX_RELATIVE_ERROR
        np.testing.assert_allclose(engine.run(images).pose_enc, raw.pose_enc)
