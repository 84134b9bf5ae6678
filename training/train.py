# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Train HGGT: ``python -m training.train --config cfg.yaml [--output-dir DIR]``.

One code path for a single CPU process and for ``torchrun`` (DDP, or FSDP for the full model):
when ``WORLD_SIZE`` is set the process group is initialised (NCCL on GPUs, Gloo on CPUs) and
each rank trains on its share of every micro-step.

Every update alternates the configured streams (single-view, then multi-view), each for
``optim.accumulation`` micro-steps, and accumulates their gradients into one AdamW step
(gradient clipping at ``optim.grad_clip``, learning rate: linear warm-up then cosine,
:func:`learning_rate`). bf16 autocast is used on CUDA only; the losses run in float32.

Checkpoints go to ``<output_dir>/checkpoints``: ``last.safetensors`` (the weights, written by
:func:`hggt_core.model.checkpoint.save_hggt_checkpoint`, so ``hggt --checkpoint`` loads them)
and ``last.state.pt`` (optimiser, scheduler, step, RNG states; loaded with
``weights_only=True``). A run whose output folder holds them resumes from there.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import math
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.fsdp as fsdp
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, IterableDataset

from hggt_core.mano.layer import ManoLayer
from hggt_core.model.checkpoint import load_hggt_checkpoint, load_vggt_checkpoint
from hggt_core.model.hggt import HGGT, HGGTOutput
from hggt_core.model.mano_head import HandParams
from training.checkpointing import (
    latest_checkpoint,
    load_training_state,
    load_weights,
    save_training_state,
)
from training.config import DatasetConfig, TrainConfig, load_config
from training.data.sample import HandBatch, collate
from training.losses import hggt_loss
from training.sampler import (
    BudgetBucketer,
    DatasetMixture,
    ImageBudgetSampler,
    build_dataset,
    right_hand_mano,
)

_LOG = logging.getLogger("training.train")


@dataclass(frozen=True)
class Runtime:
    """Where this process runs."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 logs and writes checkpoints."""
        return self.rank == 0


@dataclass(frozen=True)
class TrainResult:
    """What a finished run reports.

    Attributes:
        losses: mean total loss of every update run by this call (not of resumed-over steps).
        first_step: the first update run (> 0 after resuming).
        steps: total updates reached.
        wall_s: seconds spent in this call.
        checkpoint: the final weights (``.safetensors``).
    """

    losses: tuple[float, ...]
    first_step: int
    steps: int
    wall_s: float
    checkpoint: Path


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Learning rate of update ``step``: linear warm-up, then cosine decay to the floor.

    Warm-up spans ceil(warmup_fraction * steps) updates, from ``lr_start`` to ``lr_peak``;
    the cosine then runs from ``lr_peak`` (first update after warm-up) to ``lr_floor``
    (last update, ``steps - 1``).
    """
    optim = cfg.optim
    warmup = math.ceil(optim.warmup_fraction * optim.steps)
    if step < warmup:
        return optim.lr_start + (optim.lr_peak - optim.lr_start) * step / warmup
    span = max(1, optim.steps - 1 - warmup)
    progress = min(1.0, (step - warmup) / span)
    return optim.lr_floor + 0.5 * (optim.lr_peak - optim.lr_floor) * (
        1 + math.cos(math.pi * progress)
    )


def setup_runtime() -> Runtime:
    """Join the torchrun process group when ``WORLD_SIZE`` > 1; pick the device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return Runtime(rank, world_size, device)


def freeze_aggregator(model: HGGT, option: str) -> None:
    """Apply a freeze option: ``none``, ``all`` (the aggregator) or ``patch_embed`` only."""
    frozen = {"none": (), "all": ("aggregator.",), "patch_embed": ("aggregator.patch_embed.",)}
    for name, parameter in model.named_parameters():
        # DINO's mask token is never used by HGGT; DDP would wait for its gradient.
        never_used = name.endswith("mask_token")
        parameter.requires_grad_(not (never_used or name.startswith(frozen[option])))


def build_model(cfg: TrainConfig, runtime: Runtime) -> HGGT:
    """The network, VGGT- or HGGT-initialised when configured, with the freeze option applied."""
    torch.manual_seed(cfg.seed)
    model = HGGT(cfg.model)
    if cfg.vggt_checkpoint is not None:
        load_vggt_checkpoint(model, cfg.vggt_checkpoint)
    if cfg.hggt_checkpoint is not None:
        load_hggt_checkpoint(model, cfg.hggt_checkpoint)
    if cfg.init_transl_m is not None:
        init_translation(model, cfg.init_transl_m)
    freeze_aggregator(model, cfg.freeze)
    return model.to(runtime.device)


def init_translation(model: HGGT, transl_m: Sequence[float]) -> None:
    """Start the translation output at ``transl_m`` (metres, camera-0 frame).

    The translation head's output layer gets zero weights and the bias
    ``transl_m / num_iterations`` (every refinement iteration adds its output), so a fresh
    network predicts exactly ``transl_m`` (a typical hand depth) instead of a point near the
    camera centre, where the projection loss explodes. Zero output weights still receive
    gradients (the hidden activations are not zero), as with any zero-initialised last layer.
    """
    layer = model.mano_head.transl_head.fc2
    if layer.bias is None:
        raise ValueError("the translation head has no output bias to initialise")
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.copy_(
            torch.as_tensor(transl_m, dtype=layer.bias.dtype) / model.config.num_iterations
        )


