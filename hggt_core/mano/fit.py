# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Fit MANO to 21 3-D joints (and optionally 2-D landmarks in calibrated views), fast.

The result has the HGGT network's parameterisation: theta [48] (global orientation + the 15
finger rotations as offsets from MANO's mean pose, i.e. a layer with ``flat_hand_mean=False``,
``use_pca=False``), betas [10] and transl [3] (metres), in the frame of the target joints.

Method: an analytic initialisation (:mod:`hggt_core.mano.ik`: betas from bone lengths, the
palm by Kabsch, each finger bone swung onto its target), or the previous frame's fit when that
explains the targets better, then a fixed small budget of Levenberg-Marquardt iterations on
all 61 parameters with the analytic Jacobian of a joints-only MANO
(:mod:`hggt_core.mano.fit_kinematics`) and the cost of :mod:`hggt_core.mano.fit_objective`
(Huber-robust 3-D and 2-D terms, shape / pose / twist / hyperextension priors). The mesh is
computed once, at the end, by the layer itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from hggt_core.base.hand_skeleton import (
    NUM_JOINTS,
    NUM_JOINTS_WITH_TIPS,
    OPENPOSE_FROM_MANO,
    OPENPOSE_PARENTS,
)
from hggt_core.mano.fit_kinematics import (
    BETAS,
    NUM_PARAMS,
    THETA,
    TRANSL,
    FloatArray,
    ManoJointModel,
    hand_axes,
)
from hggt_core.mano.fit_objective import (
    Evaluation,
    FitObjective,
    ObjectiveWeights,
    ViewTerm,
    make_view_term,
)
from hggt_core.mano.ik import estimate_betas, initial_params
from hggt_core.mano.layer import ManoLayer

_ROTATION_SOURCE = tuple(
    OPENPOSE_FROM_MANO[joint if OPENPOSE_FROM_MANO[joint] < NUM_JOINTS else parent]
    for joint, parent in enumerate(OPENPOSE_PARENTS)
)
_MIN_JOINTS = 3
_MAX_RETRIES = 4
_STEP_TOLERANCE = 1e-7
_COST_TOLERANCE = 1e-3
_RIDGE = 1e-12


@dataclass(frozen=True)
class ManoFitConfig:
    """Settings of :class:`ManoFitter`. Cost weights are relative to squared joint errors (m^2)."""

    cold_iterations: int = 8
    """Levenberg-Marquardt iterations (Jacobian evaluations) at most, without a previous fit."""
    warm_iterations: int = 3
    """Iterations at most when warm-started from the previous frame's fit."""
    shape_prior_weight: float = 1e-5
    """Weight of ||betas||^2: one unit of beta costs as much as a 3.2 mm joint error."""
    pose_prior_weight: float = 1e-6
    """Weight of ||finger offsets||^2 (rad^2): 1 rad costs as much as a 1 mm joint error."""
    twist_prior_weight: float = 1e-4
    """Extra weight of the offsets' twist about each bone (barely visible in joints): 1 rad
    costs as much as 10 mm."""
    hyperextension_weight: float = 1e-2
    """Weight of squared backward bending beyond the margin (non-thumb finger joints)."""
    hyperextension_margin_rad: float = 0.3
    """Backward bend of a finger joint that costs nothing (knuckles do hyperextend a little)."""
    reprojection_weight: float = 1.0
    """Weight of the 2-D term (pixel errors scaled to metres at the hand) vs the 3-D term."""
    robust_scale_m: float = 0.01
    """Huber scale of a joint's residual norm: larger errors count linearly (outliers)."""
    initial_damping: float = 1e-4
    """Initial Levenberg-Marquardt damping (times the Hessian's diagonal)."""

    def __post_init__(self) -> None:
        if self.cold_iterations < 1 or self.warm_iterations < 1:
            raise ValueError(
                f"iterations must be >= 1, got cold_iterations={self.cold_iterations}, "
                f"warm_iterations={self.warm_iterations}"
            )
        for name in ("shape_prior_weight", "pose_prior_weight", "twist_prior_weight",
                     "hyperextension_weight", "hyperextension_margin_rad",
                     "reprojection_weight"):  # fmt: skip
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.robust_scale_m > 0 or not self.initial_damping > 0:
            raise ValueError(
                f"robust_scale_m and initial_damping must be > 0, got {self.robust_scale_m}, "
                f"{self.initial_damping}"
            )

    def objective_weights(self) -> ObjectiveWeights:
        """The cost-term weights, in the form the objective takes them."""
        return ObjectiveWeights(
            shape=self.shape_prior_weight,
            pose=self.pose_prior_weight,
            twist=self.twist_prior_weight,
            hyperextension=self.hyperextension_weight,
            hyperextension_margin_rad=self.hyperextension_margin_rad,
            reprojection=self.reprojection_weight,
            robust_scale_m=self.robust_scale_m,
        )


