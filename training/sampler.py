# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Image-budget batching, the dataset interface readers implement, and the dataset registry.

Dataset interface (what a reader plugs in): a ``torch.utils.data.Dataset`` whose items are
addressed by a :class:`ViewRequest` rather than a bare index, plus its view range::

    class MyReader(torch.utils.data.Dataset):
        view_range = (2, 8)                     # views a sample can offer, inclusive
        def __len__(self) -> int: ...           # number of samples (framesets)
        def __getitem__(self, request: ViewRequest) -> HandSample:
            # request.item in [0, len); return exactly request.num_views views (view 0 =
            # the reference camera); draw any randomness (view choice, augmentation) from
            # numpy.random.default_rng(request.seed) so a sample is reproducible.

and is registered under a name, with a factory that builds it from a
:class:`~training.config.DatasetConfig` (``register_dataset("poem", build_poem)``). Training
configurations then name it (``data.multi_view: [{name: poem, path: ...}]``).

Batching: every micro-step of a stream draws one dataset (by weight) and one view count S
uniformly from that dataset's range, then B = floor(N_img / S) samples per rank, so every
micro-step holds about N_img images whatever S is. The draw of step k is a pure function of
(seed, stream, k): all ranks agree on the dataset and S, each rank takes a disjoint share of
the step's indices, and resuming at step k needs no sampler state. Indices are drawn without
replacement within a step and independently across steps (an i.i.d. stream, not epochs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from torch.utils.data import Dataset, IterableDataset

from hggt_core.mano.io import load_mano_model
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.render.scene import SyntheticExample, render_multiview_example
from hggt_core.render.scene_config import SceneConfig
from training.config import DatasetConfig
from training.data.sample import HandBatch, HandSample, collate


class ViewRequest(NamedTuple):
    """Which sample, with how many views, under which seed."""

    item: int
    num_views: int
    seed: int


class HandDataset(Protocol):
    """What a dataset reader provides (see the module docstring)."""

    view_range: tuple[int, int]

    def __len__(self) -> int:
        """Number of samples."""
        ...

    def __getitem__(self, request: ViewRequest) -> HandSample:
        """The sample ``request.item`` with ``request.num_views`` views."""
        ...


DatasetFactory = Callable[[DatasetConfig], "HandDataset | IterableDataset[HandSample]"]
_REGISTRY: dict[str, DatasetFactory] = {}


def register_dataset(name: str, factory: DatasetFactory) -> None:
    """Make a reader available to configurations under ``name`` (re-registering replaces)."""
    _REGISTRY[name] = factory


def registered_datasets() -> tuple[str, ...]:
    """Names configurations can use."""
    return tuple(sorted(_REGISTRY))


def build_dataset(config: DatasetConfig) -> HandDataset | IterableDataset[HandSample]:
    """Build a registered dataset, with the configuration's view range if it sets one.

    Streaming readers (``IterableDataset`` of samples) are returned as they are; they are
    batched by :class:`BudgetBucketer` instead of :class:`ImageBudgetSampler`.

    Raises:
        KeyError: no reader is registered under ``config.name``.
    """
    factory = _REGISTRY.get(config.name)
    if factory is None:
        raise KeyError(
            f"no dataset reader named {config.name!r}; registered: {list(registered_datasets())}"
        )
    dataset = factory(config)
    if config.view_range is not None and not isinstance(dataset, IterableDataset):
        dataset.view_range = config.view_range
    return dataset


@dataclass(frozen=True)
class BatchPlan:
    """The draw of one micro-step for one rank.

    Attributes:
        step: micro-step number.
        dataset: index of the chosen dataset in the stream.
        num_views: S.
        requests: this rank's B requests.
    """

    step: int
    dataset: int
    num_views: int
    requests: tuple[ViewRequest, ...]


class ImageBudgetSampler:
    """Infinite batch sampler of ``[(dataset, ViewRequest), ...]`` lists (see module docstring).

    Args:
        lengths: number of samples of each dataset of the stream.
        view_ranges: (min, max) views of each dataset, inclusive.
        image_budget: N_img, images per rank per micro-step (>= every dataset's max views).
        seed: base seed; ``stream`` separates independent streams sharing it.
        weights: relative probability of each dataset (default: equal).
        rank: this process's rank.
        world_size: number of processes.
        start_step: first micro-step to yield (for resuming).
        stream: stream id mixed into the seed.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        view_ranges: Sequence[tuple[int, int]],
        image_budget: int,
        seed: int = 0,
        weights: Sequence[float] | None = None,
        rank: int = 0,
        world_size: int = 1,
        start_step: int = 0,
        stream: int = 0,
    ) -> None:
        if not lengths or len(lengths) != len(view_ranges):
            raise ValueError("need one view range per dataset, and at least one dataset")
        for low, high in view_ranges:
            if not 1 <= low <= high or high > image_budget:
                raise ValueError(
                    f"view range ({low}, {high}) does not fit an image budget of {image_budget}"
                )
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside a world of {world_size}")
        chosen = np.asarray(weights if weights is not None else [1.0] * len(lengths), float)
        self.lengths = tuple(int(n) for n in lengths)
        self.view_ranges = tuple(view_ranges)
        self.image_budget = image_budget
        self.probabilities = chosen / chosen.sum()
        self.seed, self.stream = seed, stream
        self.rank, self.world_size = rank, world_size
        self.start_step = start_step

    def plan(self, step: int) -> BatchPlan:
        """This rank's draw for micro-step ``step`` (a pure function of the arguments)."""
        rng = np.random.default_rng([self.seed, self.stream, step])
        dataset = int(rng.choice(len(self.lengths), p=self.probabilities))
        low, high = self.view_ranges[dataset]
        num_views = int(rng.integers(low, high + 1))
        batch = self.image_budget // num_views
        total = batch * self.world_size
        length = self.lengths[dataset]
        indices = rng.choice(length, size=total, replace=total > length)
        seeds = rng.integers(0, 2**31 - 1, size=total)
        mine = slice(self.rank * batch, (self.rank + 1) * batch)
        requests = tuple(
            ViewRequest(int(index), num_views, int(seed))
            for index, seed in zip(indices[mine], seeds[mine], strict=True)
        )
        return BatchPlan(step, dataset, num_views, requests)

    def __iter__(self) -> Iterator[list[tuple[int, ViewRequest]]]:
        """Yield micro-step batches forever, from ``start_step`` on."""
        step = self.start_step
        while True:
            plan = self.plan(step)
            yield [(plan.dataset, request) for request in plan.requests]
            step += 1


class DatasetMixture(Dataset[HandSample]):
    """Routes ``(dataset, ViewRequest)`` keys of :class:`ImageBudgetSampler` to the datasets."""

    def __init__(self, datasets: Sequence[HandDataset]) -> None:
        self.datasets = tuple(datasets)

    def __len__(self) -> int:
        """Total samples over the datasets."""
        return sum(len(dataset) for dataset in self.datasets)

    def __getitem__(self, key: tuple[int, ViewRequest]) -> HandSample:
        """The requested sample of the given dataset."""
        dataset, request = key
        return self.datasets[dataset][request]


def sample_from_example(example: SyntheticExample, num_views: int, name: str) -> HandSample:
    """The first ``num_views`` views of a rendered example as a fully labelled sample."""
    views = example.views[:num_views]

    def stacked(values: Sequence[npt.NDArray[Any]]) -> Tensor:
        return torch.from_numpy(np.stack(values)).float()

    images = stacked([view.image for view in views]).permute(0, 3, 1, 2) / 255.0
    return HandSample(
        images=images.contiguous(),
        intrinsics=stacked([view.intrinsics for view in views]),
        cam_from_ref=stacked([view.cam_from_ref for view in views]),
        hand_pose=torch.from_numpy(example.hand_pose).float(),
        betas=torch.from_numpy(example.betas).float(),
        transl=torch.from_numpy(example.transl).float(),
        joints_3d=torch.from_numpy(example.joints).float(),
        joints_2d=stacked([view.joints_2d for view in views]),
        has_mano=True,
        has_joints_3d=True,
        has_joints_2d=torch.ones(num_views, dtype=torch.bool),
        has_cameras=True,
        dataset=name,
    )


class ProceduralHandDataset(Dataset[HandSample]):
    """Synthetic framesets rendered on demand (:func:`render_multiview_example`), fully labelled.

    Sample ``i`` is the scene of seed ``(seed, i)`` rendered with the range's maximum number of
    views; a request for S views returns its first S (view 0 stays the reference), so the
    content of a sample never depends on the request's seed. With ``cache`` each rendered
    scene is kept in memory (per DataLoader worker).

    Args:
        mano: the right-hand MANO layer to pose and render.
        length: number of distinct samples.
        view_range: (min, max) views.
        scene: scene ranges and crop size.
        seed: base seed (use different seeds for training and held-out sets).
        cache: keep rendered scenes.
        name: dataset name written into the samples.
    """

    def __init__(
        self,
        mano: ManoLayer,
        length: int,
        view_range: tuple[int, int] = (2, 10),
        scene: SceneConfig | None = None,
        seed: int = 0,
        cache: bool = True,
        name: str = "procedural",
    ) -> None:
        self.mano = mano
        self.length = length
        self.view_range = view_range
        self.scene = scene if scene is not None else SceneConfig(crop_size=112, supersample=1)
        self.seed = seed
        self.cache = cache
        self.name = name
        self._examples: dict[int, SyntheticExample] = {}

    def __len__(self) -> int:
        """Number of distinct samples."""
        return self.length

    def __getitem__(self, request: ViewRequest) -> HandSample:
        """Sample ``request.item`` with ``request.num_views`` views."""
        example = self._examples.get(request.item)
        if example is None:
            rng = np.random.default_rng([self.seed, request.item])
            with torch.no_grad():
                example = render_multiview_example(self.mano, rng, self.view_range[1], self.scene)
            if self.cache:
                self._examples[request.item] = example
        return sample_from_example(example, request.num_views, self.name)


def right_hand_mano(path: str | None) -> ManoLayer:
    """The right-hand MANO layer of a file or folder (None = the procedural stand-in)."""
    model = make_synthetic_mano() if path is None else load_mano_model(path, side="right")
    return ManoLayer(model)


def _build_procedural(config: DatasetConfig) -> HandDataset:
    """Build :class:`ProceduralHandDataset` (registered as ``procedural``).

    ``path``: MANO file or folder (None = the procedural model); ``length`` required;
    ``params``: ``cache`` (true) and any :class:`SceneConfig` field (``crop_size`` defaults
    to 112 and ``supersample`` to 1 here; lists become tuples).
    """
    params = dict(config.params)
    scene_fields = {field.name for field in fields(SceneConfig)}
    overrides = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in params.items()
        if name in scene_fields
    }
    for name in overrides:
        del params[name]
    scene = SceneConfig(**{"crop_size": 112, "supersample": 1, **overrides})
    cache = bool(params.pop("cache", True))
    if params:
        raise ValueError(f"unknown options of the procedural dataset: {sorted(params)}")
    if config.length is None:
        raise ValueError("the procedural dataset needs a length")
    return ProceduralHandDataset(
        right_hand_mano(config.path),
        config.length,
        config.view_range or (2, 10),
        scene,
        config.seed,
        cache,
        config.name,
    )


