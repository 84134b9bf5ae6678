# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""How well a landmark-engine result agrees with its own evidence, without ground truth.

Real images come without labels, so the engine is judged by two self-consistency checks:

* reprojection: the fitted hand's joints projected with each view's estimated camera, against
  that view's MediaPipe landmarks (median pixels, and as a fraction of the hand's size in the
  image: the longer side of the landmarks' bounding box);
* leave-one-view-out: the frameset solved again without each view in turn; the joints are
  compared with the all-view joints after similarity alignment (mm), and the cameras the two
  solutions share by their relative rotations (degrees; independent of the reference frame).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from hggt_core.landmarks.landmarker import HandLandmarks
from hggt_core.metrics import procrustes_aligned, relative_pose_errors_deg
from hggt_core.pipeline.types import FrameSet, HandResult, HandSide


@dataclass(frozen=True)
class ViewAgreement:
    """One view's reprojection agreement."""

    name: str
    """The view."""
    median_px: float
    """Median distance between the projected joints and the landmarks, pixels."""
    median_of_hand: float
    """``median_px`` over the longer side of the landmarks' bounding box."""


@dataclass(frozen=True)
class LeftOut:
    """The solution without one view, against the solution with all of them."""

    name: str
    """The view left out."""
    joints_mm: float
    """Mean joint distance after similarity alignment, millimetres."""
    rotation_deg: float
    """Mean relative-rotation difference over the pairs of cameras both solutions have."""


def reprojection_agreement(
    result: HandResult, landmarks: Mapping[str, HandLandmarks]
) -> list[ViewAgreement]:
    """Per view of ``result``, its projected joints against the view's landmarks.

    Args:
        result: a hand result (any engine).
        landmarks: view name -> the same hand's landmarks in that view; views without an
            entry are skipped.
    """
    agreements = []
    for camera in result.cameras:
        hand = landmarks.get(camera.name)
        if hand is None:
            continue
        distance = np.linalg.norm(camera.joints_2d - hand.uv, axis=1)
        extent = float(np.max(hand.uv.max(axis=0) - hand.uv.min(axis=0)))
        median = float(np.median(distance))
        agreements.append(ViewAgreement(camera.name, median, median / max(extent, 1e-9)))
    return agreements


def leave_one_view_out(
    predict: Callable[[FrameSet], list[HandResult]], frameset: FrameSet, side: HandSide
) -> list[LeftOut]:
    """Solve ``frameset`` with every view and without each one in turn.

    Args:
        predict: a predictor with no memory between calls (e.g. IMAGE mode, reset before each
            call by the caller's wrapper).
        frameset: two or more views.
        side: the hand to compare.

    Returns:
        One entry per view whose removal still leaves the hand found (in frameset order);
        empty when the hand is not found with every view.
    """
    full = _hand(predict(frameset), side)
    if full is None:
        return []
    left_out = []
    for view in frameset.views:
        remaining = tuple(other for other in frameset.views if other.name != view.name)
        if not remaining:
            continue
        reduced = _hand(predict(FrameSet(remaining[0].stamp_ns, remaining)), side)
        if reduced is not None:
            left_out.append(_compare(view.name, full, reduced))
    return left_out


def _hand(results: list[HandResult], side: HandSide) -> HandResult | None:
    return next((result for result in results if result.side == side), None)


def _compare(name: str, full: HandResult, reduced: HandResult) -> LeftOut:
    aligned = procrustes_aligned(
        torch.from_numpy(reduced.joints[None]), torch.from_numpy(full.joints[None])
    )[0].numpy()
    joints_mm = 1000.0 * float(np.mean(np.linalg.norm(aligned - full.joints, axis=1)))
    shared = [camera.name for camera in reduced.cameras if camera.name in full.views_used]
    if len(shared) < 2:
        return LeftOut(name, joints_mm, float("nan"))
    by_name = {camera.name: camera.cam_from_ref for camera in full.cameras}
    mine = {camera.name: camera.cam_from_ref for camera in reduced.cameras}
    rotation, _ = relative_pose_errors_deg(
        torch.from_numpy(np.stack([mine[n] for n in shared])),
        torch.from_numpy(np.stack([by_name[n] for n in shared])),
    )
    return LeftOut(name, joints_mm, float(rotation.mean()))
