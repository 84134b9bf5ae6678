# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What identifies a TensorRT engine: its file name, its JSON sidecar, the TensorRT import.

An engine runs only on the TensorRT version that built it and is tuned for one GPU, so its
file name says both, plus the crop size and precision:
``hggt_518px_fp16_trt10.3.0_nvidia-h100-80gb-hbm3.engine``. The sidecar next to it (same name,
``.json``) keeps the export's metadata and the build settings. TensorRT (>= 10) is optional:
``pip install hggt_ros[trt]``; on Jetson it comes with JetPack 6.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from hggt_core.model.hggt import HGGTConfig

ENGINE_FORMAT_TAG = "hggt-trt-1"
"""Value of the sidecar's ``format`` field; identifies (and versions) an HGGT engine."""
INSTALL_HINT = "pip install hggt_ros[trt] (on Jetson: the TensorRT of JetPack 6)"
_MIN_TENSORRT_MAJOR = 10
_NAME_PATTERN = re.compile(
    r"^hggt_(?P<crop>\d+)px_(?P<precision>[a-z0-9]+)_trt(?P<version>[0-9][0-9.]*)_"
    r"(?P<gpu>[a-z0-9-]+)\.engine$"
)


class TensorRTError(RuntimeError):
    """An engine that cannot be built, loaded or run (wrong TensorRT version, GPU, shapes)."""


def import_tensorrt() -> Any:
    """The ``tensorrt`` module (>= 10).

    Raises:
        ImportError: TensorRT is missing or too old; the message says how to install it.
    """
    try:
        trt = importlib.import_module("tensorrt")
    except ImportError as error:
        raise ImportError(f"the tensorrt engine needs TensorRT >= 10: {INSTALL_HINT}") from error
    version = str(trt.__version__)
    if int(version.split(".")[0]) < _MIN_TENSORRT_MAJOR:
        raise ImportError(f"TensorRT {version} is too old, the engine needs >= 10: {INSTALL_HINT}")
    return trt


def sanitise_name(text: str) -> str:
    """Lower-case letters, digits and single dashes (for GPU names in file names)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


@dataclass(frozen=True)
class EngineIdentity:
    """What an engine was built for, as spelled in its file name.

    Attributes:
        crop_size: square input side in pixels.
        precision: one of :data:`PRECISIONS`.
        tensorrt_version: e.g. "10.3.0".
        gpu: sanitised GPU name (see :func:`sanitise_name`), e.g. "nvidia-h100-80gb-hbm3".
    """

    crop_size: int
    precision: str
    tensorrt_version: str
    gpu: str

    @property
    def file_name(self) -> str:
        """``hggt_<crop>px_<precision>_trt<version>_<gpu>.engine``."""
        return (
            f"hggt_{self.crop_size}px_{self.precision}_trt{self.tensorrt_version}_"
            f"{self.gpu}.engine"
        )

    @classmethod
    def from_file_name(cls, name: str) -> EngineIdentity | None:
        """Parse a name written by :attr:`file_name`; None for any other name."""
        match = _NAME_PATTERN.match(name)
        if match is None:
            return None
        return cls(
            int(match["crop"]), match["precision"], match["version"].rstrip("."), match["gpu"]
        )


def engine_file_name(crop_size: int, precision: str, tensorrt_version: str, gpu_name: str) -> str:
    """The engine file name for these settings (the GPU name is sanitised)."""
    return EngineIdentity(
        crop_size, precision, tensorrt_version, sanitise_name(gpu_name)
    ).file_name


@dataclass(frozen=True)
class EngineMetadata:
    """The JSON sidecar of an engine (``<engine>.json``).

    Attributes:
        crop_size: square input side in pixels.
        precision: one of :data:`PRECISIONS`.
        min_views: smallest view count of the optimisation profile.
        opt_views: view count the kernels were tuned for.
        max_views: largest view count of the profile.
        tensorrt_version: the TensorRT that built the engine.
        gpu_name: the GPU it was built on (unsanitised, as CUDA reports it).
        compute_capability: that GPU's (major, minor).
        config: the network configuration, from the ONNX metadata.
        outputs: output tensor names, from the ONNX metadata.
        mano: the baked-in MANO layer's description (JSON text) or None.
        onnx_file: name of the ONNX file the engine was built from.
        workspace_gb: builder workspace limit, GiB.
        build_s: build wall time, seconds.
        format: :data:`ENGINE_FORMAT_TAG`.
    """

    crop_size: int
    precision: str
    min_views: int
    opt_views: int
    max_views: int
    tensorrt_version: str
    gpu_name: str
    compute_capability: tuple[int, int]
    config: HGGTConfig
    outputs: tuple[str, ...]
    mano: str | None
    onnx_file: str
    workspace_gb: float
    build_s: float
    format: str = ENGINE_FORMAT_TAG

    @property
    def identity(self) -> EngineIdentity:
        """What the engine's file name says."""
        return EngineIdentity(
            self.crop_size, self.precision, self.tensorrt_version, sanitise_name(self.gpu_name)
        )

    def to_json(self) -> str:
        """The sidecar's text."""
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str | Path = "<text>") -> EngineMetadata:
        """Parse :meth:`to_json`'s output.

        Raises:
            TensorRTError: not JSON, not an HGGT engine sidecar, or malformed fields.
        """
        try:
            values = json.loads(text)
            if not isinstance(values, dict) or values.get("format") != ENGINE_FORMAT_TAG:
                raise TensorRTError(
                    f"{source} is not an HGGT engine sidecar ({ENGINE_FORMAT_TAG})"
                )
            known = {item.name for item in fields(cls)}
            if set(values) != known:
                raise TensorRTError(f"{source}: fields {sorted(set(values) ^ known)} differ")
            values["config"] = HGGTConfig(**values["config"])
            values["compute_capability"] = tuple(values["compute_capability"])
            values["outputs"] = tuple(values["outputs"])
            return cls(**values)
        except (json.JSONDecodeError, TypeError, ValueError) as error:
            raise TensorRTError(f"{source}: invalid engine sidecar: {error}") from error


def sidecar_path(engine_path: str | Path) -> Path:
    """The JSON sidecar next to an engine file."""
    return Path(engine_path).with_suffix(".json")


def read_sidecar(engine_path: str | Path) -> EngineMetadata | None:
    """The engine's sidecar, or None when there is none.

    Raises:
        TensorRTError: the sidecar exists but is malformed.
    """
    path = sidecar_path(engine_path)
    if not path.is_file():
        return None
    return EngineMetadata.from_json(path.read_text(encoding="utf-8"), path)
