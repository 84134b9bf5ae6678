# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The TensorRT builder and runtime.

CPU parts (always run): engine file naming, the JSON sidecar, version / GPU / view checks, the
error when TensorRT is missing, and the builder's calls against a stand-in ``tensorrt``
module. GPU parts (a tiny real engine vs torch) need TensorRT and CUDA and are skipped without.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from hggt_core.engine import tensorrt_build
from hggt_core.engine.tensorrt_build import build_engine, check_precision, check_view_profile
from hggt_core.engine.tensorrt_engine import (
    TensorRTEngine,
    ViewProfile,
    check_identity,
    check_views,
)
from hggt_core.engine.tensorrt_metadata import (
    EngineIdentity,
    EngineMetadata,
    TensorRTError,
    engine_file_name,
    import_tensorrt,
    read_sidecar,
    sidecar_path,
)
from hggt_core.model import HGGT, HGGTConfig

GPU = "NVIDIA H100 80GB HBM3"
HAS_TENSORRT = importlib.util.find_spec("tensorrt") is not None
needs_gpu_tensorrt = pytest.mark.skipif(
    not (HAS_TENSORRT and torch.cuda.is_available()),
    reason="needs TensorRT >= 10 (pip install hggt_ros[trt]) and a CUDA GPU",
)


MetadataFactory = Callable[..., EngineMetadata]
"""``(**changes) ->`` an engine's metadata for the tiny config, with the given fields changed."""
OnnxWriter = Callable[..., Path]
"""``(path, max_views=8, crop_size=28) ->`` ``path``, a metadata-only ONNX file written there."""


@pytest.fixture
def metadata(tiny_config: HGGTConfig) -> MetadataFactory:
    return partial(_metadata, tiny_config)


def _metadata(config: HGGTConfig, **changes: Any) -> EngineMetadata:
    values: dict[str, Any] = {
        "crop_size": 518,
        "precision": "fp16",
        "min_views": 1,
        "opt_views": 4,
        "max_views": 8,
        "tensorrt_version": "10.3.0",
        "gpu_name": GPU,
        "compute_capability": (9, 0),
        "config": config,
        "outputs": ("hand_pose", "betas", "transl", "pose_enc"),
        "mano": None,
        "onnx_file": "hggt.onnx",
        "workspace_gb": 8.0,
        "build_s": 12.5,
    }
    values.update(changes)
    return EngineMetadata(**values)


@pytest.fixture
def write_metadata_only_onnx(tiny_config: HGGTConfig) -> OnnxWriter:
    return partial(_write_metadata_only_onnx, tiny_config)


