# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The one sample type every dataset reader produces and every loss consumes.

Frames and units follow :mod:`hggt_core.pipeline.types`: 3-D in metres in view 0's camera frame
(OpenCV axes), pixels with the top-left pixel centre at (0.5, 0.5). Hands are always RIGHT hands
here: readers mirror left hands (image flipped, labels mirrored) before building a sample.
Supervision a dataset lacks is marked absent by its ``has_*`` flag (the tensor then holds zeros
and must be ignored by the losses).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class HandSample:
    """S views of one right hand with its labels (tensors, no batch axis).

    Attributes:
        images: [S, 3, H, W] float32 RGB in [0, 1] (the model input crops).
        intrinsics: [S, 3, 3] K of each crop, pixels.
        cam_from_ref: [S, 4, 4] view-0 camera frame -> each camera (view 0 = identity), metres.
        hand_pose: [48] MANO axis-angle (global orientation in view 0's frame first; finger
            values are offsets from the mean pose, ``flat_hand_mean=False``).
        betas: [10] MANO shape.
        transl: [3] MANO translation, metres, view-0 frame.
        joints_3d: [21, 3] OpenPose-ordered joints, metres, view-0 frame.
        joints_2d: [S, 21, 2] joints in each crop, pixels.
        has_mano: the MANO parameters are valid.
        has_joints_3d: the 3-D joints are valid.
        has_joints_2d: [S] per-view validity of the 2-D joints.
        has_cameras: the cameras (intrinsics, cam_from_ref) are valid (multi-view data).
        dataset: the source dataset's name (for per-dataset metrics).
    """

    images: Tensor
    intrinsics: Tensor
    cam_from_ref: Tensor
    hand_pose: Tensor
    betas: Tensor
    transl: Tensor
    joints_3d: Tensor
    joints_2d: Tensor
    has_mano: bool
    has_joints_3d: bool
    has_joints_2d: Tensor
    has_cameras: bool
    dataset: str

    @property
    def num_views(self) -> int:
        """S, the number of views."""
        return int(self.images.shape[0])


@dataclass(frozen=True)
class HandBatch:
    """B samples with the same view count S, stacked (fields as :class:`HandSample` + [B]).

    Attributes mirror :class:`HandSample` with a leading batch axis; the flags become
    [B] bool tensors ([B, S] for ``has_joints_2d``) and ``datasets`` a tuple of names.
    """

    images: Tensor
    intrinsics: Tensor
    cam_from_ref: Tensor
    hand_pose: Tensor
    betas: Tensor
    transl: Tensor
    joints_3d: Tensor
    joints_2d: Tensor
    has_mano: Tensor
    has_joints_3d: Tensor
    has_joints_2d: Tensor
    has_cameras: Tensor
    datasets: tuple[str, ...]

    def to(self, device: torch.device | str) -> HandBatch:
        """The batch with every tensor on ``device``."""
        tensors = {
            field.name: getattr(self, field.name).to(device)
            for field in dataclasses.fields(self)
            if field.name != "datasets"
        }
        return HandBatch(**tensors, datasets=self.datasets)


def collate(samples: Sequence[HandSample]) -> HandBatch:
    """Stack samples of equal view count and crop size into a batch.

    Raises:
        ValueError: empty input, or samples with different view counts or image sizes.
    """
    if not samples:
        raise ValueError("cannot collate an empty list of samples")
    shapes = {tuple(sample.images.shape) for sample in samples}
    if len(shapes) != 1:
        raise ValueError(f"samples of one batch need the same [S, 3, H, W], got {sorted(shapes)}")

    def stack(name: str) -> Tensor:
        return torch.stack([getattr(sample, name) for sample in samples])

    def flags(name: str) -> Tensor:
        return torch.tensor([getattr(sample, name) for sample in samples], dtype=torch.bool)

    return HandBatch(
        images=stack("images"),
        intrinsics=stack("intrinsics"),
        cam_from_ref=stack("cam_from_ref"),
        hand_pose=stack("hand_pose"),
        betas=stack("betas"),
        transl=stack("transl"),
        joints_3d=stack("joints_3d"),
        joints_2d=stack("joints_2d"),
        has_mano=flags("has_mano"),
        has_joints_3d=flags("has_joints_3d"),
        has_joints_2d=stack("has_joints_2d").bool(),
        has_cameras=flags("has_cameras"),
        datasets=tuple(sample.dataset for sample in samples),
    )