@dataclass(frozen=True)
class ProjectedView:
    """2-D landmarks in one calibrated view, for the fit's reprojection term.

    Raises:
        ValueError: on a wrong shape, or a non-finite value where it is used.
    """

    uv: FloatArray
    """[21, 2] landmarks in pixels, OpenPose order (may be NaN where the weight is 0)."""
    intrinsics: FloatArray
    """[3, 3] camera matrix K (pixels)."""
    cam_from_ref: FloatArray
    """[4, 4] rigid transform from the reference frame (the targets') to this camera."""
    weights: FloatArray
    """[21] confidence per landmark, >= 0 (0 = not used)."""

    def __post_init__(self) -> None:
        weights = _checked("ProjectedView.weights", self.weights, (NUM_JOINTS_WITH_TIPS,))
        if np.any(weights < 0):
            raise ValueError("ProjectedView.weights: must be >= 0")
        _checked("ProjectedView.intrinsics", self.intrinsics, (3, 3))
        _checked("ProjectedView.cam_from_ref", self.cam_from_ref, (4, 4))
        _checked("ProjectedView.uv", self.uv, (NUM_JOINTS_WITH_TIPS, 2), weights > 0)


@dataclass(frozen=True)
class ManoFit:
    """A fitted MANO hand, in the targets' frame."""

    hand_pose: FloatArray
    """[48] theta: global orientation (3) + 15 finger offsets from the mean pose, axis-angle."""
    betas: FloatArray
    """[10] shape coefficients."""
    transl: FloatArray
    """[3] translation, metres."""
    joints: FloatArray
    """[21, 3] the layer's joints, OpenPose order, metres."""
    vertices: FloatArray
    """[778, 3] mesh vertices, metres."""
    joint_rotations: FloatArray
    """[21, 3, 3] global rotation per OpenPose joint (a fingertip takes its parent's)."""
    residual_m: float
    """RMS over the joints with positive weight of ||fitted - target||, metres."""
    iterations: int
    """Levenberg-Marquardt iterations run (<= the configured budget)."""


