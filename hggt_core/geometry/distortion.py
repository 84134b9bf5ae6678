# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Lens distortion of ``sensor_msgs/CameraInfo``: applied and undone (numpy, float64).

The three models of ROS's ``distortion_models`` act on *normalized* coordinates
``(x, y) = (X / Z, Y / Z)`` of a camera-frame point, as OpenCV defines them:

* ``plumb_bob`` (D = k1 k2 p1 p2 k3) and ``rational_polynomial`` (D = k1 k2 p1 p2 k3 k4 k5
  k6), with ``r^2 = x^2 + y^2``::

      radial = (1 + k1 r^2 + k2 r^4 + k3 r^6) / (1 + k4 r^2 + k5 r^4 + k6 r^6)
      x_d = x radial + 2 p1 x y + p2 (r^2 + 2 x^2)
      y_d = y radial + p1 (r^2 + 2 y^2) + 2 p2 x y

* ``equidistant`` (D = k1 k2 k3 k4), OpenCV's fisheye model, with ``theta = atan(r)``::

      theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)
      (x_d, y_d) = (theta_d / r) (x, y)

Pixels: ``u = fx x + s y + cx``, ``v = fy y + cy`` with the view's K. Distortion acts on
normalized coordinates, so it does not care where pixel centres lie: a K with this project's
+0.5 principal point (:mod:`hggt_core.io.camera_info`) and pixels in the same convention give
the same points as OpenCV's K and pixels, both shifted by 0.5.

Undoing the distortion has no closed form; :func:`undistort_normalized` runs Newton's method
from the distorted point (quadratic convergence: a few iterations reach 1e-12 in normalized
coordinates, about 1e-9 pixels, for any point of a calibrated image). A polynomial model folds
back beyond some radius (e.g. k1 < 0 alone, :func:`valid_radius`), where distorted points
have no pinhole point or two; an undistorted point is only accepted inside that radius, where
the model preserves orientation (positive Jacobian determinant), and when it matches to 1e-9;
otherwise it is NaN.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

DISTORTION_MODELS: Mapping[str, int] = {
    "plumb_bob": 5,
    "rational_polynomial": 8,
    "equidistant": 4,
}
"""ROS distortion model name -> number of coefficients in ``CameraInfo.d``."""

_STOP = 1e-12
"""Newton stops once every residual is below this (normalized units)."""
_ACCEPT = 1e-9
"""An undistorted point whose distortion misses its target by more than this is NaN."""


@dataclass(frozen=True)
class LensDistortion:
    """A lens distortion model and its coefficients, as ``sensor_msgs/CameraInfo`` gives them.

    Attributes:
        model: ``"plumb_bob"``, ``"rational_polynomial"`` or ``"equidistant"``.
        coefficients: ``CameraInfo.d`` in its order (module docstring), finite floats.
    """

    model: str
    coefficients: tuple[float, ...]

    def __post_init__(self) -> None:
        count = DISTORTION_MODELS.get(self.model)
        if count is None:
            raise ValueError(
                f"unknown distortion model {self.model!r}; known: {', '.join(DISTORTION_MODELS)}"
            )
        coefficients = tuple(float(value) for value in self.coefficients)
        if len(coefficients) != count:
            raise ValueError(
                f"{self.model} distortion needs {count} coefficients, got {len(coefficients)}"
            )
        if not all(math.isfinite(value) for value in coefficients):
            raise ValueError(f"{self.model} distortion coefficients must be finite: {self}")
        object.__setattr__(self, "coefficients", coefficients)

    @property
    def is_identity(self) -> bool:
        """Whether every coefficient is zero (the lens is a pinhole)."""
        return not any(self.coefficients)


def _brown_coefficients(distortion: LensDistortion) -> tuple[float, ...]:
    """k1 k2 p1 p2 k3 k4 k5 k6 of a plumb_bob or rational_polynomial model."""
    return (*distortion.coefficients, 0.0, 0.0, 0.0)[:8]


def _brown(x: FloatArray, y: FloatArray, c: tuple[float, ...]) -> tuple[FloatArray, FloatArray]:
    k1, k2, p1, p2, k3, k4, k5, k6 = c
    r2 = x * x + y * y
    radial = (1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1.0 + r2 * (k4 + r2 * (k5 + r2 * k6)))
    two_xy = 2.0 * x * y
    return (
        x * radial + p1 * two_xy + p2 * (r2 + 2.0 * x * x),
        y * radial + p1 * (r2 + 2.0 * y * y) + p2 * two_xy,
    )


