# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""One frameset's hands in the calibration's world frame, and calibrations from a TF tree.

:func:`express_in_world` is what every consumer of results calls (the node, ``hggt infer``,
``hggt bag``, ``hggt live``) when the user has a calibration: it finds ONE alignment for the
frameset (:func:`~hggt_core.calibration.align.align_to_world` on the best-scoring hand that
sees a known camera) and applies it to every hand in the same reference frame. The hands of a
frameset share their cameras (:mod:`hggt_core.pipeline.shared_cameras`), so normally every
hand is in the best hand's reference frame and all get the same alignment. A hand left in
another reference frame (it shares no view with the best hand) is aligned on its own known
cameras, or left out (logged) when it sees none: a result list is in one frame.

:func:`calibration_from_tree` builds the :class:`~hggt_core.calibration.rig.Calibration` the
YAML loader would, from a :class:`~hggt_core.calibration.tf_tree.TransformTree` (the node's
``/tf_static`` and ``/tf``); :func:`calibration_for_views` lets a calibration name cameras by
their optical frame id as well as by view name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hggt_core.calibration.align import AlignmentConfig, WorldAlignment, align_to_world, to_world
from hggt_core.calibration.rig import Calibration, KnownCamera
from hggt_core.calibration.tf_tree import TransformTree
from hggt_core.pipeline.types import HandResult

_LOG = logging.getLogger(__name__)


def calibration_from_tree(
    tree: TransformTree, world_frame: str, camera_frames: Mapping[str, str]
) -> Calibration:
    """The cameras whose optical frames the tree connects to ``world_frame``.

    Args:
        tree: the known transforms.
        world_frame: the frame results are to be expressed in (a leading ``/`` is dropped).
        camera_frames: view name -> the view's optical frame id (its images' frame_id).

    Returns:
        A calibration with ``KnownCamera(view, world_from_cam=tree.lookup(world_frame,
        frame))`` for every view whose frame connects to ``world_frame``; the other views are
        left out (none at all when ``world_frame`` is unknown). No intrinsics.
    """
    world = world_frame.lstrip("/")
    cameras = {
        view: KnownCamera(view, tree.lookup(world, frame))
        for view, frame in camera_frames.items()
        if tree.can_transform(world, frame)
    }
    return Calibration(world, cameras)


def calibration_for_views(
    calibration: Calibration, frame_ids: Mapping[str, str]
) -> tuple[Calibration, list[str]]:
    """``calibration`` keyed by view names, and the cameras it names that no view has.

    A calibration camera is matched to a view by the view's name, else by the view's optical
    frame id (``frame_ids[view]``, leading ``/`` ignored): ROS users calibrate frames, while
    views are named after topics.

    Args:
        calibration: the cameras as the user named them.
        frame_ids: every input view name -> its frame id (views without one map to themselves).

    Returns:
        ``(calibration, unmatched)``: known cameras renamed to their views (unmatched ones
        dropped), and the names of the unmatched cameras in the calibration's order.
    """
    by_frame = {frame.lstrip("/"): view for view, frame in frame_ids.items()}
    cameras: dict[str, KnownCamera] = {}
    unmatched: list[str] = []
    for name, camera in calibration.cameras.items():
        view = name if name in frame_ids else by_frame.get(name.lstrip("/"))
        if view is None or view in cameras:
            unmatched.append(name)
            continue
        cameras[view] = KnownCamera(view, camera.world_from_cam, camera.intrinsics)
    return Calibration(calibration.world_frame, cameras), unmatched


@dataclass(frozen=True)
class WorldResults:
    """One frameset's hands, in the world frame when aligned.

    Attributes:
        results: the hands, in the world frame when ``alignment`` is not None (3-D quantities
            in metres, ``cam_from_ref`` = cam_from_world), else exactly the input results.
        alignment: the frameset's alignment (from the best-scoring hand that sees a known
            camera); None: no known camera among the hands' cameras.
        world_frame: ``calibration.world_frame`` when aligned, else None.
        hand_alignments: the alignment applied to each of ``results`` (same order): equal to
            ``alignment`` for hands in its reference frame; empty when not aligned.
    """

    results: list[HandResult]
    alignment: WorldAlignment | None
    world_frame: str | None
    hand_alignments: tuple[WorldAlignment, ...] = ()


def express_in_world(
    results: Sequence[HandResult],
    calibration: Calibration,
    config: AlignmentConfig | None = None,
) -> WorldResults:
    """The hands of one frameset in the calibration's world frame (see the module docstring).

    Args:
        results: one frameset's hands, cameras shared (as the predictors return them).
        calibration: known cameras, keyed by view name.
        config: alignment weights (defaults: :class:`AlignmentConfig`).

    Returns:
        The aligned hands, or the input unchanged with ``alignment=None`` when no hand sees a
        known camera.
    """
    for best in sorted(results, key=lambda hand: hand.score, reverse=True):
        alignment = align_to_world(best, calibration, config)
        if alignment is not None:
            break
    else:
        return WorldResults(list(results), None, None)
    placed: list[HandResult] = []
    applied: list[WorldAlignment] = []
    for hand in results:
        own = (
            alignment
            if hand.views_used[0] == best.views_used[0]
            else align_to_world(hand, calibration, config)
        )
        if own is None:
            _LOG.warning(
                "%s hand left out: it is in camera %s's frame and sees no known camera",
                hand.side,
                hand.views_used[0],
            )
            continue
        placed.append(to_world(hand, own))
        applied.append(own)
    return WorldResults(placed, alignment, calibration.world_frame, tuple(applied))
