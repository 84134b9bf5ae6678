# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Single-view hand data in HaMeR's tar-shard layout, read safely into S = 1 samples.

A shard sample holds ``jpg`` (the full image) and ``data.pyd``: a pickled list of per-hand
dicts (one training sample per hand), read with the restricted unpickler of
:func:`training.data.shards.load_label`. Keys read (HaMeR's names):

* ``center`` [2], ``scale`` [1] or [2]: the hand box, centre in pixels and side / 200
  (HaMeR's convention; the longer side is used). Required.
* ``keypoints_2d`` [21, 3]: OpenPose-ordered (x, y, confidence), full-image pixels.
* ``keypoints_3d`` [21, 4]: (x, y, z, confidence), camera frame, metres (only the
  root-relative shape is supervised).
* ``hand_pose`` [48] (global orientation first; finger values offset from MANO's mean pose,
  HaMeR's ``flat_hand_mean=False`` MANO) and ``betas`` [10], valid where ``has_hand_pose``
  and ``has_betas`` are both positive (the sample has one MANO flag).
* ``right``: 1 for a right hand, 0 for a left one (mirrored into a right hand: image flipped,
  2-D x -> W - x, 3-D x -> -x, rotations via :mod:`hggt_core.pipeline.mirror`).

Ignored: ``extra_info``, ``detection.npz`` masks.

The sample has no calibrated camera (``has_cameras`` False): ``cam_from_ref`` is the identity
and the crop's intrinsics are a fixed nominal pinhole (the paper's "fixed canonical camera"):
focal ``focal_per_side`` times the crop's longer side, principal point at the crop centre.
The per-view 2-D flag is set only when every joint's confidence exceeds
``min_joint_confidence`` (the sample format has no per-joint flags). A MANO translation is
not part of HaMeR's labels; it is zero.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hggt_core.pipeline.types import ImageArray
from training.data.augment import AugmentConfig
from training.data.sample import HandSample
from training.data.shards import ShardDataset, decode_image, load_label
from training.data.views import MultiViewRecord, build_sample

_HAMER_BOX_UNIT = 200.0
_NUM_JOINTS = 21


@dataclass(frozen=True)
class HamerReaderConfig:
    """How to read HaMeR shards.

    Attributes:
        dataset: name recorded in the samples.
        box_margin: crop box side / HaMeR's box side.
        min_joint_confidence: a view's 2-D (and the 3-D) joints count as valid only if every
            joint's confidence exceeds this.
        focal_per_side: nominal crop focal length / crop longer side (HaMeR: 5000 / 256).
    """

    dataset: str = "hamer"
    box_margin: float = 1.0
    min_joint_confidence: float = 0.0
    focal_per_side: float = 5000.0 / 256.0


def _array(hand: Mapping[str, Any], name: str, size: int) -> np.ndarray:
    """float64 values of ``hand[name]``, checked to have ``size`` elements."""
    try:
        value = np.asarray(hand[name], dtype=np.float64).reshape(-1)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"'{name}': {exc}") from exc
    if value.size != size:
        raise ValueError(f"'{name}' has {value.size} values, expected {size}")
    return value


def _flag(hand: Mapping[str, Any], name: str) -> bool:
    return name in hand and bool(np.asarray(hand[name], dtype=np.float64).reshape(-1)[0] > 0)


def parse_hamer_hand(
    image: ImageArray, hand: Mapping[str, Any], config: HamerReaderConfig
) -> MultiViewRecord:
    """One hand of a HaMeR sample as a single-view record (see the module docstring).

    Raises:
        ValueError: missing or malformed box, keypoints or MANO values.
    """
    centre = _array(hand, "center", 2)
    scale = np.asarray(hand["scale"], dtype=np.float64).reshape(-1) if "scale" in hand else None
    if scale is None or scale.size not in (1, 2):
        raise ValueError("'scale' must hold 1 or 2 values")
    half = float(scale.max()) * _HAMER_BOX_UNIT * config.box_margin / 2.0
    box = np.concatenate([centre - half, centre + half])[None]
    joints_2d = joints_3d = None
    valid_2d = np.zeros(1, dtype=bool)
    if "keypoints_2d" in hand:
        keypoints = _array(hand, "keypoints_2d", _NUM_JOINTS * 3).reshape(_NUM_JOINTS, 3)
        joints_2d = keypoints[None, :, :2]
        valid_2d[0] = bool(np.all(keypoints[:, 2] > config.min_joint_confidence))
    if "keypoints_3d" in hand:
        keypoints = _array(hand, "keypoints_3d", _NUM_JOINTS * 4).reshape(_NUM_JOINTS, 4)
        if np.all(keypoints[:, 3] > config.min_joint_confidence):
            joints_3d = keypoints[:, :3]
    has_mano = _flag(hand, "has_hand_pose") and _flag(hand, "has_betas")
    intrinsics = np.array([[1.0, 0.0, centre[0]], [0.0, 1.0, centre[1]], [0.0, 0.0, 1.0]])
    return MultiViewRecord(
        images=(image,),
        intrinsics=intrinsics[None],
        cam_from_ref=np.eye(4)[None],
        boxes=box,
        dataset=config.dataset,
        hand_pose=_array(hand, "hand_pose", 48) if has_mano else None,
        betas=_array(hand, "betas", 10) if has_mano else None,
        joints_3d=joints_3d,
        joints_2d=joints_2d if joints_2d is not None else np.zeros((1, _NUM_JOINTS, 2)),
        joints_2d_valid=valid_2d,
        has_cameras=False,
        is_left=not _flag(hand, "right"),
    )


def parse_hamer_sample(
    key: str, members: Mapping[str, bytes], config: HamerReaderConfig
) -> list[MultiViewRecord]:
    """Every hand of one tar sample (``jpg`` + ``data.pyd``) as a record.

    Raises:
        UnsafeLabelError: if ``data.pyd`` is refused.
        ValueError: a missing member or malformed labels.
    """
    image_suffix = next((s for s in ("jpg", "jpeg", "png") if s in members), None)
    if image_suffix is None or "data.pyd" not in members:
        raise ValueError(f"{key}: expected 'jpg' and 'data.pyd', got {sorted(members)}")
    data = load_label(members["data.pyd"], f"{key}.data.pyd")
    hands = [data] if isinstance(data, dict) else data
    if not isinstance(hands, list) or not all(isinstance(h, dict) for h in hands):
        raise ValueError(f"{key}: data.pyd must hold a list of per-hand dicts")
    image = decode_image(members[image_suffix], f"{key}.{image_suffix}")
    records = []
    for index, hand in enumerate(hands):
        try:
            records.append(parse_hamer_hand(image, hand, config))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{key} hand {index}: {exc}") from exc
    return records


def with_nominal_intrinsics(sample: HandSample, focal_per_side: float) -> HandSample:
    """The sample with each crop's K replaced by the nominal pinhole (see the module)."""
    height, width = sample.images.shape[-2:]
    focal = focal_per_side * max(height, width)
    k = torch.tensor(
        [[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]],
        dtype=torch.float32,
    )
    return replace(sample, intrinsics=k.expand(sample.num_views, 3, 3).clone())


class HamerDataset(ShardDataset):
    """HaMeR tar shards as single-view HandSamples (one per hand)."""

    def __init__(
        self,
        shards: Sequence[str | Path],
        augment: AugmentConfig,
        config: HamerReaderConfig | None = None,
        seed: int = 0,
        shuffle_shards: bool = True,
    ) -> None:
        """Store the settings (see :class:`training.data.shards.ShardDataset`)."""
        super().__init__(shards, augment, seed, 1, True, shuffle_shards)
        self.config = config if config is not None else HamerReaderConfig()

    def records_from(self, key: str, members: Mapping[str, bytes]) -> Iterator[MultiViewRecord]:
        """The records (hands) of one tar sample."""
        yield from parse_hamer_sample(key, members, self.config)

    def __iter__(self) -> Iterator[HandSample]:
        """Samples with fresh augmentation and the nominal crop intrinsics."""
        for sample in super().__iter__():
            yield with_nominal_intrinsics(sample, self.config.focal_per_side)


def build_hamer_sample(
    record: MultiViewRecord,
    rng: np.random.Generator,
    augment: AugmentConfig,
    config: HamerReaderConfig,
    crop_hw: tuple[int, int] | None = None,
) -> HandSample:
    """A HaMeR record as a sample with a given crop size (for the image-budget sampler)."""
    sample = build_sample(record, rng, augment, 1, crop_hw)
    return with_nominal_intrinsics(sample, config.focal_per_side)
