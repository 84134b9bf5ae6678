# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Multi-view hand data in the POEM-v2 WebDataset layout, read safely into training samples.

Shards are WebDataset tar files (:mod:`training.data.shards`). A sample holds
``image_0.jpg`` ... ``image_{V-1}.jpg`` (or ``.png``), the full camera images, and
``label.pyd``, a pickled dict read with the restricted unpickler
:func:`training.data.shards.load_label` (a hostile pickle raises ``UnsafeLabelError``).

Label keys read (per-view entries are lists of length V, index i = ``image_i``), as written by
POEM-v2 and read by HGGT's evaluation loader:

* ``cam_intr`` [3, 3]: K of each full image, pixels. Required.
* ``cam_extr`` [4, 4]: camera -> world (``world_from_cam``) for HO3D, DexYCB, FreiHAND and
  the synthetic set; world -> camera for InterHand, ARCTIC, OakInk, OakInk2 (POEM inverts
  those; :data:`CAM_FROM_WORLD_DATASETS`, overridable). Required when V > 1.
* ``joints_3d`` [21, 3]: OpenPose joints in each camera's frame, metres. Required.
* ``verts_3d`` [778, 3]: mesh in each camera's frame (only used to size the crop box).
* ``mano_pose`` [48] (or [16, 3], or longer: the first 48 values) and ``mano_shape`` [10]:
  MANO in each camera's frame. HO3D, DexYCB and FreiHAND store the absolute finger pose
  (``flat_hand_mean=True``); it is converted to offsets from MANO's mean pose with the
  model's ``hands_mean`` (:data:`ABSOLUTE_POSE_DATASETS`, overridable). Optional.
