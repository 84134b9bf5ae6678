# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""From a dataset record to a training sample: view sampling, re-referencing, mirroring, crops.

Every reader turns its files into a :class:`MultiViewRecord` (full images, cameras and labels
in some reference frame) and calls :func:`build_sample`, which

1. mirrors a left hand into a right hand (images flipped, labels reflected with
   :mod:`hggt_core.pipeline.mirror`);
2. chooses the number of views S and which views (:func:`choose_views`): S is drawn uniformly
   from the dataset's range (:data:`VIEW_RANGES`, the paper's table) capped by the cameras
   available, unless the caller fixes S (the image-budget sampler does). By default the
   subset is a random permutation, so *view 0 is random* (like HGGT/POEM training); with
   ``random_first_view=False`` the record's first camera stays view 0 and the others are
   drawn at random;
3. re-expresses everything in the chosen view 0's camera frame (:func:`rereference`):
   extrinsics ``cam_from_new = cam_from_ref @ ref_from_new``, joints transformed rigidly, and
   the MANO global orientation / translation through
   :func:`hggt_core.render.scene.hand_in_frame`, because MANO rotates about the rest-pose
   root joint. That root is recovered as ``wrist - transl`` (MANO's posed root joint is the
   rest root plus the translation);
4. crops and augments every view (:mod:`training.data.augment`) and stacks the tensors.

2-D joints: a record either stores them (single-view data; full-image pixels) or they are the
projections of the 3-D joints with the record's cameras (multi-view data), so 2-D, 3-D and
cameras always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import torch

from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.pipeline.mirror import mirror_axis_angle, mirror_cam_from_ref, mirror_points
from hggt_core.pipeline.types import FloatArray, ImageArray
from hggt_core.render.scene import hand_in_frame
from training.data.augment import (
    AugmentConfig,
    crop_view,
    flip_image_horizontally,
    photometric,
    random_crop_hw,
)
from training.data.sample import HandSample

VIEW_RANGES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "synthetic": (2, 10),
        "ho3d": (2, 5),
        "dexycb": (2, 8),
        "arctic": (2, 8),
        "interhand": (2, 8),
        "oakink": (2, 4),
    }
)
"""(min, max) views per multi-view sample of each dataset (keys lower-case), as in the paper."""

_NUM_JOINTS = 21
_MIN_DEPTH_M = 1e-4


@dataclass(frozen=True)
class MultiViewRecord:
    """One hand seen by V cameras, as read from a dataset (before sampling and cropping).

    Attributes:
        images: V full images, [Hi, Wi, 3] uint8 RGB each (sizes may differ).
        intrinsics: [V, 3, 3] K of each full image, pixels.
        cam_from_ref: [V, 4, 4] reference frame -> each camera, metres (any reference).
        boxes: [V, 4] (x0, y0, x1, y1) region to crop in each image, context included.
        dataset: the dataset's name.
        hand_pose: [48] MANO pose, reference frame, finger values offset from the mean pose.
        betas: [10] MANO shape.
        transl: [3] MANO translation, reference frame, metres.
        joints_3d: [21, 3] OpenPose joints, reference frame, metres.
        joints_2d: [V, 21, 2] stored 2-D joints in full-image pixels; ``None`` projects the
            3-D joints instead.
        joints_2d_valid: [V] bool validity of stored 2-D joints (``None``: all valid).
        has_cameras: the cameras are real (multi-view calibration), not nominal.
        is_left: the labels and images show a left hand (mirrored by :func:`build_sample`).
    """

    images: tuple[ImageArray, ...]
    intrinsics: FloatArray
    cam_from_ref: FloatArray
    boxes: FloatArray
    dataset: str
    hand_pose: FloatArray | None = None
    betas: FloatArray | None = None
    transl: FloatArray | None = None
    joints_3d: FloatArray | None = None
    joints_2d: FloatArray | None = None
    joints_2d_valid: npt.NDArray[np.bool_] | None = None
    has_cameras: bool = True
    is_left: bool = False

    @property
    def num_views(self) -> int:
        """V, the cameras available."""
        return len(self.images)


def view_range(dataset: str) -> tuple[int, int]:
    """The (min, max) view count of a dataset from :data:`VIEW_RANGES` (case-insensitive).

    Raises:
        KeyError: for a dataset not in the table (pass an explicit range instead).
    """
    key = dataset.lower()
    if key not in VIEW_RANGES:
        raise KeyError(f"no view range for dataset {dataset!r}; known: {sorted(VIEW_RANGES)}")
    return VIEW_RANGES[key]


