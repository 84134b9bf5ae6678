# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Load VGGT-1B and released HGGT weights into :class:`~hggt_core.model.HGGT`, safely.

Files are read with ``torch.load(weights_only=True)`` or safetensors, never plain pickle.
Any mismatch is reported in one :class:`CheckpointError` listing missing, unexpected and
wrong-shape keys, so a user sees at once whether the file fits the configuration.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file as save_safetensors
from torch import Tensor, nn

from hggt_core.model.hggt import HGGT, HGGTConfig

_LOG = logging.getLogger(__name__)

VGGT_PREFIXES = ("aggregator.", "camera_head.")
"""The parts of a VGGT-1B checkpoint that HGGT reuses."""
UNUSED_HEAD_PREFIXES = ("depth_head.", "point_head.", "track_head.")
"""Dense heads that VGGT (and the HGGT training code) carry but HGGT inference never runs."""
_NESTED_STATE_KEYS = ("model", "state_dict")
_CONFIG_KEY = "hggt_config"
_DDP_PREFIX = "module."
_LISTED_KEYS = 8


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, or does not fit the model."""


@dataclass(frozen=True)
class CheckpointContents:
    """What a checkpoint file holds.

    Attributes:
        state: parameter name -> tensor (DDP ``module.`` prefixes stripped).
        config: the network configuration saved with the weights by
            :func:`save_hggt_checkpoint`, or None (the released files carry none: they are
            the default :class:`HGGTConfig`).
    """

    state: dict[str, Tensor]
    config: HGGTConfig | None


def read_checkpoint(path: str | Path) -> CheckpointContents:
    """Read a ``.safetensors`` or torch checkpoint without executing any pickled code.

    Torch files may hold the mapping directly or under a ``model`` / ``state_dict`` key
    (training checkpoints), optionally next to an ``hggt_config`` dictionary; safetensors
    files keep the configuration as JSON in their metadata.

    Raises:
        CheckpointError: missing file, corrupt file, or content that is not a tensor mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        try:
            with safe_open(str(path), framework="pt", device="cpu") as handle:
                metadata = handle.metadata() or {}
                state = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 (not a dict)
        except (SafetensorError, OSError) as error:
            raise CheckpointError(f"corrupt safetensors checkpoint {path}: {error}") from error
        config_json = metadata.get(_CONFIG_KEY)
        config = None if config_json is None else _config_from_dict(json.loads(config_json), path)
        return CheckpointContents(_flat_tensor_mapping(state, path), config)
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"refused to load {path}: it holds objects other than tensors ({error})"
        ) from error
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"corrupt torch checkpoint {path}: {error}") from error
    config = None
    if isinstance(raw, Mapping) and isinstance(raw.get(_CONFIG_KEY), Mapping):
        config = _config_from_dict(raw[_CONFIG_KEY], path)
    return CheckpointContents(_flat_tensor_mapping(raw, path), config)