register_dataset("procedural", _build_procedural)


class BudgetBucketer(IterableDataset[HandBatch]):
    """Image-budget batches from a stream of samples (readers that are iterable, not indexed).

    Samples are grouped by (S, H, W); a group is emitted as a batch once it holds
    floor(N_img / S) samples, so S follows the reader's own view distribution. With several
    ranks, rank r keeps the samples whose position in the stream is r modulo the world size
    (readers that shard their files by rank themselves can pass ``world_size=1``).

    Args:
        source: the samples (a DataLoader worker sees its own shard of an IterableDataset).
        image_budget: N_img.
        rank: this process's rank.
        world_size: number of processes.
        flush: at the end of a finite stream, also emit the groups that are not full
            (evaluation); otherwise they are dropped.
    """

    def __init__(
        self,
        source: Iterable[HandSample],
        image_budget: int,
        rank: int = 0,
        world_size: int = 1,
        flush: bool = False,
    ) -> None:
        super().__init__()
        self.source = source
        self.flush = flush
        self.image_budget = image_budget
        self.rank, self.world_size = rank, world_size

    def __iter__(self) -> Iterator[HandBatch]:
        """Batches as soon as a (S, H, W) group is full."""
        buckets: dict[tuple[int, ...], list[HandSample]] = {}
        for position, sample in enumerate(self.source):
            if position % self.world_size != self.rank:
                continue
            key = tuple(sample.images.shape[:1]) + tuple(sample.images.shape[2:])
            bucket = buckets.setdefault(key, [])
            bucket.append(sample)
            if len(bucket) >= max(1, self.image_budget // sample.num_views):
                yield collate(bucket)
                buckets[key] = []
        if self.flush:
            yield from (collate(bucket) for bucket in buckets.values() if bucket)