def choose_views(
    rng: np.random.Generator,
    num_available: int,
    views: tuple[int, int] | int,
    random_first_view: bool = True,
) -> tuple[int, ...]:
    """Pick the views of a sample.

    Args:
        rng: the random source.
        num_available: V, the cameras of the record.
        views: an exact count S, or a (min, max) range: S ~ U{min .. min(max, V)}.
        random_first_view: draw view 0 at random too; otherwise the record's view 0 stays.

    Returns:
        S distinct indices into the record's views, the new view 0 first.

    Raises:
        ValueError: if fewer than the requested (or minimum) views are available.
    """
    low, high = (views, views) if isinstance(views, int) else views
    if low < 1 or low > high:
        raise ValueError(f"invalid view count or range {views}")
    if num_available < low:
        raise ValueError(f"the record has {num_available} views, at least {low} are needed")
    count = int(rng.integers(low, min(high, num_available) + 1))
    if random_first_view:
        return tuple(int(i) for i in rng.permutation(num_available)[:count])
    others = rng.permutation(np.arange(1, num_available))[: count - 1]
    return (0, *(int(i) for i in others))


def rereference(record: MultiViewRecord, indices: tuple[int, ...]) -> MultiViewRecord:
    """Keep the views ``indices`` and express everything in the camera of ``indices[0]``.

    Args:
        record: the record (any reference frame).
        indices: views to keep, the new reference first.

    Returns:
        The record with ``cam_from_ref[0]`` = identity and 3-D labels in that camera's frame.

    Raises:
        ValueError: if the record has a MANO translation but no 3-D joints.
    """
    picked = list(indices)
    new_from_old = record.cam_from_ref[picked[0]]
    cam_from_new = record.cam_from_ref[picked] @ invert_rigid(new_from_old)
    cam_from_new[0] = np.eye(4)
    joints = record.joints_3d
    hand_pose, transl = record.hand_pose, record.transl
    if transl is not None and joints is None:
        raise ValueError("a MANO translation needs the 3-D joints (root = wrist - transl)")
    if hand_pose is not None:
        # Without a translation only the orientation moves, and the root does not matter.
        root = np.zeros(3) if transl is None or joints is None else joints[0] - transl
        moved = hand_in_frame(
            hand_pose, transl if transl is not None else np.zeros(3), root, new_from_old
        )
        hand_pose = moved[0]
        transl = moved[1] if transl is not None else None
    if joints is not None:
        joints = joints @ new_from_old[:3, :3].T + new_from_old[:3, 3]
    return replace(
        record,
        images=tuple(record.images[i] for i in picked),
        intrinsics=record.intrinsics[picked],
        cam_from_ref=cam_from_new,
        boxes=record.boxes[picked],
        hand_pose=hand_pose,
        transl=transl,
        joints_3d=joints,
        joints_2d=None if record.joints_2d is None else record.joints_2d[picked],
        joints_2d_valid=None if record.joints_2d_valid is None else record.joints_2d_valid[picked],
    )


def mirror_record(record: MultiViewRecord) -> MultiViewRecord:
    """Turn a left-hand record into the right hand it mirrors (an involution on the labels).

    Every image is flipped left-right with ``c_x -> W - c_x``; every camera frame is
    reflected (x -> -x), so the reference frame is too: extrinsics, joints, translation and
    MANO rotations follow :mod:`hggt_core.pipeline.mirror`; betas are unchanged.
    """
    images, intrinsics = [], []
    boxes = np.array(record.boxes, dtype=np.float64)
    joints_2d = None if record.joints_2d is None else np.array(record.joints_2d)
    for index, (image, k) in enumerate(zip(record.images, record.intrinsics, strict=True)):
        flipped, flipped_k = flip_image_horizontally(image, k)
        width = image.shape[1]
        images.append(flipped)
        intrinsics.append(flipped_k)
        boxes[index, [0, 2]] = width - record.boxes[index, [2, 0]]
        if joints_2d is not None:
            joints_2d[index, :, 0] = width - joints_2d[index, :, 0]
    return replace(
        record,
        images=tuple(images),
        intrinsics=np.stack(intrinsics),
        cam_from_ref=mirror_cam_from_ref(np.asarray(record.cam_from_ref, dtype=np.float64)),
        boxes=boxes,
        hand_pose=None if record.hand_pose is None else mirror_axis_angle(record.hand_pose),
        transl=None if record.transl is None else mirror_points(record.transl),
        joints_3d=None if record.joints_3d is None else mirror_points(record.joints_3d),
        joints_2d=joints_2d,
        is_left=not record.is_left,
    )