def _config_from_dict(values: Mapping[str, object], path: Path) -> HGGTConfig:
    known = {item.name for item in fields(HGGTConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise CheckpointError(f"{path} stores an unknown configuration field(s): {unknown}")
    return HGGTConfig(**values)  # type: ignore[arg-type]


def _flat_tensor_mapping(raw: object, path: Path) -> dict[str, Tensor]:
    if isinstance(raw, Mapping):
        for nested_key in _NESTED_STATE_KEYS:
            if isinstance(raw.get(nested_key), Mapping):
                raw = raw[nested_key]
                break
    if not isinstance(raw, Mapping) or not all(
        isinstance(key, str) and isinstance(value, Tensor) for key, value in raw.items()
    ):
        raise CheckpointError(f"{path} does not hold a mapping of parameter names to tensors")
    return {key.removeprefix(_DDP_PREFIX): value for key, value in raw.items()}


def save_hggt_checkpoint(model: HGGT, path: str | Path) -> None:
    """Write the weights and configuration as ``.safetensors`` (atomically).

    :func:`build_hggt_from_checkpoint` rebuilds the same network from the file alone.
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"checkpoints are written as .safetensors, got {path}")
    state = {key: value.detach().contiguous() for key, value in model.state_dict().items()}
    metadata = {_CONFIG_KEY: json.dumps(asdict(model.config))}
    partial = path.with_name(path.name + ".partial")
    save_safetensors(state, str(partial), metadata=metadata)
    os.replace(partial, path)


def build_hggt_from_checkpoint(path: str | Path) -> HGGT:
    """Build the network a checkpoint describes and load its weights (in eval mode).

    Files without a stored configuration (the released HGGT weights) get the default
    :class:`HGGTConfig`.

    Raises:
        CheckpointError: the file is unusable or does not fit its configuration.
    """
    contents = read_checkpoint(path)
    model = HGGT(contents.config or HGGTConfig())
    _load_checked(model, _without_unused_heads(contents.state), path, required_prefixes=("",))
    return model.eval()


def load_hggt_checkpoint(model: HGGT, path: str | Path) -> None:
    """Load released HGGT weights (``aggregator.*``, ``camera_head.*``, ``mano_head.*``).

    Keys of dense heads HGGT does not run (depth, point, track) are ignored; every other key
    must match the model exactly. Weights are cast to the model's parameter dtypes.

    Raises:
        CheckpointError: the file is unusable or does not fit the model's configuration.
    """
    state = _without_unused_heads(read_checkpoint(path).state)
    _load_checked(model, state, path, required_prefixes=("",))


def load_vggt_checkpoint(model: HGGT, path: str | Path) -> None:
    """Initialise the aggregator and camera head from a VGGT-1B checkpoint (training init).

    The MANO head keeps its initialisation; VGGT's depth, point and track heads are ignored.

    Raises:
        CheckpointError: the file is unusable or its aggregator / camera head do not fit.
    """
    state = _without_unused_heads(read_checkpoint(path).state)
    _load_checked(model, state, path, required_prefixes=VGGT_PREFIXES)


def _without_unused_heads(state: dict[str, Tensor]) -> dict[str, Tensor]:
    ignored = [key for key in state if key.startswith(UNUSED_HEAD_PREFIXES)]
    if ignored:
        _LOG.info("ignoring %d keys of heads HGGT does not use", len(ignored))
    return {key: value for key, value in state.items() if not key.startswith(UNUSED_HEAD_PREFIXES)}


def _load_checked(
    model: nn.Module, state: dict[str, Tensor], path: str | Path, required_prefixes: Iterable[str]
) -> None:
    expected = {
        key: value
        for key, value in model.state_dict().items()
        if key.startswith(tuple(required_prefixes))
    }
    missing = sorted(expected.keys() - state.keys())
    unexpected = sorted(state.keys() - model.state_dict().keys())
    wrong_shape = sorted(
        f"{key}: file {tuple(state[key].shape)} vs model {tuple(expected[key].shape)}"
        for key in expected.keys() & state.keys()
        if state[key].shape != expected[key].shape
    )
    problems = [
        _listing(f"{len(keys)} {what}", keys)
        for what, keys in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("keys with the wrong shape", wrong_shape),
        )
        if keys
    ]
    if problems:
        raise CheckpointError(
            f"checkpoint {path} does not fit the model configuration: " + "; ".join(problems)
        )
    # load_state_dict copies into the existing parameters, casting to their dtypes.
    model.load_state_dict(state, strict=False)


def _listing(title: str, keys: list[str]) -> str:
    shown = ", ".join(keys[:_LISTED_KEYS])
    more = f", ... ({len(keys) - _LISTED_KEYS} more)" if len(keys) > _LISTED_KEYS else ""
    return f"{title}: {shown}{more}"


def cast_for_inference(model: HGGT, backbone_dtype: torch.dtype) -> HGGT:
    """Cast the aggregator's weights to ``backbone_dtype``; keep both heads in float32.

    This mirrors the release (bf16 backbone, float32 heads) with reduced-precision *weights*
    rather than autocast, which would keep float32 copies of every token tensor.
    """
    model.aggregator.to(backbone_dtype)
    model.camera_head.float()
    model.mano_head.float()
    return model.eval()
