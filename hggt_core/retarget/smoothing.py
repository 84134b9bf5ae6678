# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""First-order low-pass filter of joint targets (dex-retargeting's ``low_pass_alpha``)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class LowPassFilter:
    """``y <- y + alpha (x - y)``: alpha 1 passes values through, smaller alphas smooth more.

    At 30 Hz, alpha 0.5 has a time constant of about 1.4 frames (48 ms).

    Args:
        alpha: smoothing factor in (0, 1].

    Raises:
        ValueError: alpha outside (0, 1].
    """

    def __init__(self, alpha: float) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"low-pass alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self._state: FloatArray | None = None

    def __call__(self, value: FloatArray) -> FloatArray:
        """Filter one sample [J]; the first sample after a reset passes unchanged."""
        current = np.asarray(value, dtype=np.float64)
        if self._state is None or self._state.shape != current.shape:
            self._state = current.copy()
        else:
            self._state = self._state + self.alpha * (current - self._state)
        return self._state.copy()

    def reset(self, value: FloatArray | None = None) -> None:
        """Forget the past; with ``value``, continue from it instead of the next sample."""
        self._state = None if value is None else np.asarray(value, dtype=np.float64).copy()
