# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The least-squares objective of the MANO fit: cost, and its Gauss-Newton normal equations.

cost(x) = sum_j w_j rho(||joint_j(x) - target_j||)                       3-D joints
        + sum_views sum_j v_j rho(s ||project(joint_j(x)) - uv_j||)       2-D landmarks
        + x^T P x                                                       pose, twist, shape priors
        + w_h sum_k min(0, flexion_k + margin)^2                          hyperextension

rho is Huber's loss (quadratic up to the robust scale, then linear, applied to each joint's
residual norm); s converts pixels to metres at the hand's depth in that view, so both data
terms share units. The normal equations are those of cost / 2 (H = J^T W J + ..., g = J^T W r
+ ...), with W the iteratively reweighted Huber weights.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hggt_core.mano.fit_kinematics import (
    BETAS,
    NUM_PARAMS,
    THETA,
    FloatArray,
    HandAxes,
    ManoJointModel,
    PosedJoints,
)

_LOG = logging.getLogger(__name__)
_MIN_DEPTH_M = 1e-3
_FINGERS = slice(3, 48)


@dataclass(frozen=True)
class ObjectiveWeights:
    """The weights of the cost terms (see :class:`hggt_core.mano.fit.ManoFitConfig`)."""

    shape: float
    """Weight of ||betas||^2."""
    pose: float
    """Weight of ||finger offsets||^2."""
    twist: float
    """Extra weight of the offsets' twist components, squared."""
    hyperextension: float
    """Weight of squared flexion below -margin (non-thumb joints)."""
    hyperextension_margin_rad: float
    """Backward bend allowed without cost."""
    reprojection: float
    """Weight of the 2-D term relative to the 3-D term."""
    robust_scale_m: float
    """Huber scale of a joint's residual norm."""


@dataclass(frozen=True)
class ViewTerm:
    """One view's 2-D data, ready for the objective."""

    projection: FloatArray
    """[3, 4] K [R | t]: reference-frame points to homogeneous pixels."""
    uv: FloatArray
    """[21, 2] observed landmarks, pixels (zero where the weight is zero)."""
    weights: FloatArray
    """[21] confidence times the 2-D term weight."""
    metres_per_px: float
    """Hand depth / focal length: pixels -> metres at the hand."""


@dataclass(frozen=True)
class Evaluation:
    """The objective at one parameter vector."""

    params: FloatArray
    """[61] the parameters."""
    cost: float
    """Total cost (m^2 units)."""
    posed: PosedJoints
    """The posed joints."""


def _huber(norms: FloatArray, scale: float) -> tuple[FloatArray, FloatArray]:
    """Huber loss of residual norms and its IRLS weights (rho'(n) / 2n)."""
    inside = norms <= scale
    loss = np.where(inside, norms * norms, 2.0 * scale * norms - scale * scale)
    return loss, np.where(inside, 1.0, scale / np.maximum(norms, 1e-300))


