# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The HGGT engines by name: which exist, their precisions, and loading one from a file.

:func:`load_hggt_engine` turns a name ("torch", "onnx", "tensorrt") and a weights file into an
:class:`~hggt_core.engine.base.Engine`. Without a checkpoint, "torch" runs the bundled demo
model, or (when the package ships none) an untrained tiny network that exercises every stage.
The choice between HGGT and the landmark engine is made above, in
:mod:`hggt_core.assembly.factory`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from hggt_core.engine.base import Engine
from hggt_core.engine.onnx_engine import OnnxEngine
from hggt_core.engine.tensorrt_engine import TensorRTEngine
from hggt_core.engine.torch_engine import TorchEngine
from hggt_core.model.checkpoint import build_hggt_from_checkpoint
from hggt_core.model.hggt import HGGT, HGGTConfig

_LOG = logging.getLogger(__name__)

HGGT_ENGINES = ("torch", "onnx", "tensorrt")
"""The engines that run the HGGT network."""
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
"""Backbone weight precisions by name (reduced ones on CUDA only)."""
BUNDLED_MODEL = Path(__file__).resolve().parents[1] / "data" / "demo_model.safetensors"
"""The small demo model the package ships (``training/configs/demo_model*.yaml``; 6.5 MB)."""
UNTRAINED_CONFIG = HGGTConfig(
    embed_dim=64,
    depth=2,
    num_heads=4,
    patch_embed="conv",
    head_trunk_depth=1,
    head_num_heads=4,
)
"""A tiny network run with random weights when no checkpoint exists: exercises every stage."""
_UNTRAINED_SEED = 0


@dataclass(frozen=True)
class LoadedEngine:
    """An HGGT engine and where its weights came from."""

    engine: Engine
    """Runs crops through the network."""
    source: str
    """The checkpoint path, or a phrase naming the bundled or untrained network."""
    trained: bool
    """False when the network has random weights."""


def load_hggt_engine(
    name: str,
    checkpoint: Path | None,
    device: str = "cpu",
    precision: str = "fp32",
    crop_size: int | None = None,
) -> LoadedEngine:
    """Load an HGGT engine by name.

    Args:
        name: one of :data:`HGGT_ENGINES`.
        checkpoint: weights (.pt/.pth/.safetensors) for "torch", the ``hggt export-onnx`` file
            for "onnx", the ``hggt build-engine`` file for "tensorrt"; None ("torch" only)
            uses :data:`BUNDLED_MODEL` if present, else an untrained :data:`UNTRAINED_CONFIG`
            network (with a warning).
        device: torch-style device, e.g. "cpu" or "cuda:0".
        precision: backbone weight precision of "torch", a key of :data:`PRECISIONS`.
        crop_size: crop side in pixels; None uses the network's size. Exported engines were
            built for one size, and another is refused.

    Raises:
        ValueError: an unknown name, a missing file for "onnx"/"tensorrt", or a crop size the
            exported engine was not built for.
    """
    if name not in HGGT_ENGINES:
        raise ValueError(f"unknown HGGT engine {name!r}; choose from {HGGT_ENGINES}")
    if name in ("onnx", "tensorrt") and checkpoint is None:
        raise ValueError(f"the {name} engine needs a checkpoint file")
    if name == "tensorrt" and checkpoint is not None:
        trt_engine = TensorRTEngine(checkpoint, device)
        _check_crop_size(checkpoint, crop_size, trt_engine.crop_size)
        return LoadedEngine(trt_engine, str(checkpoint), True)
    if name == "onnx" and checkpoint is not None:
        onnx_engine = OnnxEngine(checkpoint, onnx_providers(device))
        _check_crop_size(checkpoint, crop_size, onnx_engine.crop_size)
        return LoadedEngine(onnx_engine, str(checkpoint), True)
    model, source, trained = _load_model(checkpoint)
    engine = TorchEngine(model, device, PRECISIONS[precision], crop_size)
    return LoadedEngine(engine, source, trained)


def onnx_providers(device: str) -> list[str | tuple[str, dict[str, int]]]:
    """ONNX Runtime execution providers for a torch-style device string."""
    if device.startswith("cuda"):
        index = int(device.partition(":")[2] or 0)
        return [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _check_crop_size(checkpoint: Path, wanted: int | None, built_for: int) -> None:
    if wanted not in (None, built_for):
        raise ValueError(f"{checkpoint} was built for {built_for}-pixel crops, not {wanted}")


def _load_model(checkpoint: Path | None) -> tuple[HGGT, str, bool]:
    if checkpoint is not None:
        return build_hggt_from_checkpoint(checkpoint), str(checkpoint), True
    if BUNDLED_MODEL.is_file():
        return build_hggt_from_checkpoint(BUNDLED_MODEL), "bundled demo model", True
    _LOG.warning(
        "no checkpoint given and no bundled model: running an UNTRAINED tiny network, so the "
        "hand and cameras it outputs are meaningless (pass --checkpoint for real results)"
    )
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(_UNTRAINED_SEED)
    model = HGGT(UNTRAINED_CONFIG).eval()
    torch.random.set_rng_state(generator_state)
    return model, "untrained tiny network (random weights)", False
