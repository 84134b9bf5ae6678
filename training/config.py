# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Training configuration: frozen dataclasses, read from a YAML or JSON file.

File layout (every section and field optional except where noted; unknown keys are errors)::

    model: {img_size: 518, embed_dim: 1024, ...}     # hggt_core.model.HGGTConfig fields
    data:
      image_budget: 32                  # images per rank per micro-step: B = floor(N / S)
      single_view: [{name: ..., path: ..., view_range: [1, 1]}]
      multi_view:  [{name: ..., path: ..., view_range: [2, 8], weight: 1.0}]
      eval:        [{name: ..., path: ..., eval_views: [2, 5], length: 200}]
    optim: {steps: 80000, lr_peak: 1.0e-6, ...}    # OptimConfig fields
    loss: {gamma: 0.6, ...}                         # training.losses.LossWeights fields
    freeze: none                                    # none | all | patch_embed
    init_transl_m: [0.0, 0.0, 0.45]                 # optional start of the translation output
    vggt_checkpoint: /path/to/vggt_1b.pt            # optional initialisation, or
    hggt_checkpoint: /path/to/hggt.safetensors      # fine-tune a whole HGGT (released, ours)
    output_dir: /path/to/run                        # or --output-dir on the command line

Relative paths (``path`` of datasets, the checkpoints, ``mano_path``) are resolved
against the folder of the configuration file, never against the working directory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from hggt_core.model.hggt import HGGTConfig
from training.losses import LossWeights

FREEZE_OPTIONS = ("none", "all", "patch_embed")
DISTRIBUTED_OPTIONS = ("ddp", "fsdp")


@dataclass(frozen=True)
class DatasetConfig:
    """One dataset of a stream, built through the registry in :mod:`training.sampler`."""

    name: str
    """Registered reader name (e.g. ``procedural``)."""
    path: str | None = None
    """Root of the data on disk, if the reader needs one."""
    view_range: tuple[int, int] | None = None
    """(min, max) views per sample; None = the reader's default range."""
    weight: float = 1.0
    """Relative probability of drawing this dataset for a step of its stream."""
    length: int | None = None
    """Number of samples to use (None = all; required by generated datasets)."""
    eval_views: tuple[int, ...] = ()
    """View counts to evaluate at (evaluation only; empty = the range's maximum)."""
    seed: int = 0
    """Seed of generated or augmented content."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Reader-specific keyword options (documented by each reader)."""


@dataclass(frozen=True)
class DataConfig:
    """Where samples come from and how many images a micro-step holds."""

    image_budget: int = 32
    """N_img: images per rank per micro-step; a step with S views has B = floor(N_img / S)."""
    single_view: tuple[DatasetConfig, ...] = ()
    """Datasets of the single-view micro-steps (S = 1)."""
    multi_view: tuple[DatasetConfig, ...] = ()
    """Datasets of the multi-view micro-steps."""
    eval: tuple[DatasetConfig, ...] = ()
    """Held-out datasets for :mod:`training.eval` and periodic evaluation."""
    num_workers: int = 0
    """DataLoader worker processes per stream."""


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with linear warm-up and cosine decay (defaults: the paper)."""

    steps: int = 80_000
    """Optimiser updates."""
    accumulation: int = 1
    """Micro-steps of each stream accumulated into one update."""
    lr_start: float = 1e-8
    """Learning rate at step 0 (start of the warm-up)."""
    lr_peak: float = 1e-6
    """Learning rate at the end of the warm-up."""
    lr_floor: float = 1e-8
    """Learning rate at the last step (end of the cosine)."""
    warmup_fraction: float = 0.05
    """Share of the steps spent warming up."""
    weight_decay: float = 0.05
    """AdamW decoupled weight decay."""
    grad_clip: float = 1.0
    """Maximum L2 norm of the whole gradient."""
    betas: tuple[float, float] = (0.9, 0.999)
    """AdamW moment decay rates."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs."""

    model: HGGTConfig = field(default_factory=HGGTConfig)
    """Network hyper-parameters."""
    data: DataConfig = field(default_factory=DataConfig)
    """Datasets and batching."""
    optim: OptimConfig = field(default_factory=OptimConfig)
    """Optimiser and schedule."""
    loss: LossWeights = field(default_factory=LossWeights)
    """Loss weights."""
    freeze: str = "none"
    """Frozen aggregator parts: ``none``, ``all`` (whole aggregator) or ``patch_embed``."""
    vggt_checkpoint: str | None = None
    """VGGT-1B weights for the aggregator and camera head (None = random init)."""
    hggt_checkpoint: str | None = None
    """Whole-HGGT weights to fine-tune (the released checkpoint, or one of ours), loaded into
    the configured network, which they must fit exactly; the optimiser and schedule start
    afresh. Excludes ``vggt_checkpoint`` and ``init_transl_m`` (both would overwrite it)."""
    mano_path: str | None = None
    """Right-hand MANO file or folder; None = the procedural stand-in model."""
    output_dir: str | None = None
    """Run folder (checkpoints, TensorBoard); required to train."""
    seed: int = 0
    """Seed of the initialisation and of the batch sampling."""
    log_every: int = 10
    """Updates between console / TensorBoard logs."""
    checkpoint_every: int = 1000
    """Updates between checkpoints (one is always written at the end)."""
    distributed: str = "ddp"
    """Wrapper under torchrun: ``ddp``, or ``fsdp`` for the full-size model."""
    bf16: bool = True
    """bf16 autocast on CUDA (never on CPU)."""
    num_threads: int | None = None
    """torch CPU threads (None = torch's default)."""
    init_transl_m: tuple[float, float, float] | None = None
    """Starting MANO translation (metres, camera-0 frame) of a randomly initialised network:
    the hand head's translation output layer is re-initialised (zero weights, bias) so the last
    iteration starts there (e.g. ``[0, 0, 0.45]``, a typical hand depth) instead of near the
    camera centre, where the projection loss explodes. None keeps the initialisation (use None
    with pretrained heads)."""

    def __post_init__(self) -> None:
        """Reject option values no code path handles."""
        if self.freeze not in FREEZE_OPTIONS:
            raise ValueError(f"freeze must be one of {FREEZE_OPTIONS}, got {self.freeze!r}")
        if self.distributed not in DISTRIBUTED_OPTIONS:
            raise ValueError(f"distributed must be one of {DISTRIBUTED_OPTIONS}")
        if not self.data.single_view and not self.data.multi_view:
            raise ValueError("the configuration names no training dataset")
        if self.hggt_checkpoint is not None:
            overwriting = ("vggt_checkpoint", "init_transl_m")
            clashing = [name for name in overwriting if getattr(self, name) is not None]
            if clashing:
                raise ValueError(
                    f"hggt_checkpoint initialises the whole network; drop {' and '.join(clashing)}"
                )


