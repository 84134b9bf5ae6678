# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Average the estimated pose of a fixed camera over a window and tell when it has converged.

The node publishes estimated cameras on ``/tf`` every frameset. When the user declares the
cameras fixed, a steady estimate is worth publishing once on ``/tf_static``: this module keeps
the last ``window`` poses of each camera (``ref_from_cam``: the camera's pose in the reference
camera frame, metres) and averages them:

* translation: the arithmetic mean;
* rotation: the quaternion mean of Markley et al. (2007), the eigenvector of the largest
  eigenvalue of ``sum q q^T``, which is insensitive to the sign ambiguity ``q ~ -q`` and is the
  rotation minimising the summed squared chordal distances to the samples.

An average is *converged* when the window is full and every sample lies within
``max_translation_spread_m`` of the mean translation and within ``max_rotation_spread_rad``
(geodesic angle) of the mean rotation. Quaternions are (x, y, z, w), unit length, w >= 0.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hggt_core.pipeline.types import FloatArray


@dataclass(frozen=True)
class AverageConfig:
    """Settings of :class:`CameraPoseAverager`.

    Attributes:
        window: samples averaged per camera (the newest ones), >= 1.
        max_translation_spread_m: largest distance of a sample from the mean translation
            for convergence (metres), >= 0.
        max_rotation_spread_rad: largest angle between a sample and the mean rotation for
            convergence (radians), >= 0.
    """

    window: int = 30
    max_translation_spread_m: float = 0.01
    max_rotation_spread_rad: float = math.radians(2.0)

    def __post_init__(self) -> None:
        """Reject out-of-range settings with a ValueError naming the field."""
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
            raise ValueError(f"AverageConfig.window must be an int >= 1, got {self.window!r}")
        for name in ("max_translation_spread_m", "max_rotation_spread_rad"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value >= 0):
                raise ValueError(f"AverageConfig.{name} must be a number >= 0, got {value!r}")


@dataclass(frozen=True)
class AveragedPose:
    """The average pose of one camera over its window.

    Attributes:
        translation: [3] mean translation (metres), reference frame.
        quaternion_xyzw: [4] mean rotation, unit length, w >= 0.
        samples: samples averaged, <= ``window``.
        translation_spread_m: largest distance of a sample from ``translation``.
        rotation_spread_rad: largest angle between a sample and the mean rotation.
        converged: the window is full and both spreads are within the tolerances.
    """

    translation: FloatArray
    quaternion_xyzw: FloatArray
    samples: int
    translation_spread_m: float
    rotation_spread_rad: float
    converged: bool


def mean_quaternion(quaternions_xyzw: npt.ArrayLike) -> FloatArray:
    """Markley's quaternion mean of [N, 4] (x, y, z, w) quaternions (either sign each).

    Returns:
        [4] unit quaternion, w >= 0.

    Raises:
        ValueError: an input that is not [N, 4] with N >= 1.
    """
    q = np.asarray(quaternions_xyzw, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != 4 or q.shape[0] == 0:
        raise ValueError(f"expected [N, 4] quaternions with N >= 1, got {q.shape}")
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    _, vectors = np.linalg.eigh(q.T @ q)
    mean = vectors[:, -1]  # eigh sorts eigenvalues ascending
    return np.asarray(mean if mean[3] >= 0 else -mean, dtype=np.float64)


def quaternion_angles(
    quaternions_xyzw: npt.ArrayLike, reference_xyzw: npt.ArrayLike
) -> FloatArray:
    """Geodesic angles (radians, in [0, pi]) between [N, 4] quaternions and one [4] quaternion."""
    q = np.asarray(quaternions_xyzw, dtype=np.float64)
    r = np.asarray(reference_xyzw, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    r = r / np.linalg.norm(r)
    cosine = np.clip(np.abs(q @ r), 0.0, 1.0)
    return np.asarray(2.0 * np.arccos(cosine), dtype=np.float64)


class CameraPoseAverager:
    """Sliding-window pose averages of named cameras (see the module docstring).

    Args:
        config: settings; the :class:`AverageConfig` defaults when None.
    """

    def __init__(self, config: AverageConfig | None = None) -> None:
        self.config = AverageConfig() if config is None else config
        self._samples: dict[str, deque[FloatArray]] = {}

    def add(
        self, camera: str, translation: npt.ArrayLike, quaternion_xyzw: npt.ArrayLike
    ) -> AveragedPose:
        """Add one pose sample of ``camera`` and return its updated average.

        Args:
            camera: the camera's name (e.g. its TF child frame id).
            translation: [3] camera position in the reference frame (metres).
            quaternion_xyzw: [4] camera orientation in the reference frame (either sign).

        Raises:
            ValueError: wrong shapes or non-finite values.
        """
        t = np.asarray(translation, dtype=np.float64).reshape(-1)
        q = np.asarray(quaternion_xyzw, dtype=np.float64).reshape(-1)
        if t.shape != (3,) or q.shape != (4,):
            raise ValueError(
                f"expected a [3] translation and a [4] quaternion, got {t.shape}, {q.shape}"
            )
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(q)) and np.linalg.norm(q) > 0):
            raise ValueError(f"non-finite or zero pose sample for camera {camera!r}")
        window = self._samples.setdefault(camera, deque(maxlen=self.config.window))
        window.append(np.concatenate([t, q / np.linalg.norm(q)]))
        average = self.average(camera)
        assert average is not None  # a sample was just added
        return average

    def average(self, camera: str) -> AveragedPose | None:
        """The current average of ``camera``, or None when it has no samples."""
        window = self._samples.get(camera)
        if not window:
            return None
        samples = np.stack(list(window))
        translation = samples[:, :3].mean(axis=0)
        quaternion = mean_quaternion(samples[:, 3:])
        translation_spread = float(np.max(np.linalg.norm(samples[:, :3] - translation, axis=1)))
        rotation_spread = float(np.max(quaternion_angles(samples[:, 3:], quaternion)))
        converged = (
            len(window) == self.config.window
            and translation_spread <= self.config.max_translation_spread_m
            and rotation_spread <= self.config.max_rotation_spread_rad
        )
        return AveragedPose(
            translation, quaternion, len(window), translation_spread, rotation_spread, converged
        )

    @property
    def cameras(self) -> tuple[str, ...]:
        """Names of the cameras with samples, in the order they were first added."""
        return tuple(name for name, window in self._samples.items() if window)

    def reset(self, camera: str | None = None) -> None:
        """Forget one camera's samples, or every camera's when ``camera`` is None."""
        if camera is None:
            self._samples.clear()
        else:
            self._samples.pop(camera, None)