class FitObjective:
    """Cost and normal equations of one fit problem.

    Args:
        model: the joints-only MANO.
        axes: the model's anatomical axes.
        weights: the term weights.
        targets: [21, 3] target joints (OpenPose order, metres; zero where missing).
        confidence: [21] weight per target joint (0 = missing).
        views: 2-D observations (possibly none).
    """

    def __init__(
        self,
        model: ManoJointModel,
        axes: HandAxes,
        weights: ObjectiveWeights,
        targets: FloatArray,
        confidence: FloatArray,
        views: Sequence[ViewTerm],
    ) -> None:
        """Precompute the constant prior Hessian (arguments: see the class)."""
        self.model = model
        self.weights = weights
        self.targets = targets
        self.confidence = confidence
        self.views = tuple(views)
        # Sum of the data terms' weights (3-D joints and 2-D landmarks).
        self.data_weight = float(confidence.sum() + sum(view.weights.sum() for view in views))
        self.prior = np.zeros((NUM_PARAMS, NUM_PARAMS))
        twist = np.einsum("ki,kj->kij", axes.twist, axes.twist)
        for k in range(axes.twist.shape[0]):
            block = slice(3 + 3 * k, 6 + 3 * k)
            self.prior[block, block] = weights.pose * np.eye(3) + weights.twist * twist[k]
        self.prior[BETAS, BETAS] = weights.shape * np.eye(BETAS.stop - BETAS.start)
        keep = ~axes.is_thumb
        self._flexion_joints = np.nonzero(keep)[0]
        self._flexion = axes.flexion[keep]
        self._mean = model.hand_mean[keep]

    def evaluate(self, params: FloatArray) -> Evaluation:
        """The cost at ``params`` [61]."""
        posed = self.model.pose(params)
        scale = self.weights.robust_scale_m
        norms = np.linalg.norm(posed.points - self.targets, axis=-1)
        cost = float(self.confidence @ _huber(norms, scale)[0])
        for view in self.views:
            error, valid = _reprojection(view, posed.points)
            loss, _ = _huber(np.linalg.norm(error, axis=-1), scale)
            cost += float((view.weights * valid) @ loss)
        cost += float(params @ self.prior @ params)
        violation = self._hyperextension(params)
        cost += self.weights.hyperextension * float(violation @ violation)
        return Evaluation(params, cost, posed)

    def normal_equations(self, at: Evaluation) -> tuple[FloatArray, FloatArray]:
        """Gauss-Newton Hessian [61, 61] and gradient [61] of cost / 2 at an evaluation."""
        jac = self.model.jacobian(at.posed)  # [21, 3, 61]
        scale = self.weights.robust_scale_m
        error = at.posed.points - self.targets
        _, irls = _huber(np.linalg.norm(error, axis=-1), scale)
        root = np.sqrt(self.confidence * irls)
        rows = (jac * root[:, None, None]).reshape(-1, NUM_PARAMS)
        hessian = rows.T @ rows
        gradient = rows.T @ (error * root[:, None]).ravel()
        for view in self.views:
            view_error, valid = _reprojection(view, at.posed.points)
            _, irls = _huber(np.linalg.norm(view_error, axis=-1), scale)
            root = np.sqrt(view.weights * valid * irls)
            d_uv = _projection_jacobian(view, at.posed.points) @ jac
            rows = (d_uv * root[:, None, None]).reshape(-1, NUM_PARAMS)
            hessian += rows.T @ rows
            gradient += rows.T @ (view_error * root[:, None]).ravel()
        hessian += self.prior
        gradient += self.prior @ at.params
        violation = self._hyperextension(at.params)
        active = violation < 0
        axes = self._flexion[active]
        for joint, axis, amount in zip(
            self._flexion_joints[active], axes, violation[active], strict=True
        ):
            block = slice(3 + 3 * joint, 6 + 3 * joint)
            hessian[block, block] += self.weights.hyperextension * np.outer(axis, axis)
            gradient[block] += self.weights.hyperextension * amount * axis
        return hessian, gradient

    def _hyperextension(self, params: FloatArray) -> FloatArray:
        """Per non-thumb finger joint: min(0, flexion + margin), radians."""
        offsets = params[THETA][_FINGERS].reshape(-1, 3)[self._flexion_joints]
        flexion = np.einsum("ki,ki->k", offsets + self._mean, self._flexion)
        return np.asarray(np.minimum(0.0, flexion + self.weights.hyperextension_margin_rad))


def _reprojection(view: ViewTerm, points: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Reprojection error in metres at the hand [21, 2] and in-front mask [21] (0 or 1)."""
    homogeneous = points @ view.projection[:, :3].T + view.projection[:, 3]
    depth = homogeneous[:, 2:]
    valid = depth[:, 0] > _MIN_DEPTH_M
    uv = homogeneous[:, :2] / np.where(valid[:, None], depth, 1.0)
    error = np.where(valid[:, None], uv - view.uv, 0.0) * view.metres_per_px
    return error, valid.astype(np.float64)


def _projection_jacobian(view: ViewTerm, points: FloatArray) -> FloatArray:
    """Jacobian d (metres-scaled pixels) / d point, [21, 2, 3]."""
    homogeneous = points @ view.projection[:, :3].T + view.projection[:, 3]
    inv_depth = 1.0 / np.maximum(homogeneous[:, 2], _MIN_DEPTH_M)
    uv = homogeneous[:, :2] * inv_depth[:, None]
    d_uv = np.zeros((points.shape[0], 2, 3))
    d_uv[:, 0, 0] = d_uv[:, 1, 1] = inv_depth
    d_uv[:, :, 2] = -uv * inv_depth[:, None]
    return view.metres_per_px * d_uv @ view.projection[:, :3]


def make_view_term(
    uv: FloatArray,
    intrinsics: FloatArray,
    cam_from_ref: FloatArray,
    weights: FloatArray,
    targets: FloatArray,
    confidence: FloatArray,
    term_weight: float,
) -> ViewTerm | None:
    """Prepare one view; None when the target hand is not in front of the camera.

    Args:
        uv: [21, 2] landmarks, pixels (OpenPose order).
        intrinsics: [3, 3] K.
        cam_from_ref: [4, 4] reference frame -> camera.
        weights: [21] landmark confidence (0 = missing).
        targets: [21, 3] 3-D targets (reference frame, metres), for the hand's depth.
        confidence: [21] 3-D target weights.
        term_weight: the 2-D term's weight.
    """
    in_camera = targets @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
    depth = float(np.median(in_camera[confidence > 0, 2]))
    if depth <= _MIN_DEPTH_M:
        _LOG.debug("2-D term of a view skipped: the hand is %.3f m in front of it", depth)
        return None
    focal = float(np.sqrt(abs(intrinsics[0, 0] * intrinsics[1, 1])))
    return ViewTerm(
        projection=intrinsics @ cam_from_ref[:3],
        uv=np.where(weights[:, None] > 0, uv, 0.0),
        weights=term_weight * weights,
        metres_per_px=depth / focal,
    )
