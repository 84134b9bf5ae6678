# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Training checkpoints: weights loadable by ``hggt --checkpoint`` plus the resumable state.

A checkpoint of update ``n`` is two files in the run's ``checkpoints`` folder:

- ``step_<n>.safetensors``: the network weights and configuration
  (:func:`hggt_core.model.checkpoint.save_hggt_checkpoint`);
- ``step_<n>.state.pt``: optimiser, scheduler, step and RNG states, readable with
  ``torch.load(weights_only=True)`` (no pickled code).

``latest`` names the newest complete pair; it is replaced atomically after both files are
written, so an interrupted write never leaves a half checkpoint behind it. Only the newest
``keep`` checkpoints are kept.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.fsdp as fsdp
from torch import Tensor, nn

from hggt_core.model.checkpoint import read_checkpoint, save_hggt_checkpoint
from hggt_core.model.hggt import HGGT

LATEST = "latest"


def _is_fsdp(module: nn.Module) -> bool:
    return isinstance(module, fsdp.FullyShardedDataParallel)


def _rng_state() -> dict[str, Any]:
    """Every RNG's state as tensors and plain values (safe for ``weights_only`` loading)."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [
            kind,
            torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            position,
            has_gauss,
            cached,
        ],
        "python": random.getstate(),
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def _full_states(
    wrapped: nn.Module, optimizer: torch.optim.Optimizer
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Unsharded model and optimiser states (collective under FSDP: every rank calls it)."""
    if not _is_fsdp(wrapped):
        inner = getattr(wrapped, "module", wrapped)
        return inner.state_dict(), optimizer.state_dict()
    sharded = fsdp.FullyShardedDataParallel
    config = fsdp.FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    with sharded.state_dict_type(wrapped, fsdp.StateDictType.FULL_STATE_DICT, config):
        return wrapped.state_dict(), sharded.optim_state_dict(wrapped, optimizer)


def save_training_state(
    folder: Path,
    step: int,
    model: HGGT,
    wrapped: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    is_main: bool,
    keep: int = 2,
) -> None:
    """Write the checkpoint of update ``step`` (rank 0 writes; every rank must call).

    Args:
        folder: the run's checkpoint folder.
        step: updates done.
        model: the bare network (its configuration goes into the weights file).
        wrapped: the network as trained (DDP / FSDP / bare), for the full state.
        optimizer: the optimiser.
        scheduler: the learning-rate scheduler.
        is_main: whether this process writes.
        keep: newest checkpoints to keep.
    """
    model_state, optim_state = _full_states(wrapped, optimizer)
    if is_main:
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"step_{step:07d}"
        snapshot = model
        if _is_fsdp(wrapped):
            snapshot = HGGT(model.config)
            snapshot.load_state_dict(model_state)
        save_hggt_checkpoint(snapshot, folder / f"{stem}.safetensors")
        state = {
            "step": step,
            "optimizer": optim_state,
            "scheduler": scheduler.state_dict(),
            "rng": _rng_state(),
        }
        partial = folder / f"{stem}.state.pt.partial"
        torch.save(state, partial)
        os.replace(partial, folder / f"{stem}.state.pt")
        (folder / f"{LATEST}.partial").write_text(stem, encoding="utf-8")
        os.replace(folder / f"{LATEST}.partial", folder / LATEST)
        for old in sorted(folder.glob("step_*.state.pt"))[:-keep]:
            old.unlink()
            old.with_name(old.name.replace(".state.pt", ".safetensors")).unlink(missing_ok=True)
    if dist.is_initialized():
        dist.barrier()


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint's weights file, or None."""
    pointer = folder / LATEST
    if not pointer.is_file():
        return None
    return folder / f"{pointer.read_text(encoding='utf-8').strip()}.safetensors"


def load_weights(model: HGGT, weights: Path) -> None:
    """Load a checkpoint's weights into the bare network (before wrapping it)."""
    model.load_state_dict(read_checkpoint(weights).state)


def load_training_state(
    weights: Path,
    wrapped: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
) -> int:
    """Restore optimiser, scheduler and RNGs from the state next to ``weights``.

    Returns:
        The number of updates the checkpoint had done (the step to continue from).
    """
    state = torch.load(
        weights.with_name(weights.name.replace(".safetensors", ".state.pt")),
        map_location="cpu",
        weights_only=True,
    )
    optim_state = state["optimizer"]
    if _is_fsdp(wrapped):
        sharded = fsdp.FullyShardedDataParallel
        optim_state = sharded.optim_state_dict_to_load(wrapped, optimizer, optim_state)
    optimizer.load_state_dict(optim_state)
    scheduler.load_state_dict(state["scheduler"])
    _set_rng_state(state["rng"])
    return int(state["step"])
