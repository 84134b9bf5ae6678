# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Load VGGT-1B and released HGGT weights into :class:`~hggt_core.model.HGGT`, safely.

Files are read with ``torch.load(weights_only=True)`` or safetensors, never plain pickle.
Every problem is one :class:`CheckpointError` of one line that names the file and says what
is wrong with it: not found, empty, not a checkpoint (and what it looks like instead, e.g. a
Git LFS pointer or a web page), truncated, damaged, holding pickled objects, or weights that
do not fit the model: the counts of missing, unexpected and wrong-shape keys with the first
few names of each, so a user sees at once whether the file is another model's or another
configuration's.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Literal

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
_HGGT_PREFIXES = (*VGGT_PREFIXES, "mano_head.")
_LISTED_KEYS = 3
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default format is a zip archive
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
_MAX_SAFETENSORS_HEADER = 100_000_000  # the format's own limit on its JSON header
_LOOKALIKES = (
    (b"version https://git-lfs", "a Git LFS pointer, not the weights (run git lfs pull)"),
    (b"<!DOCTYPE", "a web page (a failed download?)"),
    (b"<html", "a web page (a failed download?)"),
    (b"\x93NUMPY", "a NumPy .npy file"),
    (b"\x80", "a plain Python pickle (torch.save writes a zip archive)"),
)


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

    The format is recognised from the file's first bytes, whatever its suffix. Torch files
    may hold the mapping directly or under a ``model`` / ``state_dict`` key (training
    checkpoints), optionally next to an ``hggt_config`` dictionary; safetensors files keep
    the configuration as JSON in their metadata.

    Raises:
        CheckpointError: in one line naming the file and the problem: missing, empty, not a
            checkpoint (with what it looks like), truncated, damaged, holding pickled
            objects other than tensors, or content that is not a tensor mapping.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder, not a file")
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if _file_format(path) == "safetensors":
        return _read_safetensors(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols it handles
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise _unpickling_error(path, error) from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as error:
        if isinstance(error, EOFError) or "EOF" in str(error):
            raise CheckpointError(f"checkpoint {path} is truncated: {_one_line(error)}") from None
        raise CheckpointError(f"checkpoint {path} is damaged: {_one_line(error)}") from None
    config = None
    if isinstance(raw, Mapping) and isinstance(raw.get(_CONFIG_KEY), Mapping):
        config = _config_from_dict(raw[_CONFIG_KEY], path)
    return CheckpointContents(_flat_tensor_mapping(raw, path), config)


def _file_format(path: Path) -> Literal["torch", "safetensors"]:
    """Which reader a file needs, from its first bytes; raises for anything else."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(64)
    if size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes)")
    if head.startswith(_ZIP_MAGIC):
        if not zipfile.is_zipfile(path):
            raise CheckpointError(
                f"checkpoint {path} is truncated: a zip archive ({size} bytes) without the "
                "directory that ends a complete one (an interrupted download or copy?)"
            )
        with zipfile.ZipFile(path) as archive:
            if not any(name.endswith("data.pkl") for name in archive.namelist()):
                raise CheckpointError(
                    f"checkpoint {path} is not a PyTorch or safetensors file: a zip archive "
                    "without the data.pkl of a PyTorch file"
                )
        return "torch"
    if head.startswith(_LEGACY_TORCH_MAGIC):
        return "torch"
    header_bytes = int.from_bytes(head[:8], "little")
    if size > 8 and head[8:9] == b"{" and header_bytes < _MAX_SAFETENSORS_HEADER:
        return "safetensors"
    looks_like = next((what for magic, what in _LOOKALIKES if head.startswith(magic)), None)
    line = head[:24].split(b"\n")[0]
    readable = bool(line) and all(32 <= byte < 127 for byte in line)
    start = repr(line.decode()) if readable else f"the bytes {head[:8].hex(' ')}"
    found = looks_like or f"it starts with {start}"
    raise CheckpointError(f"checkpoint {path} is not a PyTorch or safetensors file: {found}")


def _read_safetensors(path: Path) -> CheckpointContents:
    needed = _safetensors_size(path)
    size = path.stat().st_size
    if needed > size:
        raise CheckpointError(
            f"checkpoint {path} is truncated: {size} bytes of the {needed} its header "
            "announces (an interrupted download or copy?)"
        )
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            state = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"checkpoint {path} is damaged: {_one_line(error)}") from None
    config_json = metadata.get(_CONFIG_KEY)
    config = None if config_json is None else _config_from_dict(json.loads(config_json), path)
    return CheckpointContents(_flat_tensor_mapping(state, path), config)


def _safetensors_size(path: Path) -> int:
    """The file size a safetensors header announces (header plus the last tensor's end)."""
    with path.open("rb") as stream:
        header_bytes = int.from_bytes(stream.read(8), "little")
        text = stream.read(header_bytes)
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        if len(text) < header_bytes:
            return 8 + header_bytes
        raise CheckpointError(f"checkpoint {path} is damaged: its header is not JSON") from None
    offsets = [
        entry.get("data_offsets")
        for entry in (header.values() if isinstance(header, dict) else ())
        if isinstance(entry, dict)
    ]
    ends = [pair[1] for pair in offsets if isinstance(pair, list) and len(pair) == 2]
    return 8 + header_bytes + max((end for end in ends if isinstance(end, int)), default=0)


def _unpickling_error(path: Path, error: pickle.UnpicklingError) -> CheckpointError:
    """The multi-line refusal of ``torch.load(weights_only=True)``, said in one line."""
    refused = re.search(r"GLOBAL (\S+)", str(error))
    if refused is not None:
        return CheckpointError(
            f"checkpoint {path} holds pickled Python objects other than tensors (first: "
            f"{refused.group(1)}), which are never loaded: unpickling them could run any code"
        )
    detail = str(error).partition("WeightsUnpickler error:")[2] or str(error)
    return CheckpointError(f"checkpoint {path} is damaged: {_one_line(detail)}")


def _one_line(error: BaseException | str, limit: int | None = 160) -> str:
    """A message as one line (whitespace runs and ANSI codes collapsed), cut at ``limit``."""
    text = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(error)).split())
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


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
    state = _without_unused_heads(contents.state)
    _check_is_hggt(state, path)  # before building a network of up to 1.2 B parameters
    model = HGGT(contents.config or HGGTConfig())
    _load_checked(model, state, path, required_prefixes=("",))
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