def wrap_model(model: HGGT, cfg: TrainConfig, runtime: Runtime) -> nn.Module:
    """DDP or FSDP under torchrun, the bare model otherwise."""
    if runtime.world_size == 1:
        return model
    if cfg.distributed == "fsdp":
        if runtime.device.type != "cuda":
            raise ValueError("distributed: fsdp needs CUDA devices; use ddp on CPUs")
        return fsdp.FullyShardedDataParallel(model, use_orig_params=True)
    device_ids = [runtime.device.index] if runtime.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def _stream_loader(
    datasets: Sequence[DatasetConfig], cfg: TrainConfig, runtime: Runtime, stream: int, start: int
) -> Iterator[HandBatch]:
    """Endless batches of one stream (map-style readers: budget sampler; iterable: bucketer)."""
    built = [build_dataset(item) for item in datasets]
    workers = cfg.data.num_workers
    indexed = [item for item in built if not isinstance(item, IterableDataset)]
    if len(indexed) == len(built):
        sampler = ImageBudgetSampler(
            [len(item) for item in indexed],
            [item.view_range for item in indexed],
            cfg.data.image_budget,
            seed=cfg.seed,
            weights=[item.weight for item in datasets],
            rank=runtime.rank,
            world_size=runtime.world_size,
            start_step=start,
            stream=stream,
        )
        loader = DataLoader(
            DatasetMixture(indexed), batch_sampler=sampler, collate_fn=collate, num_workers=workers
        )
        return iter(loader)
    streaming = built[0]
    if len(built) != 1 or not isinstance(streaming, IterableDataset):
        raise ValueError("an iterable (streaming) reader must be the only dataset of its stream")
    bucketer = BudgetBucketer(streaming, cfg.data.image_budget, runtime.rank, runtime.world_size)

    def endless() -> Iterator[HandBatch]:
        while True:
            yield from DataLoader(bucketer, batch_size=None, num_workers=workers)

    return endless()


def _float_output(output: HGGTOutput) -> HGGTOutput:
    """The prediction in float32 (autocast leaves bf16 tensors behind)."""

    def params(p: HandParams) -> HandParams:
        return HandParams(p.hand_pose.float(), p.betas.float(), p.transl.float())

    return HGGTOutput(
        hand_pose=output.hand_pose.float(),
        betas=output.betas.float(),
        transl=output.transl.float(),
        pose_enc=output.pose_enc.float(),
        hand_params_per_iteration=tuple(params(p) for p in output.hand_params_per_iteration),
        pose_enc_per_iteration=tuple(p.float() for p in output.pose_enc_per_iteration),
    )


def micro_step(
    model: nn.Module, batch: HandBatch, mano: ManoLayer, cfg: TrainConfig, device: torch.device
) -> tuple[Tensor, dict[str, float]]:
    """Forward one batch and return its loss (with gradient) and logged terms."""
    batch = batch.to(device)
    autocast = device.type == "cuda" and cfg.bf16
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
        output = model(batch.images)
    losses = hggt_loss(_float_output(output), batch, mano, cfg.loss)
    return losses.total, {name: float(value) for name, value in losses.terms.items()}


