# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Export HGGT to ONNX with a dynamic view count, for ONNX Runtime and TensorRT.

The graph takes one hand's crops ``images`` [S, 3, crop, crop] (float32 RGB in [0, 1], S
dynamic in 1..max_views, crop fixed) and returns ``hand_pose`` [1, 48], ``betas`` [1, 10],
``transl`` [1, 3] and ``pose_enc`` [1, S, 9] (plus ``vertices`` [1, 778, 3] and ``joints``
[1, 21, 3] when a MANO layer is baked in). It is traced with the ``torch.export``-based
exporter and checked to hold only standard ONNX operators from :data:`TENSORRT_OPS`, so the
same file feeds ONNX Runtime and the TensorRT builder. Everything a runtime needs to use it
(crop size, view limit, network configuration) travels in the model's metadata properties.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from hggt_core.mano.io import find_mano_file, load_mano_model
from hggt_core.mano.layer import ManoLayer
from hggt_core.model.checkpoint import build_hggt_from_checkpoint
from hggt_core.model.dinov2 import DinoVisionTransformer
from hggt_core.model.hggt import HGGT

_LOG = logging.getLogger(__name__)

INPUT_NAME = "images"
"""The graph input: [S, 3, crop, crop] float32 RGB in [0, 1] of one hand, view 0 first."""
HGGT_OUTPUTS = ("hand_pose", "betas", "transl", "pose_enc")
"""Network outputs, batch 1: [1, 48], [1, 10], [1, 3] (metres), [1, S, 9]."""
MANO_OUTPUTS = ("vertices", "joints")
"""Extra outputs with a baked-in MANO layer: [1, 778, 3] and [1, 21, 3] (OpenPose order), m."""
FORMAT_TAG = "hggt-onnx-1"
"""Value of the ``hggt.format`` metadata property; identifies (and versions) an HGGT export."""
META_FORMAT = "hggt.format"
META_CROP_SIZE = "hggt.crop_size"
META_MAX_VIEWS = "hggt.max_views"
META_OPSET = "hggt.opset"
META_CONFIG = "hggt.config"
META_OUTPUTS = "hggt.outputs"
META_MANO = "hggt.mano"
MIN_OPSET = 18
"""Oldest opset accepted: the exporter emits opset 18 and cannot convert its graphs down."""
EXTERNAL_DATA_THRESHOLD_BYTES = int(1.9 * 2**30)
"""Above this many parameter bytes the weights go to an external data file (protobuf's 2 GB
limit, with margin for the graph itself)."""
TENSORRT_OPS = frozenset(
    {
        *("Add", "Sub", "Mul", "Div", "Neg", "Abs", "Pow", "Sqrt", "Exp", "Erf"),
        *("Sin", "Cos", "Atan", "Sign", "Min", "Max", "Clip", "Relu", "Sigmoid", "Tanh"),
        *(
            "MatMul",
            "Gemm",
            "Conv",
            "LayerNormalization",
            "Softmax",
            "ReduceMean",
            "ReduceSum",
            "ReduceL2",
        ),
        *("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Concat", "Split"),
        *("Slice", "Gather", "Expand", "Tile", "Shape", "Range", "Cast", "Constant"),
        *("ConstantOfShape", "Identity", "Where", "Equal", "Greater", "Less", "Not", "And"),
    }
)
"""Operators an HGGT graph may hold: standard ONNX ops that ONNX Runtime and TensorRT 10 both
implement (onnx-tensorrt's operator table) with no restriction HGGT could trip over. Not in
the list on purpose: sequence ops (SequenceAt, SplitToSequence, ...), control flow (Loop, If,
Scan), ops with data-dependent output shapes (NonZero, Unique) and Resize (antialiasing and
cubic modes are not portable)."""


class OnnxExportError(RuntimeError):
    """The exported graph is not what runtimes expect (an operator outside the allow-list)."""


@dataclass(frozen=True)
class OnnxExport:
    """What :func:`export_onnx` wrote.

    Attributes:
        path: the ``.onnx`` file.
        data_path: the external weights file next to it, or None when weights are inline.
        crop_size: square input side in pixels.
        max_views: largest view count S the graph accepts.
        opset: ONNX default-domain opset.
        op_types: sorted operator types used by the graph.
        parameter_bytes: bytes of weights and buffers exported (MANO included).
        export_s: wall time of tracing, conversion, saving and checking, seconds.
    """

    path: Path
    data_path: Path | None
    crop_size: int
    max_views: int
    opset: int
    op_types: tuple[str, ...]
    parameter_bytes: int
    export_s: float