def _check_is_hggt(state: Mapping[str, Tensor], path: str | Path) -> None:
    """Refuse, cheaply, a file none of whose keys belongs to HGGT or VGGT."""
    if not any(key.startswith(_HGGT_PREFIXES) for key in state):
        prefixes = ", ".join(f"{prefix}*" for prefix in _HGGT_PREFIXES)
        first = ", ".join(sorted(state)[:_LISTED_KEYS])
        raise CheckpointError(
            _one_line(
                f"checkpoint {path} holds another model's weights: none of its {len(state)} "
                f"keys is an HGGT key ({prefixes}); its first: {first}",
                None,
            )
        )


def _load_checked(
    model: nn.Module, state: dict[str, Tensor], path: str | Path, required_prefixes: Iterable[str]
) -> None:
    _check_is_hggt(state, path)
    model_state = model.state_dict()
    prefixes = tuple(required_prefixes)
    expected = {key: value for key, value in model_state.items() if key.startswith(prefixes)}
    wrong_shape = sorted(
        f"{key} (file {list(state[key].shape)}, model {list(expected[key].shape)})"
        for key in expected.keys() & state.keys()
        if state[key].shape != expected[key].shape
    )
    problems = [
        _listing(title, keys)
        for title, keys in (
            ("missing", sorted(expected.keys() - state.keys())),
            ("unexpected", sorted(state.keys() - model_state.keys())),
            ("with the wrong shape", wrong_shape),
        )
        if keys
    ]
    if problems:
        raise CheckpointError(
            _one_line(f"checkpoint {path} does not fit the model: " + "; ".join(problems), None)
        )
    # load_state_dict copies into the existing parameters, casting to their dtypes.
    model.load_state_dict(state, strict=False)


def _listing(title: str, keys: list[str]) -> str:
    """``"<count> keys <title>: a, b, c, ... (+n)"``, for a one-line message."""
    shown = ", ".join(keys[:_LISTED_KEYS])
    more = f", ... (+{len(keys) - _LISTED_KEYS})" if len(keys) > _LISTED_KEYS else ""
    noun = "key" if len(keys) == 1 else "keys"
    return f"{len(keys)} {noun} {title}: {shown}{more}"


def cast_for_inference(model: HGGT, backbone_dtype: torch.dtype) -> HGGT:
    """Cast the aggregator's weights to ``backbone_dtype``; keep both heads in float32.

    This mirrors the release (bf16 backbone, float32 heads) with reduced-precision *weights*
    rather than autocast, which would keep float32 copies of every token tensor.
    """
    model.aggregator.to(backbone_dtype)
    model.camera_head.float()
    model.mano_head.float()
    return model.eval()
