# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""HGGT's training losses (MODEL_SPEC.md section 6), with every reduction pinned down.

For each refinement iteration l = 1..L (L = the model's ``num_iterations``)::

    L_hand^l = I_mano (w_pose ||theta - theta*||^2 + w_shape ||beta - beta*||^2)
               + I_joints w_joints mean_j ||J_j - J_j*||^2          (root-relative joints)
    L_cam^l  = I_cam mean_s (||T_s - T_s*||^2 + angle(R(q_s), R(q_s*))^2 + ||f_s - f_s*||^2)
    L_proj   = w_2d(S) mean_{valid s, j} ||(pi_s(J_j) - x_sj*) / crop_side||^2
               + mean_{s, j} max(0, -z_sj)^2                         (final iteration only)
    total    = sum_l gamma^(L - l) (lambda_hand L_hand^l + lambda_cam L_cam^l)
               + lambda_proj L_proj

Definitions where the paper is loose:

- ``||.||^2`` is the squared Euclidean norm of the whole vector: theta (48 radians), beta (10),
  T (3, metres) and f = (fov_h, fov_w) (2, radians); joint errors are squared distances in
  metres averaged over the 21 joints, after subtracting each set's wrist (joint 0).
- Each sample-level term is averaged over the samples that carry its supervision (flag set),
  not over the whole batch, so a term's scale does not depend on how many samples have it; a
  term with no supervised sample is exactly zero and sends no gradient. Masking uses
  ``torch.where``, so unsupervised samples contribute an exactly zero gradient.
- I_cam = has_cameras and S > 1: single-view samples carry no relative camera to learn.
  Camera targets are VGGT encodings of the sample's ``cam_from_ref`` and ``intrinsics`` for the
  crop size (H, W); the mean over views includes view 0, whose target is the identity.
- 2-D reprojection errors are measured in units of the crop's longer side (pixels / max(H, W)).
  This makes the term independent of the training resolution (518 in the paper, 112 in tests)
  and puts it on the scale of the 3-D term: a 5 px error on a 518 crop is 0.01 crop widths, a
  5 mm joint error is 0.005 m. The mean runs over the (sample, view, joint) entries whose view
  has valid 2-D joints; ``w_2d`` is 1.0 for single-view samples and 10.0 for multi-view ones.
- Projection uses the predicted extrinsics and intrinsics of every view (view 0 included) and
  divides by max(z, ``min_depth_m``): a hand closer than a few centimetres is not physical,
  and the floor keeps the pixel error bounded while the depth penalty pushes points in front.
  For the same reason the predicted fields of view are clamped to ``fov_range_rad`` (the
  camera head's ReLU may output 0, an infinite focal length).
- The negative-depth penalty needs no label and applies to every sample and view (metres^2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

from hggt_core.geometry.pose_encoding import (
    extrinsics_intrinsics_to_pose_encoding,
    pose_encoding_to_extrinsics_intrinsics,
)
from hggt_core.geometry.projection import transform_points
from hggt_core.geometry.rotations import geodesic_angle, quaternion_to_matrix
from hggt_core.mano.layer import ManoLayer
from hggt_core.model.hggt import HGGTOutput
from hggt_core.model.mano_head import HandParams
from training.data.sample import HandBatch


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms (defaults: the HGGT paper's supplement)."""

    pose: float = 0.1
    """w_pose: MANO pose parameters."""
    shape: float = 0.05
    """w_shape: MANO shape parameters."""
    joints_3d: float = 5.0
    """w_joints: root-relative 3-D joints."""
    hand: float = 1.0
    """lambda_hand: the whole hand term."""
    camera: float = 5.0
    """lambda_cam: the camera term (multi-view samples only)."""
    projection: float = 1.0
    """lambda_proj: the projection term (final iteration only)."""
    proj_single_view: float = 1.0
    """w_2d for single-view samples."""
    proj_multi_view: float = 10.0
    """w_2d for multi-view samples (2-D consistency across views)."""
    negative_depth: float = 1.0
    """Weight of the negative-depth penalty inside L_proj."""
    gamma: float = 0.6
    """Decay of the intermediate supervision: iteration l gets gamma^(L - l)."""
    min_depth_m: float = 0.05
    """Depth floor of the projection's division, metres."""
    fov_range_rad: tuple[float, float] = (0.05, 3.0)
    """Predicted fields of view are clamped to this range for the projection (radians): the
    camera head's ReLU can output 0, an infinite focal length."""


@dataclass(frozen=True)
class LossOutput:
    """The scalar to optimise and every term for logging.

    Attributes:
        total: scalar loss with gradient.
        terms: name -> detached scalar. Names: ``hand_pose``, ``hand_shape``, ``hand_joints``,
            ``cam_translation``, ``cam_rotation``, ``cam_fov`` (unweighted, final iteration),
            ``hand``, ``camera`` (weighted sums over iterations, stage weights included),
            ``proj_2d``, ``proj_depth`` (unweighted), ``projection`` (weighted) and ``total``.
    """

    total: Tensor
    terms: Mapping[str, Tensor]


def stage_weights(num_iterations: int, gamma: float) -> list[float]:
    """gamma^(L - l) for l = 1..L: the last iteration gets 1, earlier ones decay."""
    return [gamma ** (num_iterations - level) for level in range(1, num_iterations + 1)]


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` [N] over ``mask`` [N]; exactly 0 with zero gradient if none is set."""
    kept = torch.where(mask, values, torch.zeros_like(values))
    return kept.sum() / mask.sum().clamp_min(1)


def root_relative(joints: Tensor) -> Tensor:
    """[..., 21, 3] joints minus their wrist (joint 0)."""
    return joints - joints[..., :1, :]


def hand_terms(
    params: HandParams, joints_pred: Tensor, batch: HandBatch
) -> tuple[Tensor, Tensor, Tensor]:
    """Unweighted pose, shape and joint terms of one iteration.

    Args:
        params: predicted MANO parameters, [B, 48], [B, 10], [B, 3].
        joints_pred: [B, 21, 3] joints of ``params`` from the MANO layer, metres.
        batch: the labels.

    Returns:
        Scalars: mean ||theta - theta*||^2 over has_mano samples, mean ||beta - beta*||^2
        over has_mano samples, and the mean (over has_joints_3d samples) of the per-joint
        squared root-relative distance averaged over the joints (m^2).
    """
    pose = (params.hand_pose - batch.hand_pose).square().sum(dim=-1)
    shape = (params.betas - batch.betas).square().sum(dim=-1)
    offsets = root_relative(joints_pred) - root_relative(batch.joints_3d)
    joints = offsets.square().sum(dim=-1).mean(dim=-1)
    return (
        _masked_mean(pose, batch.has_mano),
        _masked_mean(shape, batch.has_mano),
        _masked_mean(joints, batch.has_joints_3d),
    )


def camera_targets(batch: HandBatch) -> Tensor:
    """[B, S, 9] VGGT encodings of the labelled cameras for the batch's crop size."""
    height, width = batch.images.shape[-2:]
    return extrinsics_intrinsics_to_pose_encoding(
        batch.cam_from_ref[..., :3, :], batch.intrinsics, (int(height), int(width))
    )


def camera_terms(pose_enc: Tensor, target: Tensor, batch: HandBatch) -> tuple[Tensor, ...]:
    """Unweighted translation, rotation and field-of-view terms of one iteration.

    Args:
        pose_enc: [B, S, 9] predicted encodings.
        target: [B, S, 9] label encodings (:func:`camera_targets`).
        batch: the labels (for the masks).

    Returns:
        Scalars averaged over views and over the multi-view samples with cameras:
        ||T - T*||^2 (m^2), geodesic angle^2 (rad^2), ||f - f*||^2 (rad^2).
    """
    mask = batch.has_cameras & (pose_enc.shape[1] > 1)
    translation = (pose_enc[..., :3] - target[..., :3]).square().sum(dim=-1).mean(dim=-1)
    angle = geodesic_angle(
        quaternion_to_matrix(pose_enc[..., 3:7]), quaternion_to_matrix(target[..., 3:7])
    )
    rotation = angle.square().mean(dim=-1)
    fov = (pose_enc[..., 7:] - target[..., 7:]).square().sum(dim=-1).mean(dim=-1)
    return tuple(_masked_mean(term, mask) for term in (translation, rotation, fov))


def projection_terms(
    joints_pred: Tensor,
    pose_enc: Tensor,
    batch: HandBatch,
    min_depth_m: float,
    fov_range_rad: tuple[float, float],
) -> tuple[Tensor, Tensor]:
    """Reprojection error of the predicted joints with the predicted cameras, and depth penalty.

    Args:
        joints_pred: [B, 21, 3] predicted joints in camera 0's frame, metres.
        pose_enc: [B, S, 9] predicted camera encodings.
        batch: the 2-D labels [B, S, 21, 2] (crop pixels) and their per-view validity.
        min_depth_m: depth floor of the perspective division.
        fov_range_rad: (min, max) the predicted fields of view are clamped to.

    Returns:
        ``proj_2d``: mean squared 2-D error in crop-side units over the valid (sample, view,
        joint) entries, before the single/multi-view weight; ``depth``: mean over every
        (sample, view, joint) of max(0, -z)^2 (m^2).
    """
    height, width = (int(size) for size in batch.images.shape[-2:])
    fov = pose_enc[..., 7:].clamp(*fov_range_rad)
    cam_from_ref, intrinsics = pose_encoding_to_extrinsics_intrinsics(
        torch.cat([pose_enc[..., :7], fov], dim=-1), (height, width)
    )
    points_cam = transform_points(cam_from_ref, joints_pred[:, None])
    depth = points_cam[..., 2]
    normalized = points_cam[..., :2] / depth.clamp_min(min_depth_m)[..., None]
    uv = torch.einsum("bsjk,bsik->bsji", normalized, intrinsics[..., :2, :2])
    uv = uv + intrinsics[:, :, None, :2, 2]
    error = ((uv - batch.joints_2d) / max(height, width)).square().sum(dim=-1)
    valid = batch.has_joints_2d[..., None].expand_as(error)
    proj_2d = _masked_mean(error.reshape(-1), valid.reshape(-1))
    depth_penalty = torch.relu(-depth).square().mean()
    return proj_2d, depth_penalty


def hggt_loss(
    output: HGGTOutput, batch: HandBatch, mano: ManoLayer, weights: LossWeights | None = None
) -> LossOutput:
    """The full training objective of one batch (see the module docstring).

    Args:
        output: the model's prediction, with per-iteration hand parameters and encodings.
        batch: the labels; every sample has the same view count S.
        mano: the right-hand MANO layer the predictions are decoded with
            (``flat_hand_mean=False``, the dataset's fingertip convention).
        weights: loss weights; defaults to the paper's.

    Returns:
        The total loss and its terms.
    """
    w = weights if weights is not None else LossWeights()
    iterations = len(output.hand_params_per_iteration)
    stages = stage_weights(iterations, w.gamma)
    target = camera_targets(batch)
    zero = output.hand_pose.new_zeros(())
    hand_total, camera_total = zero, zero
    joints_pred = zero
    last_hand: tuple[Tensor, ...] = ()
    last_cam: tuple[Tensor, ...] = ()
    for stage, params, pose_enc in zip(
        stages, output.hand_params_per_iteration, output.pose_enc_per_iteration, strict=True
    ):
        joints_pred = mano.forward_theta(params.hand_pose, params.betas, params.transl).joints
        last_hand = hand_terms(params, joints_pred, batch)
        last_cam = camera_terms(pose_enc, target, batch)
        hand = w.pose * last_hand[0] + w.shape * last_hand[1] + w.joints_3d * last_hand[2]
        camera = sum(last_cam, zero)
        hand_total = hand_total + stage * hand
        camera_total = camera_total + stage * camera
    proj_2d, depth = projection_terms(
        joints_pred, output.pose_enc, batch, w.min_depth_m, w.fov_range_rad
    )
    view_weight = w.proj_multi_view if batch.images.shape[1] > 1 else w.proj_single_view
    projection = view_weight * proj_2d + w.negative_depth * depth
    total = w.hand * hand_total + w.camera * camera_total + w.projection * projection
    names = ("hand_pose", "hand_shape", "hand_joints", "cam_translation", "cam_rotation")
    terms = dict(zip(names, (*last_hand, *last_cam[:2]), strict=True))
    terms.update(
        cam_fov=last_cam[2],
        hand=hand_total,
        camera=camera_total,
        proj_2d=proj_2d,
        proj_depth=depth,
        projection=projection,
        total=total,
    )
    return LossOutput(total, {name: value.detach() for name, value in terms.items()})