def _write_metadata_only_onnx(
    config: HGGTConfig, path: Path, max_views: int = 8, crop_size: int = 28
) -> Path:
    """A one-node ONNX file carrying an export's hggt.* metadata (the fake parser ignores it)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["hand_pose"])],
        "hggt",
        [
            helper.make_tensor_value_info(
                "images", TensorProto.FLOAT, ["S", 3, crop_size, crop_size]
            )
        ],
        [
            helper.make_tensor_value_info(
                "hand_pose", TensorProto.FLOAT, ["S", 3, crop_size, crop_size]
            )
        ],
    )
    model = helper.make_model(graph)
    helper.set_model_props(
        model,
        {
            "hggt.format": "hggt-onnx-1",
            "hggt.crop_size": str(crop_size),
            "hggt.max_views": str(max_views),
            "hggt.config": json.dumps(asdict(config)),
            "hggt.outputs": "hand_pose,betas,transl,pose_enc",
        },
    )
    onnx.save(model, str(path))
    return path


# --- naming and metadata -----------------------------------------------------------------


def test_engine_file_name_says_crop_precision_version_and_gpu() -> None:
    name = engine_file_name(518, "fp16", "10.3.0", "NVIDIA H100 80GB HBM3")
    assert name == "hggt_518px_fp16_trt10.3.0_nvidia-h100-80gb-hbm3.engine"
    jetson = engine_file_name(224, "bf16", "10.3.0", "Orin (nvgpu)")
    assert jetson == "hggt_224px_bf16_trt10.3.0_orin-nvgpu.engine"
    assert EngineIdentity.from_file_name(name) == EngineIdentity(
        518, "fp16", "10.3.0", "nvidia-h100-80gb-hbm3"
    )
    assert EngineIdentity.from_file_name("model.engine") is None
    assert EngineIdentity.from_file_name(name.replace(".engine", ".plan")) is None


def test_sidecar_round_trip(
    tmp_path: Path, metadata: MetadataFactory, tiny_config: HGGTConfig
) -> None:
    original = metadata(mano='{"side": "right"}', compute_capability=(8, 7))
    engine = tmp_path / original.identity.file_name
    assert engine.name == "hggt_518px_fp16_trt10.3.0_nvidia-h100-80gb-hbm3.engine"
    assert read_sidecar(engine) is None
    sidecar_path(engine).write_text(original.to_json(), encoding="utf-8")
    assert sidecar_path(engine) == tmp_path / (engine.stem + ".json")
    loaded = read_sidecar(engine)
    assert loaded == original
    assert (
        loaded is not None and loaded.config == tiny_config and loaded.compute_capability == (8, 7)
    )


def test_malformed_sidecars_are_rejected(tmp_path: Path, metadata: MetadataFactory) -> None:
    with pytest.raises(TensorRTError, match="invalid engine sidecar"):
        EngineMetadata.from_json("{not json")
    with pytest.raises(TensorRTError, match="not an HGGT engine sidecar"):
        EngineMetadata.from_json(json.dumps({"format": "other"}))
    values = json.loads(metadata().to_json())
    del values["precision"]
    with pytest.raises(TensorRTError, match="precision"):
        EngineMetadata.from_json(json.dumps(values))
    values = json.loads(metadata().to_json())
    values["config"]["no_such_field"] = 1
    with pytest.raises(TensorRTError, match="invalid engine sidecar"):
        EngineMetadata.from_json(json.dumps(values))


def test_identity_checks(metadata: MetadataFactory) -> None:
    built = metadata().identity
    check_identity(built, "10.3.0", GPU, "x.engine")
    with pytest.raises(TensorRTError, match=r"TensorRT 10\.3\.0 but this is TensorRT 10\.7\.0"):
        check_identity(built, "10.7.0", GPU, "x.engine")
    with pytest.raises(TensorRTError, match="built for GPU 'nvidia-h100-80gb-hbm3'"):
        check_identity(built, "10.3.0", "NVIDIA A100-SXM4-40GB", "x.engine")
    check_identity(built, "10.3.0", "NVIDIA A100-SXM4-40GB", "x.engine", allow_other_gpu=True)


def test_view_checks() -> None:
    profile = ViewProfile(1, 4, 8)
    for views in (1, 4, 8):
        check_views(views, profile)
    for views in (0, 9):
        with pytest.raises(ValueError, match="takes 1 to 8 views"):
            check_views(views, profile)
    check_view_profile(1, 4, 8, export_max_views=8)
    with pytest.raises(ValueError, match="min_views <= opt_views"):
        check_view_profile(2, 1, 8, export_max_views=8)
    with pytest.raises(ValueError, match="exceeds the export's limit of 4"):
        check_view_profile(1, 2, 8, export_max_views=4)


def test_precision_checks() -> None:
    check_precision("fp16", (7, 5))
    check_precision("bf16", (8, 7))  # Jetson Orin
    check_precision("fp8", (9, 0))
    with pytest.raises(ValueError, match="unknown precision"):
        check_precision("int8")
    with pytest.raises(ValueError, match=r"bf16 needs .* >= 8\.0"):
        check_precision("bf16", (7, 5))
    with pytest.raises(ValueError, match=r"fp8 needs .* >= 8\.9"):
        check_precision("fp8", (8, 7))


# --- TensorRT missing ----------------------------------------------------------------------


def test_missing_tensorrt_gives_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_metadata_only_onnx: OnnxWriter
) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # makes `import tensorrt` fail
    with pytest.raises(ImportError, match=r"pip install hggt_ros\[trt\]"):
        import_tensorrt()
    engine = tmp_path / "hggt_28px_fp16_trt10.3.0_gpu.engine"
    engine.write_bytes(b"engine")
    with pytest.raises(ImportError, match=r"pip install hggt_ros\[trt\]"):
        TensorRTEngine(engine)
    onnx_path = write_metadata_only_onnx(tmp_path / "tiny.onnx")
    with pytest.raises(ImportError, match=r"pip install hggt_ros\[trt\]"):
        build_engine(onnx_path, tmp_path / "engines")


def test_old_tensorrt_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    old = ModuleType("tensorrt")
    old.__version__ = "8.6.1"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tensorrt", old)
    with pytest.raises(ImportError, match=r"TensorRT 8\.6\.1 is too old"):
        import_tensorrt()


def test_clear_errors_before_tensorrt_is_needed(
    tmp_path: Path, write_metadata_only_onnx: OnnxWriter
) -> None:
    with pytest.raises(FileNotFoundError, match="TensorRT engine not found"):
        TensorRTEngine(tmp_path / "missing.engine")
    with pytest.raises(FileNotFoundError, match="ONNX model not found"):
        build_engine(tmp_path / "missing.onnx", tmp_path)
    onnx_path = write_metadata_only_onnx(tmp_path / "tiny.onnx", max_views=3)
    with pytest.raises(ValueError, match="unknown precision"):
        build_engine(onnx_path, tmp_path, precision="int8")
    with pytest.raises(ValueError, match="exceeds the export's limit of 3"):
        build_engine(onnx_path, tmp_path, max_views=8)
    with pytest.raises(ValueError, match="workspace_gb"):
        build_engine(onnx_path, tmp_path, workspace_gb=0)


# --- the builder against a stand-in tensorrt module -------------------------------------------


class FakeTensorRT(ModuleType):
    """Records the builder calls; its parser accepts any file, its engine is b"ENGINE"."""

    __version__ = "10.3.0"
    BuilderFlag = SimpleNamespace(FP16="FP16", BF16="BF16", FP8="FP8")
    MemoryPoolType = SimpleNamespace(WORKSPACE="WORKSPACE")
    LayerType = SimpleNamespace(QUANTIZE="QUANTIZE", MATRIX_MULTIPLY="MATRIX_MULTIPLY")

    def __init__(self, parse_ok: bool = True) -> None:
        super().__init__("tensorrt")
        self.calls: dict[str, Any] = {"flags": []}
        calls = self.calls

        class Logger:
            WARNING = 2

            def __init__(self, severity: int) -> None:
                calls["log_severity"] = severity

        class TimingCache:
            def __init__(self, blob: bytes) -> None:
                self.blob = bytes(blob)

            def serialize(self) -> bytes:
                return self.blob + b"+timings"

        class Config:
            def set_flag(self, flag: str) -> None:
                calls["flags"].append(flag)

            def set_memory_pool_limit(self, pool: str, size: int) -> None:
                calls["workspace"] = (pool, size)

            def add_optimization_profile(self, profile: object) -> None:
                calls["profile_added"] = True

            def create_timing_cache(self, blob: bytes) -> TimingCache:
                calls["cache_in"] = bytes(blob)
                self.cache = TimingCache(blob)
                return self.cache

            def set_timing_cache(self, cache: TimingCache, ignore_mismatch: bool) -> None:
                calls["cache_set"] = (cache is self.cache, ignore_mismatch)

            def get_timing_cache(self) -> TimingCache:
                return self.cache

        class Profile:
            def set_shape(self, name: str, *shapes: tuple[int, ...]) -> None:
                calls["profile"] = (name, *shapes)

        class Network:
            num_layers = 1

            def get_layer(self, index: int) -> SimpleNamespace:
                return SimpleNamespace(type="MATRIX_MULTIPLY")

        class Builder:
            def __init__(self, logger: Logger) -> None:
                pass

            def create_network(self, flags: int) -> Network:
                calls["network_flags"] = flags
                return Network()

            def create_builder_config(self) -> Config:
                return Config()

            def create_optimization_profile(self) -> Profile:
                return Profile()

            def build_serialized_network(self, network: Network, config: Config) -> bytes:
                return b"ENGINE"

        class OnnxParser:
            num_errors = 0 if parse_ok else 1

            def __init__(self, network: Network, logger: Logger) -> None:
                pass

            def parse_from_file(self, path: str) -> bool:
                calls["parsed"] = path
                return parse_ok

            def get_error(self, index: int) -> str:
                return "unsupported operator Foo"

        self.Logger, self.Builder, self.OnnxParser = Logger, Builder, OnnxParser


@pytest.fixture
def fake_tensorrt(monkeypatch: pytest.MonkeyPatch) -> FakeTensorRT:
    fake = FakeTensorRT()
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    monkeypatch.setattr(tensorrt_build, "gpu_identity", lambda index: (GPU, (9, 0)))
    monkeypatch.setattr(torch.cuda, "device", lambda index: contextlib.nullcontext())
    return fake


def test_builder_configures_profile_precision_and_timing_cache(
    fake_tensorrt: FakeTensorRT,
    tmp_path: Path,
    write_metadata_only_onnx: OnnxWriter,
    tiny_config: HGGTConfig,
) -> None:
    onnx_path = write_metadata_only_onnx(tmp_path / "tiny.onnx", max_views=8, crop_size=28)
    out = tmp_path / "engines"
    engine = build_engine(onnx_path, out, "fp16", min_views=1, opt_views=4, max_views=8)
    calls = fake_tensorrt.calls
    assert engine == out / "hggt_28px_fp16_trt10.3.0_nvidia-h100-80gb-hbm3.engine"
    assert engine.read_bytes() == b"ENGINE"
    assert calls["parsed"] == str(onnx_path)
    assert calls["flags"] == ["FP16"]
    assert calls["profile"] == ("images", (1, 3, 28, 28), (4, 3, 28, 28), (8, 3, 28, 28))
    assert calls["workspace"] == ("WORKSPACE", 8 * 2**30)
    assert calls["cache_in"] == b"" and calls["cache_set"] == (True, False)
    cache = out / "timing_trt10.3.0_nvidia-h100-80gb-hbm3.cache"
    assert cache.read_bytes() == b"+timings"
    sidecar = read_sidecar(engine)
    assert sidecar is not None
    assert (sidecar.min_views, sidecar.opt_views, sidecar.max_views) == (1, 4, 8)
    assert sidecar.config == tiny_config and sidecar.gpu_name == GPU
    assert sidecar.compute_capability == (9, 0) and sidecar.onnx_file == "tiny.onnx"
    assert sidecar.outputs == ("hand_pose", "betas", "transl", "pose_enc")

    # A second build (another precision) starts from the first build's timings.
    second = build_engine(onnx_path, out, "bf16", workspace_gb=2)
    assert calls["cache_in"] == b"+timings" and calls["flags"][-1:] == ["BF16"]
    assert cache.read_bytes() == b"+timings+timings"
    assert second.name == "hggt_28px_bf16_trt10.3.0_nvidia-h100-80gb-hbm3.engine"
    assert calls["profile"][2] == (4, 3, 28, 28)  # default opt: 4 views


def test_builder_defaults_and_explicit_cache(
    fake_tensorrt: FakeTensorRT, tmp_path: Path, write_metadata_only_onnx: OnnxWriter
) -> None:
    onnx_path = write_metadata_only_onnx(tmp_path / "tiny.onnx", max_views=2)
    cache = tmp_path / "shared.cache"
    cache.write_bytes(b"old")
    build_engine(onnx_path, tmp_path, "fp8", timing_cache=cache)
    calls = fake_tensorrt.calls
    # Defaults: the export's view limit, opt clipped to it; FP8 falls back to FP16 kernels.
    assert calls["profile"][1:] == ((1, 3, 28, 28), (2, 3, 28, 28), (2, 3, 28, 28))
    assert calls["flags"] == ["FP8", "FP16"]
    assert calls["cache_in"] == b"old" and cache.read_bytes() == b"old+timings"


def test_builder_reports_parser_errors(
    fake_tensorrt: FakeTensorRT,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write_metadata_only_onnx: OnnxWriter,
) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", FakeTensorRT(parse_ok=False))
    onnx_path = write_metadata_only_onnx(tmp_path / "tiny.onnx")
    with pytest.raises(TensorRTError, match=r"cannot parse .*unsupported operator Foo"):
        build_engine(onnx_path, tmp_path)
    assert not list(tmp_path.glob("*.engine"))


def test_builder_rejects_precisions_the_gpu_lacks(
    fake_tensorrt: FakeTensorRT,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write_metadata_only_onnx: OnnxWriter,
) -> None:
    monkeypatch.setattr(tensorrt_build, "gpu_identity", lambda index: ("Orin (nvgpu)", (8, 7)))
    onnx_path = write_metadata_only_onnx(tmp_path / "tiny.onnx")
    with pytest.raises(ValueError, match="fp8 needs"):
        build_engine(onnx_path, tmp_path, "fp8")
    engine = build_engine(onnx_path, tmp_path, "fp16")
    assert engine.name == "hggt_28px_fp16_trt10.3.0_orin-nvgpu.engine"


def test_sidecar_of_the_builder_matches_the_file_name(
    fake_tensorrt: FakeTensorRT, tmp_path: Path, write_metadata_only_onnx: OnnxWriter
) -> None:
    engine = build_engine(write_metadata_only_onnx(tmp_path / "tiny.onnx"), tmp_path)
    sidecar = read_sidecar(engine)
    assert sidecar is not None
    assert EngineIdentity.from_file_name(engine.name) == sidecar.identity
    assert replace(sidecar, build_s=0.0).identity == sidecar.identity


# --- a real engine (GPU with TensorRT) ---------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_export(tiny_model: HGGT, tmp_path_factory: pytest.TempPathFactory) -> tuple[HGGT, Path]:
    pytest.importorskip("onnxscript")
    from hggt_core.engine.export import export_onnx

    model = tiny_model
    path = tmp_path_factory.mktemp("trt") / "tiny.onnx"
    export_onnx(model, path, crop_size=28, max_views=3)
    return model, path


@needs_gpu_tensorrt
@pytest.mark.parametrize(("precision", "tolerance"), [("fp32", 1e-3), ("fp16", 3e-2)])
def test_real_engine_matches_torch(
    tiny_export: tuple[HGGT, Path],
    tmp_path: Path,
    precision: str,
    tolerance: float,
    relative_error: Callable[[np.ndarray, np.ndarray], float],
) -> None:
    model, onnx_path = tiny_export
    path = build_engine(onnx_path, tmp_path, precision, min_views=1, opt_views=2, max_views=3)
    engine = TensorRTEngine(path)
    assert (engine.name, engine.crop_size, engine.profile) == (
        "tensorrt",
        28,
        ViewProfile(1, 2, 3),
    )
    rng = np.random.default_rng(0)
    for views in (1, 3, 2):
        crops = rng.uniform(size=(views, 3, 28, 28)).astype(np.float32)
        raw = engine.run(crops)
        with torch.no_grad():
            expected = model(torch.from_numpy(crops))
        assert raw.pose_enc.shape == (views, 9) and raw.hand_pose.shape == (48,)
        for got, want in ((raw.hand_pose, expected.hand_pose), (raw.pose_enc, expected.pose_enc)):
            assert relative_error(got, want[0].numpy()) < tolerance
    with pytest.raises(ValueError, match="takes 1 to 3 views"):
        engine.run(rng.uniform(size=(4, 3, 28, 28)).astype(np.float32))
    assert any(tmp_path.glob("timing_trt*.cache"))


@needs_gpu_tensorrt
def test_real_engine_refuses_another_tensorrt_version(
    tiny_export: tuple[HGGT, Path], tmp_path: Path
) -> None:
    path = build_engine(tiny_export[1], tmp_path, "fp32", max_views=2)
    sidecar = read_sidecar(path)
    assert sidecar is not None
    sidecar_path(path).write_text(replace(sidecar, tensorrt_version="9.0.0").to_json())
    with pytest.raises(TensorRTError, match=r"built with TensorRT 9\.0\.0"):
        TensorRTEngine(path)


def test_build_engine_command(
    fake_tensorrt: FakeTensorRT,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    write_metadata_only_onnx: OnnxWriter,
) -> None:
    import argparse

    from hggt_core.cli.build_engine import add_build_engine_parser

    parser = argparse.ArgumentParser()
    add_build_engine_parser(parser.add_subparsers(dest="command"))
    onnx_path = write_metadata_only_onnx(tmp_path / "tiny.onnx", max_views=8)
    argv = ["build-engine", "--onnx", str(onnx_path), "-o", str(tmp_path / "out")]
    args = parser.parse_args([*argv, "--precision", "bf16", "--opt-views", "2"])
    assert args.run(args) == 0
    out = capsys.readouterr().out
    assert "hggt_28px_bf16_trt10.3.0_nvidia-h100-80gb-hbm3.engine" in out
    assert "1..8 views (tuned for 2), bf16" in out and "--engine tensorrt" in out
    assert fake_tensorrt.calls["profile"][2] == (2, 3, 28, 28)
