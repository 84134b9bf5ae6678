# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Image-budget sampler: B = floor(N_img / S), deterministic, rank-disjoint, resumable."""

from __future__ import annotations

import itertools

import pytest
import torch

from training.config import DatasetConfig
from training.data.sample import HandSample
from training.sampler import (
    BudgetBucketer,
    ImageBudgetSampler,
    ViewRequest,
    build_dataset,
    register_dataset,
    registered_datasets,
)


def _sampler(**overrides: object) -> ImageBudgetSampler:
    settings: dict[str, object] = {
        "lengths": [100, 7],
        "view_ranges": [(2, 10), (1, 4)],
        "image_budget": 32,
        "seed": 3,
        "weights": [0.7, 0.3],
    }
    settings.update(overrides)
    return ImageBudgetSampler(**settings)  # type: ignore[arg-type]


def test_batch_size_follows_the_image_budget() -> None:
    sampler = _sampler()
    seen_views = set()
    for step in range(200):
        plan = sampler.plan(step)
        low, high = sampler.view_ranges[plan.dataset]
        assert low <= plan.num_views <= high
        assert len(plan.requests) == 32 // plan.num_views
        assert all(request.num_views == plan.num_views for request in plan.requests)
        assert all(0 <= request.item < sampler.lengths[plan.dataset] for request in plan.requests)
        seen_views.add((plan.dataset, plan.num_views))
    # Every view count of both ranges is drawn.
    assert seen_views == {(0, s) for s in range(2, 11)} | {(1, s) for s in range(1, 5)}


def test_indices_are_distinct_within_a_step_when_possible() -> None:
    plan = _sampler(lengths=[100], view_ranges=[(1, 1)], weights=None).plan(0)
    indices = [request.item for request in plan.requests]
    assert len(indices) == 32 and len(set(indices)) == 32


def test_draws_are_deterministic_and_seed_dependent() -> None:
    first = [_sampler().plan(step) for step in range(20)]
    again = [_sampler().plan(step) for step in range(20)]
    other = [_sampler(seed=4).plan(step) for step in range(20)]
    assert first == again
    assert first != other


def test_ranks_share_the_draw_and_split_the_indices() -> None:
    world = 4
    plans = [
        _sampler(rank=r, world_size=world, lengths=[1000, 1000]).plan(5) for r in range(world)
    ]
    assert len({(p.dataset, p.num_views) for p in plans}) == 1
    indices = [request.item for plan in plans for request in plan.requests]
    assert len(indices) == world * (32 // plans[0].num_views)
    assert len(set(indices)) == len(indices)


def test_iteration_resumes_at_a_step() -> None:
    from_start = list(itertools.islice(iter(_sampler()), 10))
    resumed = list(itertools.islice(iter(_sampler(start_step=6)), 4))
    assert resumed == from_start[6:]


def test_rejects_view_ranges_beyond_the_budget() -> None:
    with pytest.raises(ValueError, match="image budget"):
        _sampler(image_budget=8)


def _sample(num_views: int) -> HandSample:
    return HandSample(
        images=torch.zeros(num_views, 3, 14, 14),
        intrinsics=torch.eye(3).expand(num_views, 3, 3),
        cam_from_ref=torch.eye(4).expand(num_views, 4, 4),
        hand_pose=torch.zeros(48),
        betas=torch.zeros(10),
        transl=torch.zeros(3),
        joints_3d=torch.zeros(21, 3),
        joints_2d=torch.zeros(num_views, 21, 2),
        has_mano=True,
        has_joints_3d=True,
        has_joints_2d=torch.ones(num_views, dtype=torch.bool),
        has_cameras=True,
        dataset="stream",
    )


def test_bucketer_batches_streams_by_view_count() -> None:
    stream = [_sample(s) for s in [2, 3, 2, 2, 3, 2, 3, 3, 3]]
    batches = list(BudgetBucketer(stream, image_budget=6))
    # S = 2 -> B = 3 (positions 0, 2, 3); S = 3 -> B = 2 (1, 4), then (6, 7).
    assert [tuple(b.images.shape[:2]) for b in batches] == [(3, 2), (2, 3), (2, 3)]
    ranks = [list(BudgetBucketer(stream, 4, rank=r, world_size=2)) for r in range(2)]
    shapes = [[tuple(b.images.shape[:2]) for b in batches] for batches in ranks]
    # Rank 0 sees positions 0, 2, 4, 6, 8 (S = 2, 2, 3, 3, 3), rank 1 sees 1, 3, 5, 7.
    assert shapes == [[(2, 2), (1, 3), (1, 3), (1, 3)], [(1, 3), (2, 2), (1, 3)]]


class _Dummy(torch.utils.data.Dataset[HandSample]):
    view_range = (2, 3)

    def __len__(self) -> int:
        return 5

    def __getitem__(self, request: ViewRequest) -> HandSample:
        return _sample(request.num_views)


def test_registry_builds_with_the_configured_view_range() -> None:
    register_dataset("dummy_for_test", lambda config: _Dummy())
    assert "dummy_for_test" in registered_datasets()
    assert build_dataset(DatasetConfig(name="dummy_for_test")).view_range == (2, 3)
    configured = build_dataset(DatasetConfig(name="dummy_for_test", view_range=(2, 2)))
    assert configured.view_range == (2, 2)
    with pytest.raises(KeyError, match="no dataset reader"):
        build_dataset(DatasetConfig(name="no_such_reader"))


def test_bucketer_can_flush_partial_groups_for_evaluation() -> None:
    stream = [_sample(s) for s in [2, 3, 2]]
    assert list(BudgetBucketer(stream, image_budget=8)) == []
    flushed = list(BudgetBucketer(stream, image_budget=8, flush=True))
    assert sorted(tuple(b.images.shape[:2]) for b in flushed) == [(1, 3), (2, 2)]