class _Progress:
    """Console progress with ETA, and TensorBoard scalars when tensorboard is installed."""

    def __init__(self, cfg: TrainConfig, runtime: Runtime, start: int) -> None:
        self.start, self.total, self.began = start, cfg.optim.steps, time.monotonic()
        self.writer: Any = None
        if runtime.is_main and cfg.output_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(Path(cfg.output_dir) / "tensorboard"))
            except ImportError:
                _LOG.warning("tensorboard is not installed: scalars go to the console only")
        self.enabled = runtime.is_main

    def log(self, step: int, lr: float, terms: dict[str, float]) -> None:
        if not self.enabled:
            return
        done = step + 1 - self.start
        elapsed = time.monotonic() - self.began
        eta = elapsed / done * (self.total - step - 1)
        _LOG.info(
            "step %d/%d  loss %.4f  lr %.3g  %.2f s/step  ETA %s",
            step + 1,
            self.total,
            terms.get("total", float("nan")),
            lr,
            elapsed / done,
            time.strftime("%H:%M:%S", time.gmtime(eta)),
        )
        _LOG.debug("terms: %s", " ".join(f"{k}={v:.4g}" for k, v in sorted(terms.items())))
        if self.writer is not None:
            for name, value in terms.items():
                self.writer.add_scalar(f"train/{name}", value, step + 1)
            self.writer.add_scalar("train/lr", lr, step + 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(cfg: TrainConfig, resume: bool = True) -> TrainResult:
    """Run (or continue) the training a configuration describes.

    Args:
        cfg: the configuration; ``output_dir`` is required.
        resume: continue from ``<output_dir>/checkpoints`` if a checkpoint is there.

    Returns:
        The losses of the updates this call ran and the final checkpoint.
    """
    if cfg.output_dir is None:
        raise ValueError("set output_dir in the configuration or pass --output-dir")
    if cfg.num_threads is not None:
        torch.set_num_threads(cfg.num_threads)
    began = time.monotonic()
    runtime = setup_runtime()
    _seed_everything(cfg.seed)
    model = build_model(cfg, runtime)
    mano = right_hand_mano(cfg.mano_path).to(runtime.device)
    folder = Path(cfg.output_dir) / "checkpoints"
    start = 0
    previous = latest_checkpoint(folder) if resume else None
    if previous is not None:
        load_weights(model, previous)
    wrapped = wrap_model(model, cfg, runtime)
    trainable = [p for p in wrapped.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        trainable, lr=cfg.optim.lr_peak, betas=cfg.optim.betas, weight_decay=cfg.optim.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate(step, cfg) / cfg.optim.lr_peak
    )
    if previous is not None:
        start = load_training_state(previous, wrapped, optimizer, scheduler)
        _LOG.info("resumed from %s at step %d", previous, start)
    streams = _open_streams(cfg, runtime, start)
    progress = _Progress(cfg, runtime, start)
    losses: list[float] = []
    for step in range(start, cfg.optim.steps):
        terms = _update(wrapped, streams, mano, optimizer, cfg, runtime)
        scheduler.step()
        losses.append(terms["total"])
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.optim.steps:
            progress.log(step, float(scheduler.get_last_lr()[0]), terms)
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.optim.steps:
            save_training_state(
                folder, step + 1, model, wrapped, optimizer, scheduler, runtime.is_main
            )
    progress.close()
    final = latest_checkpoint(folder)
    if final is None:
        raise RuntimeError(f"no checkpoint was written to {folder}")
    return TrainResult(tuple(losses), start, cfg.optim.steps, time.monotonic() - began, final)


def _open_streams(
    cfg: TrainConfig, runtime: Runtime, start: int
) -> list[tuple[str, Iterator[HandBatch]]]:
    """(name, batches) of the single-view and multi-view streams, positioned at ``start``."""
    streams = []
    for stream, (name, datasets) in enumerate(
        (("single", cfg.data.single_view), ("multi", cfg.data.multi_view))
    ):
        if datasets:
            first = start * cfg.optim.accumulation
            streams.append((name, _stream_loader(datasets, cfg, runtime, stream, first)))
    return streams


def _update(
    model: nn.Module,
    streams: Sequence[tuple[str, Iterator[HandBatch]]],
    mano: ManoLayer,
    optimizer: torch.optim.Optimizer,
    cfg: TrainConfig,
    runtime: Runtime,
) -> dict[str, float]:
    """One optimiser update over all micro-steps; returns the mean logged terms."""
    micro = [(name, batches) for _ in range(cfg.optim.accumulation) for name, batches in streams]
    sums: dict[str, float] = {}
    optimizer.zero_grad(set_to_none=True)
    for index, (name, batches) in enumerate(micro):
        last = index == len(micro) - 1
        sync = getattr(model, "no_sync", None)
        # DDP/FSDP all-reduce only on the last micro-step of the update.
        with sync() if sync is not None and not last else contextlib.nullcontext():
            loss, terms = micro_step(model, next(batches), mano, cfg, runtime.device)
            (loss / len(micro)).backward()  # type: ignore[no-untyped-call]
        for key, value in terms.items():
            sums[f"{name}/{key}"] = sums.get(f"{name}/{key}", 0.0) + value / cfg.optim.accumulation
        sums["total"] = sums.get("total", 0.0) + terms["total"] / len(micro)
    norm = nn.utils.clip_grad_norm_(
        [p for p in model.parameters() if p.requires_grad], cfg.optim.grad_clip
    )
    sums["grad_norm"] = float(norm)
    optimizer.step()
    return sums


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="training configuration (.yaml/.json)")
    parser.add_argument("--output-dir", help="run folder (overrides the configuration's)")
    parser.add_argument("--steps", type=int, help="override optim.steps")
    parser.add_argument(
        "--hggt-checkpoint", help="whole-HGGT weights to fine-tune (overrides the configuration's)"
    )
    parser.add_argument("--no-resume", action="store_true", help="ignore existing checkpoints")
    parser.add_argument("--verbose", action="store_true", help="log every loss term")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s"
    )
    cfg = load_config(args.config)
    if args.output_dir is not None:
        cfg = replace(cfg, output_dir=str(Path(args.output_dir).resolve()))
    if args.steps is not None:
        cfg = replace(cfg, optim=dataclasses.replace(cfg.optim, steps=args.steps))
    if args.hggt_checkpoint is not None:
        cfg = replace(cfg, hggt_checkpoint=str(Path(args.hggt_checkpoint).resolve()))
    result = train(cfg, resume=not args.no_resume)
    _LOG.info(
        "done: %d steps in %.1f s, weights %s", result.steps, result.wall_s, result.checkpoint
    )
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