class _ExportGraph(nn.Module):
    """HGGT (and optionally MANO) on one hand's crops, returning a flat tuple of tensors."""

    def __init__(self, model: HGGT, mano: ManoLayer | None) -> None:
        super().__init__()
        self.model = model
        self.mano = mano

    def forward(self, images: Tensor) -> tuple[Tensor, ...]:
        """[S, 3, crop, crop] -> the tensors named by HGGT_OUTPUTS (+ MANO_OUTPUTS)."""
        output = self.model(images[None])
        tensors = (output.hand_pose, output.betas, output.transl, output.pose_enc)
        if self.mano is None:
            return tensors
        posed = self.mano.forward_theta(output.hand_pose, output.betas, output.transl)
        return (*tensors, posed.vertices, posed.joints)


@contextlib.contextmanager
def _traceable(model: HGGT, crop_size: int) -> Iterator[None]:
    """Make the eager model traceable with a symbolic view count, without changing its math.

    - The RoPE tables of the crop's grid are computed eagerly first, so the trace reads them
      as constants instead of caching traced tensors in the module (which would break later
      eager calls).
    - A DINOv2 position embedding resized for a non-native grid is baked in as a constant
      (the bicubic antialiased Resize is not portable to TensorRT).
    """
    aggregator = model.aggregator
    grid = crop_size // model.config.patch_size
    device = aggregator.camera_token.device
    if aggregator.rope is not None:
        # Tables cached by an earlier eager run under inference_mode trace into a graph that
        # only fits the traced view count: rebuild them here.
        aggregator.rope.clear_cache()
        aggregator.rope.frame_tables(
            grid, grid, aggregator.patch_start_idx, aggregator.head_dim, device
        )
    with contextlib.ExitStack() as stack:
        dino = aggregator.patch_embed
        if isinstance(dino, DinoVisionTransformer) and grid != dino.pos_grid:
            stack.enter_context(dino.constant_pos_embed(grid, grid))
        yield


def _check_arguments(model: HGGT, crop_size: int, max_views: int, opset: int) -> None:
    patch = model.config.patch_size
    if crop_size <= 0 or crop_size % patch:
        raise ValueError(f"crop_size must be a positive multiple of {patch}, got {crop_size}")
    if max_views < 1:
        raise ValueError(f"max_views must be >= 1, got {max_views}")
    if opset < MIN_OPSET:
        raise ValueError(f"opset must be >= {MIN_OPSET}, got {opset}")
    dtypes = {tensor.dtype for tensor in (*model.parameters(), *model.buffers())}
    if dtypes - {torch.float32}:
        raise ValueError(f"export a float32 model; it holds {sorted(map(str, dtypes))}")


def _parameter_bytes(module: nn.Module) -> int:
    tensors = (*module.parameters(), *module.buffers())
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors)


def _metadata(
    model: HGGT, crop_size: int, max_views: int, opset: int, mano: ManoLayer | None
) -> dict[str, str]:
    """The ``hggt.*`` metadata properties (all strings)."""
    outputs = HGGT_OUTPUTS + (MANO_OUTPUTS if mano is not None else ())
    metadata = {
        META_FORMAT: FORMAT_TAG,
        META_CROP_SIZE: str(crop_size),
        META_MAX_VIEWS: str(max_views),
        META_OPSET: str(opset),
        META_CONFIG: json.dumps(asdict(model.config), sort_keys=True),
        META_OUTPUTS: ",".join(outputs),
    }
    if mano is not None:
        metadata[META_MANO] = json.dumps(
            {"side": mano.side, "fingertips": mano.fingertips.value, "flat": mano.flat_hand_mean}
        )
    return metadata


def _trace(
    graph: _ExportGraph, crop_size: int, max_views: int, opset: int
) -> torch.onnx.ONNXProgram:
    """Trace with torch.export (S symbolic in 1..max_views) and convert to optimised ONNX."""
    model = graph.model
    device = model.aggregator.camera_token.device
    # An example with S = 1 would specialise S (sizes 0 and 1 are special to the tracer).
    example = torch.zeros(min(2, max_views), 3, crop_size, crop_size, device=device)
    dynamic_shapes = None
    if max_views > 1:
        dynamic_shapes = {INPUT_NAME: {0: torch.export.Dim("views", min=1, max=max_views)}}
    outputs = HGGT_OUTPUTS + (MANO_OUTPUTS if graph.mano is not None else ())
    with _traceable(model, crop_size):
        program = torch.onnx.export(
            graph,
            (example,),
            input_names=[INPUT_NAME],
            output_names=list(outputs),
            dynamic_shapes=dynamic_shapes,
            opset_version=opset,
            dynamo=True,
            optimize=True,
            verbose=False,
        )
    if program is None:  # only the legacy exporter returns None
        raise OnnxExportError("torch.onnx.export returned no program")
    return program