def _brown_jacobian(
    x: FloatArray, y: FloatArray, c: tuple[float, ...]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(d x_d / d x, d x_d / d y = d y_d / d x, d y_d / d y): the Jacobian is symmetric."""
    k1, k2, p1, p2, k3, k4, k5, k6 = c
    r2 = x * x + y * y
    numerator = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    denominator = 1.0 + r2 * (k4 + r2 * (k5 + r2 * k6))
    d_numerator = k1 + r2 * (2.0 * k2 + 3.0 * k3 * r2)
    d_denominator = k4 + r2 * (2.0 * k5 + 3.0 * k6 * r2)
    radial = numerator / denominator
    d_radial = (d_numerator * denominator - numerator * d_denominator) / denominator**2
    j_xx = radial + 2.0 * x * x * d_radial + 2.0 * p1 * y + 6.0 * p2 * x
    j_xy = 2.0 * x * y * d_radial + 2.0 * p1 * x + 2.0 * p2 * y
    j_yy = radial + 2.0 * y * y * d_radial + 6.0 * p1 * y + 2.0 * p2 * x
    return j_xx, j_xy, j_yy


def _theta_distorted(theta: FloatArray, c: tuple[float, ...]) -> FloatArray:
    k1, k2, k3, k4 = c
    t2 = theta * theta
    return theta * (1.0 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))


def _theta_derivative(theta: FloatArray, c: tuple[float, ...]) -> FloatArray:
    k1, k2, k3, k4 = c
    t2 = theta * theta
    return 1.0 + t2 * (3.0 * k1 + t2 * (5.0 * k2 + t2 * (7.0 * k3 + t2 * 9.0 * k4)))


def _as_points(points: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(points, dtype=np.float64)
    if array.ndim < 1 or array.shape[-1] != 2:
        raise ValueError(f"{name} must be [..., 2], got shape {array.shape}")
    return array


def distort_normalized(xy: npt.ArrayLike, distortion: LensDistortion) -> FloatArray:
    """Apply the lens model to normalized pinhole coordinates.

    Args:
        xy: [..., 2] normalized coordinates (X / Z, Y / Z) of camera-frame points.
        distortion: the lens model.

    Returns:
        [..., 2] distorted normalized coordinates, float64.
    """
    points = _as_points(xy, "xy")
    x, y = points[..., 0], points[..., 1]
    if distortion.model == "equidistant":
        r = np.hypot(x, y)
        theta_d = _theta_distorted(np.arctan(r), distortion.coefficients)
        scale = np.divide(theta_d, r, out=np.ones_like(r), where=r > 0.0)
        return points * scale[..., None]
    x_d, y_d = _brown(x, y, _brown_coefficients(distortion))
    return np.stack([x_d, y_d], axis=-1)


def undistort_normalized(
    xy: npt.ArrayLike, distortion: LensDistortion, iterations: int = 20
) -> FloatArray:
    """Undo the lens model: the pinhole coordinates that distort onto the given ones.

    Newton's method from the distorted point (module docstring); accurate to 1e-9 normalized
    (about 1e-6 pixels at a 1000-pixel focal length) or NaN.

    Args:
        xy: [..., 2] distorted normalized coordinates.
        distortion: the lens model.
        iterations: most Newton steps (>= 1); it stops early once converged.

    Returns:
        [..., 2] pinhole normalized coordinates, float64; NaN for points the model cannot
        produce (beyond its fold, or 90 degrees and more off axis for ``equidistant``).

    Raises:
        ValueError: ``iterations`` below 1, or points not [..., 2].
    """
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    target = _as_points(xy, "xy")
    if distortion.is_identity:
        return target.copy()
    with np.errstate(all="ignore"):
        if distortion.model == "equidistant":
            result = _undistort_equidistant(target, distortion.coefficients, iterations)
        else:
            result = _undistort_brown(target, _brown_coefficients(distortion), iterations)
        # A root beyond the fold is another ray that the lens would also show there.
        result[np.hypot(result[..., 0], result[..., 1]) > valid_radius(distortion)] = np.nan
    return result


def _undistort_brown(target: FloatArray, c: tuple[float, ...], iterations: int) -> FloatArray:
    x_t, y_t = target[..., 0], target[..., 1]
    x, y = x_t.copy(), y_t.copy()
    for _ in range(iterations):
        x_d, y_d = _brown(x, y, c)
        r_x, r_y = x_d - x_t, y_d - y_t
        if not np.any(np.abs(r_x) > _STOP) and not np.any(np.abs(r_y) > _STOP):
            break
        j_xx, j_xy, j_yy = _brown_jacobian(x, y, c)
        det = j_xx * j_yy - j_xy * j_xy
        x = x - (j_yy * r_x - j_xy * r_y) / det
        y = y - (j_xx * r_y - j_xy * r_x) / det
    x_d, y_d = _brown(x, y, c)
    j_xx, j_xy, j_yy = _brown_jacobian(x, y, c)
    good = (np.hypot(x_d - x_t, y_d - y_t) <= _ACCEPT) & (j_xx * j_yy - j_xy * j_xy > 0.0)
    result = np.stack([x, y], axis=-1)
    result[~good] = np.nan
    return result


def _undistort_equidistant(
    target: FloatArray, c: tuple[float, ...], iterations: int
) -> FloatArray:
    theta_d = np.hypot(target[..., 0], target[..., 1])
    theta = theta_d.copy()
    for _ in range(iterations):
        residual = _theta_distorted(theta, c) - theta_d
        if not np.any(np.abs(residual) > _STOP):
            break
        theta = theta - residual / _theta_derivative(theta, c)
    good = (
        (np.abs(_theta_distorted(theta, c) - theta_d) <= _ACCEPT)
        & (_theta_derivative(theta, c) > 0.0)
        & (theta >= 0.0)
        & (theta < 0.5 * math.pi)
    )
    scale = np.divide(np.tan(theta), theta_d, out=np.ones_like(theta_d), where=theta_d > 0.0)
    result = target * scale[..., None]
    result[~good] = np.nan
    return result


def _check_intrinsics(intrinsics: npt.ArrayLike) -> FloatArray:
    matrix = np.asarray(intrinsics, dtype=np.float64)
    if matrix.shape != (3, 3):
        raise ValueError(f"intrinsics must be [3, 3], got shape {matrix.shape}")
    return matrix


def pixels_to_normalized(uv: npt.ArrayLike, intrinsics: npt.ArrayLike) -> FloatArray:
    """Pixels -> normalized coordinates through K (no distortion): ``[x, y, 1] = K^-1 [u, v, 1]``.

    Args:
        uv: [..., 2] pixels.
        intrinsics: [3, 3] K in the same pixels (skew allowed).

    Returns:
        [..., 2] normalized coordinates.
    """
    k = _check_intrinsics(intrinsics)
    points = _as_points(uv, "uv")
    y = (points[..., 1] - k[1, 2]) / k[1, 1]
    x = (points[..., 0] - k[0, 2] - k[0, 1] * y) / k[0, 0]
    return np.stack([x, y], axis=-1)


def normalized_to_pixels(xy: npt.ArrayLike, intrinsics: npt.ArrayLike) -> FloatArray:
    """Normalized coordinates -> pixels through K: ``[u, v, 1] = K [x, y, 1]``.

    Args:
        xy: [..., 2] normalized coordinates.
        intrinsics: [3, 3] K (skew allowed).

    Returns:
        [..., 2] pixels.
    """
    k = _check_intrinsics(intrinsics)
    points = _as_points(xy, "xy")
    x, y = points[..., 0], points[..., 1]
    return np.stack([k[0, 0] * x + k[0, 1] * y + k[0, 2], k[1, 1] * y + k[1, 2]], axis=-1)


def distort_pixels(
    uv: npt.ArrayLike, intrinsics: npt.ArrayLike, distortion: LensDistortion
) -> FloatArray:
    """Ideal pinhole pixels of K -> the raw (distorted) image's pixels of the same camera.

    Args:
        uv: [..., 2] pixels of the undistorted (pinhole) image with intrinsics K.
        intrinsics: [3, 3] K of the raw image.
        distortion: the lens model.

    Returns:
        [..., 2] raw-image pixels, float64.
    """
    if distortion.is_identity:
        return _as_points(uv, "uv").copy()
    xy = pixels_to_normalized(uv, intrinsics)
    return normalized_to_pixels(distort_normalized(xy, distortion), intrinsics)


def undistort_pixels(
    uv: npt.ArrayLike,
    intrinsics: npt.ArrayLike,
    distortion: LensDistortion,
    iterations: int = 20,
) -> FloatArray:
    """Raw (distorted) image pixels -> ideal pinhole pixels of the same K.

    Args:
        uv: [..., 2] raw-image pixels.
        intrinsics: [3, 3] K of the raw image.
        distortion: the lens model.
        iterations: most Newton steps (:func:`undistort_normalized`).

    Returns:
        [..., 2] pinhole pixels, float64; NaN where the model cannot be undone.
    """
    if distortion.is_identity:
        return _as_points(uv, "uv").copy()
    xy = pixels_to_normalized(uv, intrinsics)
    return normalized_to_pixels(undistort_normalized(xy, distortion, iterations), intrinsics)


def valid_radius(distortion: LensDistortion) -> float:
    """The normalized radius within which the model's radial part is one-to-one.

    Beyond it the polynomial folds back (the distorted radius decreases), so pinhole points
    there would land on image points that belong to other rays; samplers should treat them as
    outside the image. Tangential terms are ignored (they are small). Found on a grid of
    angles off axis (0.05 degree steps up to 89.95 degrees).

    Returns:
        ``tan`` of the largest angle off axis where the distorted radius still increases
        (``inf`` when it increases up to 89.95 degrees).
    """
    return _valid_radius(distortion)


@functools.lru_cache(maxsize=64)
def _valid_radius(distortion: LensDistortion) -> float:
    angles = np.radians(np.arange(1, 1800) * 0.05)
    radii = np.tan(angles)
    if distortion.model == "equidistant":
        distorted = _theta_distorted(angles, distortion.coefficients)
    else:
        k1, k2, _, _, k3, k4, k5, k6 = _brown_coefficients(distortion)
        zeros = (0.0, 0.0)
        distorted, _ = _brown(radii, np.zeros_like(radii), (k1, k2, *zeros, k3, k4, k5, k6))
    falling = np.flatnonzero(np.diff(distorted) <= 0.0)
    return float(radii[falling[0]]) if falling.size else math.inf
