# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""FrameSet -> HandResult: localise, crop, run the network, pose MANO, decode the cameras.

Per hand (at most one per side) the predictor crops every view that has a box for it, runs the
engine once on those S crops, and turns the raw prediction into a :class:`HandResult` in the
reference camera frame. Frames and units are those of :mod:`hggt_core.pipeline.types`.

Reference view. The network predicts everything in the frame of its first crop, so the
reference is the first view *in frameset order* that has a box: the frameset's view 0 when it
sees the hand, otherwise the next view that does (``HandResult.views_used[0]`` names it; a
consumer must use that camera's frame, not view 0's).

Left hands are cropped mirrored, predicted as right hands and mirrored back
(:mod:`hggt_core.pipeline.mirror`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from hggt_core.base.hand_skeleton import (
    NUM_JOINTS,
    OPENPOSE_FROM_MANO,
    OPENPOSE_PARENTS,
    FingertipConvention,
    fingertip_vertex_ids,
)
from hggt_core.engine.base import Engine, Float32Array, RawPrediction
from hggt_core.geometry.pose_encoding import pose_encoding_to_extrinsics_intrinsics
from hggt_core.geometry.projection import project_points, to_homogeneous_4x4
from hggt_core.mano.layer import ManoLayer
from hggt_core.pipeline.crop import crop_view, intrinsics_for_crop_camera
from hggt_core.pipeline.filters import FilterConfig, HandFilter
from hggt_core.pipeline.known_intrinsics import correct_to_known_intrinsics
from hggt_core.pipeline.mirror import (
    mirror_cam_from_ref,
    mirror_points,
    mirror_raw_prediction,
    mirror_rotations,
)
from hggt_core.pipeline.shared_cameras import share_cameras
from hggt_core.pipeline.tracker import ReprojectionTracker
from hggt_core.pipeline.types import (
    CropTransform,
    FloatArray,
    FrameSet,
    HandBoxes,
    HandLocaliser,
    HandResult,
    HandSide,
    View,
    ViewCamera,
)

_LOG = logging.getLogger(__name__)
_PATCH_SIZE = 14
# 0.001 rad: a focal length of 2.6e5 pixels on a 518 crop, far beyond any real camera.
_MIN_FOV_RAD = 1e-3
# For each OpenPose joint, the MANO joint whose global rotation it reports: itself, or for a
# fingertip (not a MANO joint) its parent, the distal joint of the finger.
_ROTATION_SOURCE = tuple(
    OPENPOSE_FROM_MANO[joint if OPENPOSE_FROM_MANO[joint] < NUM_JOINTS else parent]
    for joint, parent in enumerate(OPENPOSE_PARENTS)
)


@dataclass(frozen=True)
class PredictorConfig:
    """Settings of :class:`Predictor`; the defaults suit the released model."""

    crop_size: int = 518
    """Side of the square model input in pixels (multiple of 14; must match the engine's)."""
    box_scale: float = 1.3
    """Crop side / longer side of the hand box. The released examples show the hand filling
    most of the 518 crop, and the localisers give tight boxes (around 2-D joints or a
    detection); 1.3 leaves a 15 % margin on each side, so fingertips just outside a joint
    box stay in the crop while the hand still spans about three quarters of it."""
    min_hand_views: int = 1
    """Hands seen (boxed) in fewer views are skipped."""
    fingertips: FingertipConvention = FingertipConvention.FREIHAND
    """Which mesh vertices give the five fingertip joints (see FingertipConvention)."""
    temporal_filter: FilterConfig | None = None
    """One-Euro smoothing of the results (for teleoperation); None (the default) disables it."""
    use_known_intrinsics: bool = True
    """Correct the estimate to the known K of every view that has one (View.intrinsics): the
    hand and the cameras move rigidly as the release's reprojection to known intrinsics
    moves the hand centre, and those views report their known K
    (:mod:`hggt_core.pipeline.known_intrinsics`); each hand is corrected before the hands
    share one set of cameras. Views without a K are untouched; False keeps the network's
    intrinsics and geometry everywhere."""

    def __post_init__(self) -> None:
        if self.crop_size <= 0 or self.crop_size % _PATCH_SIZE:
            raise ValueError(f"crop_size must be a positive multiple of 14, got {self.crop_size}")
        if self.box_scale <= 0:
            raise ValueError(f"box_scale must be positive, got {self.box_scale}")
        if self.min_hand_views < 1:
            raise ValueError(f"min_hand_views must be at least 1, got {self.min_hand_views}")
        object.__setattr__(self, "fingertips", FingertipConvention(self.fingertips))


@dataclass(frozen=True)
class _PosedHand:
    """MANO output of one hand in the real reference frame (float64)."""

    params: RawPrediction
    vertices: FloatArray
    joints: FloatArray
    joint_rotations: FloatArray


def _numpy(tensor: torch.Tensor) -> FloatArray:
    return np.asarray(tensor.detach().cpu().numpy(), dtype=np.float64)


def _check_layer(layer: ManoLayer, side: HandSide) -> None:
    if layer.side != side:
        raise ValueError(f"the {side}-hand MANO layer was built from a {layer.side}-hand model")
    if layer.use_pca or layer.flat_hand_mean:
        raise ValueError(
            "HGGT predicts axis-angle offsets from the mean pose: build the MANO "
            "layers with use_pca=False and flat_hand_mean=False"
        )


class Predictor:
    """Runs the whole per-frameset inference (see the module docstring).

    Args:
        engine: the network backend; its ``crop_size`` must equal ``config.crop_size``.
        mano_right: right-hand MANO layer (``use_pca=False``, ``flat_hand_mean=False``).
        mano_left: left-hand MANO layer, or None. When given, left hands are posed with it and
            the mirrored parameters, so the reported parameters reproduce the reported mesh
            with the user's left model; when None, the right layer's output is mirrored. Both
            agree when the left model is the mirror of the right one (see
            :func:`hggt_core.mano.layer.mano_layers_from_dir`).
        localiser: finds the hand boxes; it receives the previous call's (returned) results.
        config: settings (defaults: :class:`PredictorConfig`).

    Raises:
        ValueError: crop sizes that disagree, or MANO layers of the wrong side or convention.
    """

    def __init__(
        self,
        engine: Engine,
        mano_right: ManoLayer,
        mano_left: ManoLayer | None,
        localiser: HandLocaliser,
        config: PredictorConfig | None = None,
    ) -> None:
        self.config = config or PredictorConfig()
        if engine.crop_size != self.config.crop_size:
            raise ValueError(
                f"the engine expects {engine.crop_size}-pixel crops but the predictor is "
                f"configured for {self.config.crop_size}"
            )
        _check_layer(mano_right, "right")
        if mano_left is not None:
            _check_layer(mano_left, "left")
        self.engine = engine
        self.mano_right = mano_right
        self.mano_left = mano_left
        self.localiser = localiser
        self._tip_ids = fingertip_vertex_ids(self.config.fingertips)
        filter_config = self.config.temporal_filter
        self._filter = HandFilter(filter_config) if filter_config is not None else None
        self._previous: list[HandResult] = []

    @property
    def tracker_state(self) -> str:
        """How the last frameset's hands were found, for diagnostics.

        With the reprojection tracker as localiser, its state: ``"tracking"`` (boxes from the
        previous hands), ``"re-detecting"`` (its detector searched the whole frameset and found
        a hand) or ``"lost"`` (no hand; also before the first frameset). ``"off"`` with any
        other localiser, which finds the hands anew in every frameset.
        """
        if isinstance(self.localiser, ReprojectionTracker):
            return self.localiser.state
        return "off"

    def reset(self) -> None:
        """Forget the previous results (tracking) and the filter history."""
        self._previous = []
        if self._filter is not None:
            self._filter.reset()

    def close(self) -> None:
        """Release the localiser's detector, if it holds one."""
        close = getattr(self.localiser, "close", None)
        if callable(close):
            close()

    def __call__(self, frameset: FrameSet) -> list[HandResult]:
        """Reconstruct every hand of a frameset.

        Returns:
            One result per hand found in at least ``min_hand_views`` views (an empty list when
            there is none), in one set of cameras
            (:func:`~hggt_core.pipeline.shared_cameras.share_cameras`); every result carries
            ``frameset.stamp_ns``. ``timings_s`` has the
            stages "localise" (for the whole frameset), "crop", "model", "mano", "cameras" and
            "filter" (0 when off), in seconds.
        """
        start = time.perf_counter()
        hands = self.localiser.locate(frameset, self._previous)
        localise_s = time.perf_counter() - start
        results = []
        for hand in hands:
            result = self._predict_hand(frameset, hand, localise_s)
            if result is not None:
                results.append(result)
        results = share_cameras(results)
        self._previous = results
        return results

    def _predict_hand(
        self, frameset: FrameSet, hand: HandBoxes, localise_s: float
    ) -> HandResult | None:
        views = [view for view in frameset.views if view.name in hand.boxes]
        if len(views) < self.config.min_hand_views:
            _LOG.debug(
                "skipping the %s hand: boxed in %d view(s), min_hand_views is %d",
                hand.side,
                len(views),
                self.config.min_hand_views,
            )
            return None
        timings = {"localise": localise_s}
        clock = time.perf_counter()
        crops, transforms = self._crop(views, hand)
        timings["crop"], clock = _lap(clock)
        raw = self.engine.run(crops)
        timings["model"], clock = _lap(clock)
        if raw.pose_enc.shape != (len(views), 9):
            raise RuntimeError(
                f"engine {self.engine.name} returned cameras {raw.pose_enc.shape} for "
                f"{len(views)} views"
            )
        posed = self._pose(raw, hand.side)
        timings["mano"], clock = _lap(clock)
        cameras = self._cameras(views, transforms, raw.pose_enc, posed.joints)
        result = HandResult(
            stamp_ns=frameset.stamp_ns,
            side=hand.side,
            score=hand.score,
            hand_pose=posed.params.hand_pose.astype(np.float64),
            betas=posed.params.betas.astype(np.float64),
            transl=posed.params.transl.astype(np.float64),
            vertices=posed.vertices,
            joints=posed.joints,
            joint_rotations=posed.joint_rotations,
            cameras=cameras,
            views_used=tuple(view.name for view in views),
        )
        if self.config.use_known_intrinsics:
            known = {view.name: view.intrinsics for view in views if view.intrinsics is not None}
            result = correct_to_known_intrinsics(result, known)
        timings["cameras"], clock = _lap(clock)
        if self._filter is not None:
            result = self._filter(result)
        timings["filter"], _ = _lap(clock)
        return dataclasses.replace(result, timings_s=timings)

    def _crop(
        self, views: Sequence[View], hand: HandBoxes
    ) -> tuple[Float32Array, list[CropTransform]]:
        """[S, 3, size, size] float32 crops (mirrored for a left hand) and their transforms.

        A view with lens distortion gets an undistorted (pinhole) crop, so its transform maps
        crop pixels to ideal pixels of its K (:func:`~hggt_core.pipeline.crop.crop_view`).
        """
        size = self.config.crop_size
        crops = np.empty((len(views), 3, size, size), dtype=np.float32)
        transforms = []
        for index, view in enumerate(views):
            transform, _ = crop_view(
                view,
                hand.boxes[view.name],
                size,
                self.config.box_scale,
                mirrored=hand.side == "left",
                out=crops[index],
            )
            transforms.append(transform)
        return crops, transforms

    def _pose(self, raw: RawPrediction, side: HandSide) -> _PosedHand:
        """Pose MANO in the real reference frame (mirroring a left hand back)."""
        real_params = mirror_raw_prediction(raw) if side == "left" else raw
        layer, params, mirror_output = self.mano_right, raw, side == "left"
        if side == "left" and self.mano_left is not None:
            layer, params, mirror_output = self.mano_left, real_params, False
        like = layer.v_template
        with torch.inference_mode():
            output = layer.forward_theta(
                torch.from_numpy(params.hand_pose[None]).to(like),
                torch.from_numpy(params.betas[None]).to(like),
                torch.from_numpy(params.transl[None]).to(like),
            )
        vertices = _numpy(output.vertices[0])
        tips = vertices[list(self._tip_ids)]
        joints = np.concatenate([_numpy(output.joints16[0]), tips])[list(OPENPOSE_FROM_MANO)]
        rotations = _numpy(output.global_rotations[0])[list(_ROTATION_SOURCE)]
        if mirror_output:
            vertices, joints = mirror_points(vertices), mirror_points(joints)
            rotations = mirror_rotations(rotations)
        return _PosedHand(real_params, vertices, joints, rotations)

    def _cameras(
        self,
        views: Sequence[View],
        transforms: Sequence[CropTransform],
        pose_enc: Float32Array,
        joints: FloatArray,
    ) -> tuple[ViewCamera, ...]:
        """Decode the crop cameras into full-image ones and project the joints into them.

        Fields of view are floored at ``_MIN_FOV_RAD`` first: a zero field of view (the
        encoding's ReLU output of an untrained network) would make the focal length infinite
        and every derived number NaN. A trained model never predicts one.
        """
        size = self.config.crop_size
        encoding = pose_enc.astype(np.float64)
        encoding[:, 7:] = np.maximum(encoding[:, 7:], _MIN_FOV_RAD)
        cam_from_ref_t, k_crop_t = pose_encoding_to_extrinsics_intrinsics(
            torch.from_numpy(encoding), (size, size)
        )
        cam_from_ref = _numpy(to_homogeneous_4x4(cam_from_ref_t))
        if transforms[0].mirrored:
            cam_from_ref = mirror_cam_from_ref(cam_from_ref)
        cameras = []
        for index, (view, transform) in enumerate(zip(views, transforms, strict=True)):
            intrinsics = intrinsics_for_crop_camera(_numpy(k_crop_t[index]), transform)
            uv, _ = project_points(
                torch.from_numpy(joints),
                torch.from_numpy(cam_from_ref[index]),
                torch.from_numpy(intrinsics),
            )
            cameras.append(
                ViewCamera(view.name, intrinsics, cam_from_ref[index], _numpy(uv), transform)
            )
        return tuple(cameras)


def _lap(since: float) -> tuple[float, float]:
    """Seconds elapsed since ``since``, and the current perf_counter reading."""
    now = time.perf_counter()
    return now - since, now
