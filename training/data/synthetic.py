# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The synthetic multi-view training set: rendered hands written in the POEM-v2 layout.

Each sample is one scene of :func:`hggt_core.render.scene.render_multiview_example` (the
procedural MANO-format hand, or a real MANO layer, in a random pose, 2-10 random cameras
looking at it, random backgrounds, skin and light, square crops around the hand), written as
``image_{i}.jpg`` + ``label.pyd`` exactly as :mod:`training.data.poem` reads it (dataset name
``synthetic``). The saved images are the crops, so ``cam_intr`` are the crops' intrinsics.
Labels (per-view lists, index i = ``image_i``):

* ``cam_intr`` [3, 3]; ``cam_extr`` [4, 4] = camera -> world (``world_from_cam``), the world
  being camera 0's frame; ``raw_size`` (W, H); ``cam_serial`` (view names);
* ``joints_3d`` [21, 3], ``verts_3d`` [778, 3], ``joints_2d`` [21, 2] in each camera's frame /
  image; ``bbox_center`` [2], ``bbox_scale`` (box of the projected mesh);
* ``mano_pose`` [48] (global orientation in each camera's frame, finger values offsets from
  the mean pose), ``mano_shape`` [10], ``mano_trans`` [3] (each camera's frame);
* ``hand_side`` = ``"right"``.

Sample k of a run uses the generator ``default_rng([seed, k])``: any sample can be rebuilt
alone, and the set does not depend on how it is split into shards. Rendering is CPU-only.
"""

from __future__ import annotations

import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import FloatArray
from hggt_core.render.scene import SyntheticExample, hand_in_frame, render_multiview_example
from hggt_core.render.scene_config import SceneConfig
from training.data.augment import AugmentConfig
from training.data.poem import PoemDataset, PoemReaderConfig, poem_sample_members
from training.data.shards import write_tar_sample

DATASET_NAME = "synthetic"
"""Dataset name of the synthetic set (its view range is 2-10)."""
SHARD_PATTERN = "synthetic-{:06d}.tar"
"""File name of shard i."""


_PER_VIEW_KEYS = (
    "cam_intr",
    "cam_extr",
    "raw_size",
    "cam_serial",
    "joints_3d",
    "verts_3d",
    "joints_2d",
    "bbox_center",
    "bbox_scale",
    "mano_pose",
    "mano_shape",
    "mano_trans",
)


def _in_camera(points: FloatArray, cam_from_ref: FloatArray) -> npt.NDArray[np.float32]:
    """Reference-frame points [N, 3] in a camera's frame, float32."""
    return np.asarray(points @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3], dtype=np.float32)


def synthetic_label(example: SyntheticExample) -> dict[str, Any]:
    """The POEM-layout ``label.pyd`` dict of a rendered example (see the module docstring)."""
    root = example.joints[0] - example.transl
    label: dict[str, Any] = {key: [] for key in _PER_VIEW_KEYS}
    for view in example.views:
        cam_from_ref = view.cam_from_ref
        hand_pose, transl = hand_in_frame(example.hand_pose, example.transl, root, cam_from_ref)
        uv = view.joints_2d
        low, high = uv.min(axis=0), uv.max(axis=0)
        entries = {
            "cam_intr": view.intrinsics.astype(np.float32),
            "cam_extr": invert_rigid(cam_from_ref).astype(np.float32),
            "raw_size": (int(view.image.shape[1]), int(view.image.shape[0])),
            "cam_serial": view.name,
            "joints_3d": _in_camera(example.joints, cam_from_ref),
            "verts_3d": _in_camera(example.vertices, cam_from_ref),
            "joints_2d": uv.astype(np.float32),
            "bbox_center": ((low + high) / 2.0).astype(np.float32),
            "bbox_scale": float((high - low).max()),
            "mano_pose": hand_pose.astype(np.float32),
            "mano_shape": example.betas.astype(np.float32),
            "mano_trans": transl.astype(np.float32),
        }
        for key, value in entries.items():
            label[key].append(value)
    label["hand_side"] = "right"
    return label


def render_synthetic_sample(
    index: int,
    seed: int,
    views_range: tuple[int, int],
    mano_layer: ManoLayer,
    scene_config: SceneConfig | None = None,
) -> SyntheticExample:
    """Render sample ``index`` of the set seeded by ``seed`` (view count drawn first)."""
    rng = np.random.default_rng([seed, index])
    num_views = int(rng.integers(views_range[0], views_range[1] + 1))
    return render_multiview_example(mano_layer, rng, num_views, scene_config)


def write_synthetic_shards(
    out_dir: str | Path,
    num_samples: int,
    views_range: tuple[int, int] = (2, 10),
    seed: int = 0,
    mano_layer: ManoLayer | None = None,
    samples_per_shard: int = 1000,
    scene_config: SceneConfig | None = None,
    jpeg_quality: int = 95,
) -> list[Path]:
    """Render ``num_samples`` scenes and write them as POEM-layout tar shards.

    Args:
        out_dir: destination folder (created if missing; shards of the same names are
            overwritten).
        num_samples: number of samples (scenes).
        views_range: (min, max) views per scene, drawn uniformly per scene.
        seed: base seed (sample k uses ``default_rng([seed, k])``).
        mano_layer: the hand model (right hand, ``flat_hand_mean=False``); ``None`` uses the
            procedural hand of :mod:`hggt_core.mano.synthetic`.
        samples_per_shard: samples per tar file.
        scene_config: scene ranges and crop size; ``None`` uses :class:`SceneConfig`'s.
        jpeg_quality: JPEG quality of the images, 0-100.

    Returns:
        The shard paths, in order (``synthetic-000000.tar``, ...).

    Raises:
        ValueError: for a non-positive count or shard size, or an invalid view range.
    """
    if num_samples <= 0 or samples_per_shard <= 0:
        raise ValueError("num_samples and samples_per_shard must be positive")
    if not 1 <= views_range[0] <= views_range[1]:
        raise ValueError(f"invalid views_range {views_range}")
    layer = mano_layer if mano_layer is not None else ManoLayer(make_synthetic_mano("right"))
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for first in range(0, num_samples, samples_per_shard):
        path = folder / SHARD_PATTERN.format(len(paths))
        with tarfile.open(path, "w") as archive:
            for index in range(first, min(first + samples_per_shard, num_samples)):
                example = render_synthetic_sample(index, seed, views_range, layer, scene_config)
                images = [view.image for view in example.views]
                members = poem_sample_members(images, synthetic_label(example), jpeg_quality)
                write_tar_sample(archive, f"{index:08d}", members)
        paths.append(path)
    return paths


def synthetic_dataset(
    shards: Sequence[str | Path],
    augment: AugmentConfig,
    seed: int = 0,
    views: tuple[int, int] | int | None = None,
) -> PoemDataset:
    """Read synthetic shards (a :class:`PoemDataset` named ``synthetic``)."""
    return PoemDataset(shards, PoemReaderConfig(DATASET_NAME), augment, seed, views=views)