def _validate(path: Path, outputs: tuple[str, ...], opset: int) -> tuple[str, ...]:
    """Check the written file (path-based, so external data and > 2 GB models work).

    Returns:
        The sorted operator types of the graph.

    Raises:
        OnnxExportError: wrong inputs/outputs/opset, custom domains or functions, or an
            operator outside :data:`TENSORRT_OPS`.
    """
    import onnx

    onnx.checker.check_model(str(path))
    proto = onnx.load(str(path), load_external_data=False)
    inputs = [value.name for value in proto.graph.input]
    names = [value.name for value in proto.graph.output]
    if inputs != [INPUT_NAME] or names != list(outputs):
        raise OnnxExportError(f"{path}: inputs {inputs}, outputs {names}; expected {outputs}")
    opsets = {entry.domain: entry.version for entry in proto.opset_import}
    if opsets.get("", opsets.get("ai.onnx")) != opset:
        raise OnnxExportError(f"{path}: opset imports {opsets}, expected {opset}")
    domains = {node.domain for node in proto.graph.node} - {"", "ai.onnx"}
    if domains or proto.functions:
        raise OnnxExportError(f"{path}: non-standard domains {sorted(domains)} or functions")
    op_types = tuple(sorted({node.op_type for node in proto.graph.node}))
    unsupported = sorted(set(op_types) - TENSORRT_OPS)
    if unsupported:
        raise OnnxExportError(f"{path}: operators outside the TensorRT allow-list: {unsupported}")
    return op_types


def export_onnx(
    model: HGGT,
    path: str | Path,
    crop_size: int,
    max_views: int = 8,
    opset: int = 18,
    include_mano: ManoLayer | None = None,
    external_data: bool | None = None,
) -> OnnxExport:
    """Write HGGT as ONNX: dynamic view count, fixed crop size, metadata for the runtimes.

    The model (and MANO layer) are put in eval mode, in place; their weights are untouched.

    Args:
        model: a float32 HGGT network with its weights loaded (any device).
        path: the ``.onnx`` file to write (parent folders are created).
        crop_size: square input side in pixels, a multiple of the patch size.
        max_views: largest S the graph accepts (inputs [S, 3, crop, crop], 1 <= S).
        opset: ONNX opset, >= :data:`MIN_OPSET`.
        include_mano: a MANO layer (axis-angle pose, no PCA) whose vertices and joints become
            extra outputs, or None for the network alone.
        external_data: store the weights in ``<path>.data``; None decides by size (above
            :data:`EXTERNAL_DATA_THRESHOLD_BYTES`, which the full model exceeds).

    Returns:
        What was written.

    Raises:
        ValueError: bad arguments, a non-float32 model, or a PCA MANO layer.
        OnnxExportError: the graph fails the checks of the allow-list.
    """
    _check_arguments(model, crop_size, max_views, opset)
    if include_mano is not None and include_mano.use_pca:
        raise ValueError("include_mano must take axis-angle poses (use_pca=False), as HGGT")
    start = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = _ExportGraph(model, include_mano).eval()
    parameter_bytes = _parameter_bytes(graph)
    external = parameter_bytes > EXTERNAL_DATA_THRESHOLD_BYTES
    external = external if external_data is None else external_data
    program = _trace(graph, crop_size, max_views, opset)
    program.model.metadata_props.update(
        _metadata(model, crop_size, max_views, opset, include_mano)
    )
    program.save(path, external_data=external)
    outputs = HGGT_OUTPUTS + (MANO_OUTPUTS if include_mano is not None else ())
    op_types = _validate(path, outputs, opset)
    data_path = path.with_name(path.name + ".data")
    result = OnnxExport(
        path=path,
        data_path=data_path if external else None,
        crop_size=crop_size,
        max_views=max_views,
        opset=opset,
        op_types=op_types,
        parameter_bytes=parameter_bytes,
        export_s=time.perf_counter() - start,
    )
    _LOG.info("exported %s (%d ops, %.1f s)", path, len(op_types), result.export_s)
    return result


def export_from_checkpoint(
    checkpoint: str | Path,
    output: str | Path,
    crop_size: int | None = None,
    max_views: int = 8,
    with_mano_dir: str | Path | None = None,
    opset: int = 18,
) -> OnnxExport:
    """Build HGGT from a checkpoint and export it (what ``hggt export-onnx`` runs).

    Args:
        checkpoint: HGGT weights (see :func:`~hggt_core.model.build_hggt_from_checkpoint`).
        output: the ``.onnx`` file to write.
        crop_size: square input side in pixels; None uses the network's training size.
        max_views: largest view count the graph accepts.
        with_mano_dir: a folder holding MANO_RIGHT.pkl (or the file itself) to bake the
            right-hand MANO layer into the graph (HGGT predicts right hands; left hands are
            mirrored by the predictor), or None.
        opset: ONNX opset, >= :data:`MIN_OPSET`.

    Returns:
        What was written.
    """
    model = build_hggt_from_checkpoint(checkpoint)
    mano = None
    if with_mano_dir is not None:
        mano = ManoLayer(load_mano_model(find_mano_file(with_mano_dir, "right"), side="right"))
    size = model.config.img_size if crop_size is None else crop_size
    return export_onnx(model, output, size, max_views, opset, include_mano=mano)
