# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The interface every inference engine implements (docs/DESIGN.md, decision 10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Float32Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class RawPrediction:
    """The network's outputs for one hand seen in S crops (no batch axis).

    Attributes:
        hand_pose: [48] MANO axis-angle pose of the (right) hand in crop-0's camera frame.
        betas: [10] MANO shape.
        transl: [3] MANO translation, metres, crop-0's camera frame.
        pose_enc: [S, 9] camera encodings [T, quat XYZW, fov_h, fov_w] of cam_from_cam0,
            fields of view relative to the square crops.
    """

    hand_pose: Float32Array
    betas: Float32Array
    transl: Float32Array
    pose_enc: Float32Array


class Engine(Protocol):
    """Runs HGGT on the crops of one hand.

    Attributes:
        name: engine kind ("torch", "onnx", "tensorrt").
        device: where it runs, e.g. "cpu" or "cuda:0".
        crop_size: the square input side in pixels the engine expects (multiple of 14).
    """

    name: str
    device: str
    crop_size: int

    def run(self, crops: Float32Array) -> RawPrediction:
        """Predict from [S, 3, crop_size, crop_size] float32 RGB crops in [0, 1]."""
        ...