def _project(
    points: FloatArray, cam_from_ref: FloatArray, intrinsics: FloatArray
) -> tuple[FloatArray, bool]:
    """Pixels [N, 2] of reference-frame points and whether all lie in front of the camera."""
    cam = points @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
    depth = cam[:, 2:]
    in_front = bool(np.all(depth > _MIN_DEPTH_M))
    uv = (cam[:, :2] / np.maximum(depth, _MIN_DEPTH_M)) @ intrinsics[:2, :2].T
    return np.asarray(uv + intrinsics[:2, 2]), in_front


def _crop_all(
    record: MultiViewRecord,
    rng: np.random.Generator,
    augment: AugmentConfig,
    crop_hw: tuple[int, int],
) -> tuple[list[ImageArray], FloatArray, FloatArray, list[bool]]:
    """Crops, their intrinsics [S, 3, 3], 2-D joints [S, 21, 2] and per-view validity."""
    images, intrinsics, joints_2d, valid = [], [], [], []
    for index in range(record.num_views):
        view = crop_view(
            record.images[index],
            record.intrinsics[index],
            record.boxes[index],
            crop_hw,
            rng,
            augment,
        )
        images.append(photometric(view.image, rng, augment))
        intrinsics.append(view.intrinsics)
        if record.joints_2d is not None:
            joints_2d.append(view.points_to_crop(record.joints_2d[index]))
            ok = record.joints_2d_valid is None or bool(record.joints_2d_valid[index])
            valid.append(ok)
        elif record.joints_3d is not None:
            uv, in_front = _project(record.joints_3d, record.cam_from_ref[index], view.intrinsics)
            joints_2d.append(uv)
            valid.append(in_front)
        else:
            joints_2d.append(np.zeros((_NUM_JOINTS, 2)))
            valid.append(False)
    return images, np.stack(intrinsics), np.stack(joints_2d), valid


def _tensor(array: FloatArray | None, shape: tuple[int, ...]) -> torch.Tensor:
    """float32 tensor of ``array`` (zeros of ``shape`` when absent)."""
    if array is None:
        return torch.zeros(shape, dtype=torch.float32)
    return torch.as_tensor(np.asarray(array, dtype=np.float32).reshape(shape))


def build_sample(
    record: MultiViewRecord,
    rng: np.random.Generator,
    augment: AugmentConfig,
    views: tuple[int, int] | int | None = None,
    crop_hw: tuple[int, int] | None = None,
    random_first_view: bool = True,
) -> HandSample:
    """Mirror, sample views, re-reference, crop and augment a record into a right-hand sample.

    Args:
        record: the dataset record.
        rng: the random source of every choice (views, crop, photometric changes).
        augment: crop size and augmentation (:meth:`AugmentConfig.evaluation` for none).
        views: exact S or (min, max); ``None`` uses the dataset's :data:`VIEW_RANGES` entry
            (single-view records always give S = 1).
        crop_hw: (H, W) of the crops (a batch shares it); ``None`` draws it from ``augment``.
        random_first_view: see :func:`choose_views`.

    Returns:
        The sample: 3-D in the new view 0's frame, crops in [0, 1], labels in crop pixels.
        ``has_mano`` needs pose and betas; a missing translation is zeros.
    """
    if record.is_left:
        record = mirror_record(record)
    if views is None:
        views = 1 if record.num_views == 1 else view_range(record.dataset)
    record = rereference(record, choose_views(rng, record.num_views, views, random_first_view))
    hw = crop_hw if crop_hw is not None else random_crop_hw(rng, augment)
    images, intrinsics, joints_2d, valid = _crop_all(record, rng, augment, hw)
    pixels = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0
    has_mano = record.hand_pose is not None and record.betas is not None
    return HandSample(
        images=pixels.contiguous(),
        intrinsics=_tensor(intrinsics, intrinsics.shape),
        cam_from_ref=_tensor(record.cam_from_ref, (record.num_views, 4, 4)),
        hand_pose=_tensor(record.hand_pose if has_mano else None, (48,)),
        betas=_tensor(record.betas if has_mano else None, (10,)),
        transl=_tensor(record.transl if has_mano else None, (3,)),
        joints_3d=_tensor(record.joints_3d, (_NUM_JOINTS, 3)),
        joints_2d=_tensor(joints_2d, joints_2d.shape),
        has_mano=has_mano,
        has_joints_3d=record.joints_3d is not None,
        has_joints_2d=torch.tensor(valid, dtype=torch.bool),
        has_cameras=record.has_cameras,
        dataset=record.dataset,
    )