class ManoFitter:
    """Fits one hand's MANO layer to target joints.

    Args:
        layer: the MANO layer of the hand's side (``use_pca=False``; right, or a left model,
            the mirror image of the right).
        config: settings; defaults when None.

    Raises:
        ValueError: if the layer uses PCA pose coefficients.
    """

    def __init__(self, layer: ManoLayer, config: ManoFitConfig | None = None) -> None:
        """Copy the layer's arrays into the joints-only model (arguments: see the class)."""
        self.layer = layer
        self.config = config if config is not None else ManoFitConfig()
        self.model = ManoJointModel(layer)
        self.axes = hand_axes(self.model)
        self._mano_from_openpose = np.argsort(self.model.openpose_order)

    def fit(
        self,
        joints: FloatArray,
        weights: FloatArray | None = None,
        previous: ManoFit | None = None,
        views: Sequence[ProjectedView] | None = None,
    ) -> ManoFit:
        """Fit the hand.

        Args:
            joints: [21, 3] target joints, OpenPose order, metres (may be NaN where the weight
                is 0).
            weights: [21] confidence per joint, >= 0, at least 3 positive; all ones if None.
            previous: the previous frame's fit of this hand, to warm-start from (fewer
                iterations); None for a cold start.
            views: calibrated 2-D landmarks (``cam_from_ref`` maps the targets' frame into each
                camera) adding a reprojection term; None or empty for 3-D only.

        Returns:
            The fitted hand.

        Raises:
            ValueError: on a wrong shape, non-finite values, negative or too few weights.
        """
        confidence = _checked_weights(weights)
        targets = _checked("joints", joints, (NUM_JOINTS_WITH_TIPS, 3), confidence > 0)
        targets = np.where(confidence[:, None] > 0, targets, 0.0)
        objective = FitObjective(
            self.model,
            self.axes,
            self.config.objective_weights(),
            targets,
            confidence,
            self._view_terms(views or (), targets, confidence),
        )
        start = self._start(objective, previous)
        budget = self.config.cold_iterations if previous is None else self.config.warm_iterations
        result, iterations = self._solve(objective, start, budget)
        return self._result(result.params, targets, confidence, iterations)

    def _view_terms(
        self, views: Sequence[ProjectedView], targets: FloatArray, confidence: FloatArray
    ) -> list[ViewTerm]:
        terms = []
        for index, view in enumerate(views):
            if not isinstance(view, ProjectedView):
                raise ValueError(f"views[{index}]: expected a ProjectedView, got {type(view)}")
            uv, intrinsics, cam_from_ref, view_weights = (
                np.asarray(a, dtype=np.float64)
                for a in (view.uv, view.intrinsics, view.cam_from_ref, view.weights)
            )
            term = make_view_term(
                uv, intrinsics, cam_from_ref, view_weights, targets, confidence,
                self.config.reprojection_weight,
            )  # fmt: skip
            if term is not None:
                terms.append(term)
        return terms

    def _start(self, objective: FitObjective, previous: ManoFit | None) -> Evaluation:
        """The previous fit if it still explains the targets, else the better of it and the IK."""
        points = objective.targets[self._mano_from_openpose]
        point_weights = objective.confidence[self._mano_from_openpose]
        if previous is None:
            betas = estimate_betas(
                self.model, points, point_weights, self.config.shape_prior_weight
            )
            return objective.evaluate(initial_params(self.model, points, point_weights, betas))
        betas = _checked("previous.betas", previous.betas, (BETAS.stop - BETAS.start,))
        params = np.concatenate(
            [
                _checked("previous.hand_pose", previous.hand_pose, (THETA.stop,)),
                betas,
                _checked("previous.transl", previous.transl, (3,)),
            ]
        )
        warm = objective.evaluate(params)
        # Cost per unit of data weight below the robust scale squared: the hand has not jumped.
        if warm.cost < objective.data_weight * self.config.robust_scale_m**2:
            return warm
        cold = objective.evaluate(initial_params(self.model, points, point_weights, betas))
        return min((warm, cold), key=lambda candidate: candidate.cost)

    def _solve(
        self, objective: FitObjective, start: Evaluation, budget: int
    ) -> tuple[Evaluation, int]:
        """Levenberg-Marquardt from ``start``: at most ``budget`` Jacobian evaluations."""
        current = start
        damping = self.config.initial_damping
        for iteration in range(1, budget + 1):
            hessian, gradient = objective.normal_equations(current)
            scale = np.diag(np.diag(hessian)) + _RIDGE * np.eye(NUM_PARAMS)
            for _ in range(_MAX_RETRIES):
                step = np.linalg.solve(hessian + damping * scale, -gradient)
                trial = objective.evaluate(current.params + step)
                if trial.cost < current.cost:
                    break
                damping *= 10.0
            else:
                return current, iteration
            converged = current.cost - trial.cost < _COST_TOLERANCE * trial.cost
            current = trial
            damping = max(damping / 10.0, 1e-12)
            if converged or np.max(np.abs(step)) < _STEP_TOLERANCE:
                return current, iteration
        return current, budget

    def _result(
        self, params: FloatArray, targets: FloatArray, confidence: FloatArray, iterations: int
    ) -> ManoFit:
        like = self.layer.v_template
        with torch.inference_mode():
            output = self.layer.forward_theta(
                torch.from_numpy(params[None, THETA]).to(like),
                torch.from_numpy(params[None, BETAS]).to(like),
                torch.from_numpy(params[None, TRANSL]).to(like),
            )
        joints = _numpy(output.joints[0])
        used = confidence > 0
        residual = np.linalg.norm(joints[used] - targets[used], axis=-1)
        return ManoFit(
            hand_pose=params[THETA].copy(),
            betas=params[BETAS].copy(),
            transl=params[TRANSL].copy(),
            joints=joints,
            vertices=_numpy(output.vertices[0]),
            joint_rotations=_numpy(output.global_rotations[0])[list(_ROTATION_SOURCE)],
            residual_m=float(np.sqrt(np.mean(residual * residual))),
            iterations=iterations,
        )


def _numpy(tensor: torch.Tensor) -> FloatArray:
    return np.asarray(tensor.detach().cpu().numpy(), dtype=np.float64)


def _checked(
    name: str, value: object, shape: tuple[int, ...], used: np.ndarray | None = None
) -> FloatArray:
    """``value`` as a float64 array of ``shape``, finite wherever ``used`` (a row mask)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers of shape {list(shape)}") from None
    if array.shape != shape:
        raise ValueError(f"{name}: expected shape {list(shape)}, got {list(array.shape)}")
    finite = np.isfinite(array).reshape(shape[0], -1).all(axis=1)
    bad = ~finite if used is None else ~finite & used
    if np.any(bad):
        raise ValueError(f"{name}: NaN or inf at rows {np.nonzero(bad)[0].tolist()}")
    return array


def _checked_weights(weights: FloatArray | None) -> FloatArray:
    if weights is None:
        return np.ones(NUM_JOINTS_WITH_TIPS)
    confidence = _checked("weights", weights, (NUM_JOINTS_WITH_TIPS,))
    if np.any(confidence < 0):
        raise ValueError("weights: must be >= 0")
    if np.count_nonzero(confidence) < _MIN_JOINTS:
        raise ValueError(f"weights: at least {_MIN_JOINTS} joints need a positive weight")
    return confidence