* ``mano_trans`` [3]: MANO translation in each camera's frame (this project's extension,
  written by the synthetic set). Without it the translation is ``wrist - rest root`` when a
  MANO model is given (MANO's posed root joint is its rest root plus the translation),
  else zeros.
* ``request_flip`` (bool, not per view): POEM's left hands, whose labels are already
  mirrored; only the images still need flipping.
* ``hand_side`` (``"left"`` / ``"right"``, not per view; this project's extension): a left
  hand whose images *and* labels are mirrored by the reader.

Ignored: ``joints_2d`` (the 2-D joints are re-projected from ``joints_3d`` so they agree
with the cameras exactly), ``bbox_center`` / ``bbox_scale`` (the crop box is the projected
mesh's bounding box, which needs no flip convention), ``raw_size``, ``cam_serial``,
``joints_vis``, ``*_uvd``, ``image_path``.

The reference frame of a record is camera 0's; :func:`training.data.views.build_sample` then
samples the views and re-expresses everything in the chosen view 0's frame.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hggt_core.mano.io import ManoModelData
from hggt_core.pipeline.types import FloatArray, ImageArray
from training.data.augment import AugmentConfig, flip_image_horizontally
from training.data.shards import ShardDataset, decode_image, dump_label, encode_jpeg, load_label
from training.data.views import MultiViewRecord

CAM_FROM_WORLD_DATASETS = frozenset({"interhand", "arctic", "oakink", "oakink2"})
"""Datasets whose ``cam_extr`` is world -> camera (lower-case names)."""
ABSOLUTE_POSE_DATASETS = frozenset({"ho3d", "dexycb", "freihand"})
"""Datasets whose ``mano_pose`` finger values are absolute, not offsets from the mean pose."""

_IMAGE_MEMBER = re.compile(r"^image_(\d+)\.(jpg|jpeg|png)$")


def mano_rest_root(mano: ManoModelData, betas: FloatArray) -> FloatArray:
    """[3] rest-pose root joint of the shaped MANO hand (J_regressor row 0), metres."""
    shaped = mano.v_template + mano.shapedirs[..., : betas.shape[0]] @ betas
    return np.asarray(mano.J_regressor[0] @ shaped)


@dataclass(frozen=True)
class PoemReaderConfig:
    """How to interpret one POEM-layout dataset.

    Attributes:
        dataset: the dataset's name (selects the defaults below and its view range).
        cam_from_world: ``cam_extr`` is world -> camera; ``None`` looks the dataset up in
            :data:`CAM_FROM_WORLD_DATASETS`.
        absolute_finger_pose: ``mano_pose`` finger values are absolute; ``None`` looks the
            dataset up in :data:`ABSOLUTE_POSE_DATASETS`.
        box_margin: crop box side / the projected mesh's bounding-box side (context).
        use_mano: read the MANO labels (False: joints-only supervision).
    """

    dataset: str
    cam_from_world: bool | None = None
    absolute_finger_pose: bool | None = None
    box_margin: float = 1.3
    use_mano: bool = True

    def extrinsics_are_cam_from_world(self) -> bool:
        """Resolved ``cam_from_world``."""
        if self.cam_from_world is not None:
            return self.cam_from_world
        return self.dataset.lower() in CAM_FROM_WORLD_DATASETS

    def finger_pose_is_absolute(self) -> bool:
        """Resolved ``absolute_finger_pose``."""
        if self.absolute_finger_pose is not None:
            return self.absolute_finger_pose
        return self.dataset.lower() in ABSOLUTE_POSE_DATASETS


def _per_view(
    labels: Mapping[str, Any], name: str, index: int, shape: tuple[int, ...]
) -> FloatArray:
    """Entry ``index`` of the per-view label ``name`` as float64 of ``shape``."""
    try:
        value = np.asarray(labels[name][index], dtype=np.float64)
        return value.reshape(-1)[: int(np.prod(shape))].reshape(shape)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"label '{name}' view {index}: expected {shape}: {exc}") from exc


def _cameras(
    labels: Mapping[str, Any], num_views: int, config: PoemReaderConfig
) -> tuple[FloatArray, FloatArray]:
    """Intrinsics [V, 3, 3] and cam_from_ref [V, 4, 4] with camera 0 as the reference."""
    intrinsics = np.stack([_per_view(labels, "cam_intr", i, (3, 3)) for i in range(num_views)])
    if "cam_extr" not in labels:
        if num_views > 1:
            raise ValueError("label 'cam_extr' is required for more than one view")
        return intrinsics, np.eye(4)[None]
    extrinsics = np.stack([_per_view(labels, "cam_extr", i, (4, 4)) for i in range(num_views)])
    world_from_cam = (
        extrinsics if not config.extrinsics_are_cam_from_world() else np.linalg.inv(extrinsics)
    )
    cam_from_ref = np.linalg.inv(world_from_cam) @ world_from_cam[0]
    cam_from_ref[0] = np.eye(4)
    return intrinsics, cam_from_ref


def _boxes(
    points_ref: FloatArray, intrinsics: FloatArray, cam_from_ref: FloatArray, margin: float
) -> FloatArray:
    """[V, 4] boxes around the projected points, sides scaled by ``margin`` about the centre."""
    boxes = []
    for k, extrinsic in zip(intrinsics, cam_from_ref, strict=True):
        cam = points_ref @ extrinsic[:3, :3].T + extrinsic[:3, 3]
        uv = cam[:, :2] / np.maximum(cam[:, 2:], 1e-4) @ k[:2, :2].T + k[:2, 2]
        low, high = uv.min(axis=0), uv.max(axis=0)
        centre, half = (low + high) / 2.0, (high - low) * margin / 2.0
        boxes.append(np.concatenate([centre - half, centre + half]))
    return np.stack(boxes)


def _mano_labels(
    labels: Mapping[str, Any],
    joints: FloatArray,
    config: PoemReaderConfig,
    mano: ManoModelData | None,
) -> tuple[FloatArray | None, FloatArray | None, FloatArray | None]:
    """(hand_pose [48], betas [10], transl [3]) of camera 0, or Nones without MANO labels."""
    if not config.use_mano or "mano_pose" not in labels or "mano_shape" not in labels:
        return None, None, None
    hand_pose = _per_view(labels, "mano_pose", 0, (48,)).copy()
    betas = _per_view(labels, "mano_shape", 0, (10,))
    if config.finger_pose_is_absolute():
        if mano is None:
            raise ValueError(
                f"{config.dataset} stores absolute finger poses: pass the MANO model (its "
                "hands_mean converts them) or set use_mano=False"
            )
        hand_pose[3:] -= mano.hands_mean
    if "mano_trans" in labels:
        transl = _per_view(labels, "mano_trans", 0, (3,))
    elif mano is not None:
        transl = joints[0] - mano_rest_root(mano, betas)
    else:
        transl = None
    return hand_pose, betas, transl


def parse_poem_sample(
    key: str,
    members: Mapping[str, bytes],
    config: PoemReaderConfig,
    mano: ManoModelData | None = None,
) -> MultiViewRecord:
    """Turn one tar sample into a record in camera 0's frame (see the module docstring).

    Raises:
        UnsafeLabelError: if ``label.pyd`` is refused.
        ValueError: missing or malformed labels or images.
    """
    if "label.pyd" not in members:
        raise ValueError(f"{key}: no label.pyd")
    labels = load_label(members["label.pyd"], f"{key}.label.pyd")
    if not isinstance(labels, dict):
        raise ValueError(f"{key}: label.pyd holds {type(labels).__name__}, expected a dict")
    image_members = {int(m.group(1)): s for s in members if (m := _IMAGE_MEMBER.match(s))}
    num_views = len(labels.get("cam_intr", ()))
    if num_views == 0 or sorted(image_members) != list(range(num_views)):
        raise ValueError(f"{key}: images {sorted(image_members)} do not match {num_views} cameras")
    try:
        intrinsics, cam_from_ref = _cameras(labels, num_views, config)
        joints = _per_view(labels, "joints_3d", 0, (21, 3))
        verts = _per_view(labels, "verts_3d", 0, (778, 3)) if "verts_3d" in labels else joints
        hand_pose, betas, transl = _mano_labels(labels, joints, config, mano)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from exc
    images = [
        decode_image(members[image_members[i]], f"{key}.{image_members[i]}")
        for i in range(num_views)
    ]
    if bool(labels.get("request_flip", False)):
        flipped = [
            flip_image_horizontally(image, k) for image, k in zip(images, intrinsics, strict=True)
        ]
        images = [image for image, _ in flipped]
        intrinsics = np.stack([k for _, k in flipped])
    return MultiViewRecord(
        images=tuple(images),
        intrinsics=intrinsics,
        cam_from_ref=cam_from_ref,
        boxes=_boxes(verts, intrinsics, cam_from_ref, config.box_margin),
        dataset=config.dataset,
        hand_pose=hand_pose,
        betas=betas,
        transl=transl,
        joints_3d=joints,
        is_left=str(labels.get("hand_side", "right")).lower() == "left",
    )


class PoemDataset(ShardDataset):
    """Multi-view POEM-layout shards (real datasets or the synthetic set) as HandSamples."""

    def __init__(
        self,
        shards: Sequence[str | Path],
        config: PoemReaderConfig,
        augment: AugmentConfig,
        seed: int = 0,
        mano: ManoModelData | None = None,
        views: tuple[int, int] | int | None = None,
        random_first_view: bool = True,
        shuffle_shards: bool = True,
    ) -> None:
        """Check the settings (fail fast: absolute-pose datasets need ``mano``)."""
        super().__init__(shards, augment, seed, views, random_first_view, shuffle_shards)
        if config.use_mano and config.finger_pose_is_absolute() and mano is None:
            raise ValueError(
                f"{config.dataset} stores absolute finger poses: pass the MANO model (its "
                "hands_mean converts them) or set use_mano=False"
            )
        self.config = config
        self.mano = mano

    def records_from(self, key: str, members: Mapping[str, bytes]) -> Iterator[MultiViewRecord]:
        """The one record of a tar sample."""
        yield parse_poem_sample(key, members, self.config, self.mano)


def poem_sample_members(
    images: Sequence[ImageArray], label: Mapping[str, Any], quality: int = 95
) -> dict[str, bytes]:
    """Tar members of one sample: ``image_{i}.jpg`` + ``label.pyd`` (see the module docstring)."""
    members = {f"image_{i}.jpg": encode_jpeg(image, quality) for i, image in enumerate(images)}
    members["label.pyd"] = dump_label(dict(label))
    return members