_NESTED: dict[type, dict[str, type]] = {
    TrainConfig: {
        "model": HGGTConfig,
        "data": DataConfig,
        "optim": OptimConfig,
        "loss": LossWeights,
    },
    DataConfig: {"single_view": DatasetConfig, "multi_view": DatasetConfig, "eval": DatasetConfig},
}


def _tuples(value: Any) -> Any:
    """Lists (YAML sequences) become tuples, recursively, so configs stay immutable."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value


def _build(cls: type, values: Mapping[str, Any], where: str) -> Any:
    if not isinstance(values, Mapping):
        raise ValueError(f"{where}: expected a mapping, got {type(values).__name__}")
    known = {item.name for item in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; known: {sorted(known)}")
    nested = _NESTED.get(cls, {})
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        inner = nested.get(name)
        if inner is not None and isinstance(value, list):
            kwargs[name] = tuple(
                _build(inner, item, f"{where}.{name}[{i}]") for i, item in enumerate(value)
            )
        elif inner is not None:
            kwargs[name] = _build(inner, value, f"{where}.{name}")
        elif name == "params":
            kwargs[name] = dict(value)
        else:
            kwargs[name] = _tuples(value)
    return cls(**kwargs)


def _resolve(path: str | None, base: Path) -> str | None:
    if path is None:
        return None
    resolved = Path(path).expanduser()
    return str(resolved if resolved.is_absolute() else (base / resolved).resolve())


def _with_resolved_paths(config: TrainConfig, base: Path) -> TrainConfig:
    def datasets(items: tuple[DatasetConfig, ...]) -> tuple[DatasetConfig, ...]:
        return tuple(replace(item, path=_resolve(item.path, base)) for item in items)

    data = replace(
        config.data,
        single_view=datasets(config.data.single_view),
        multi_view=datasets(config.data.multi_view),
        eval=datasets(config.data.eval),
    )
    return replace(
        config,
        data=data,
        vggt_checkpoint=_resolve(config.vggt_checkpoint, base),
        hggt_checkpoint=_resolve(config.hggt_checkpoint, base),
        mano_path=_resolve(config.mano_path, base),
        output_dir=_resolve(config.output_dir, base),
    )


def config_from_mapping(values: Mapping[str, Any], base_dir: Path | None = None) -> TrainConfig:
    """Build a :class:`TrainConfig` from nested mappings (parsed YAML/JSON).

    Args:
        values: the file's content.
        base_dir: folder that relative paths are resolved against (None = leave them).

    Raises:
        ValueError: unknown fields, wrong structure or invalid option values.
    """
    config: TrainConfig = _build(TrainConfig, values, "config")
    return config if base_dir is None else _with_resolved_paths(config, base_dir)


def load_config(path: str | Path) -> TrainConfig:
    """Read a training configuration from a ``.yaml``/``.yml`` or ``.json`` file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the content does not describe a valid configuration.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    parse = json.loads if path.suffix == ".json" else YAML(typ="safe", pure=True).load
    values = parse(text)
    return config_from_mapping(values or {}, base_dir=path.parent.resolve())
