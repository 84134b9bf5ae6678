# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The bundled demo example: a seeded synthetic scene saved as JPEG crops plus ground truth.

Folder layout (``hggt_core/data/demo_example/``, written by ``tools/make_demo_example.py``):

* ``view_00.jpg`` ... ``view_NN.jpg``: 518 x 518 RGB hand crops; ``view_00`` is the
  reference camera.
* ``cameras.json``: ``{"view_00": {"K": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]}, ...}``, the
  intrinsics of each saved image (optional input of the folder source).
* ``ground_truth.json`` (schema ``hggt-ros.synthetic-example.v1``):

  - ``units``, ``conventions``: metres, radians, pixels; pixel centres at +0.5; OpenCV camera
    axes; all 3-D quantities in the reference frame = camera of ``view_00``.
  - ``mano``: ``side``, ``model`` (the procedural hand of :mod:`hggt_core.mano.synthetic`),
    ``flat_hand_mean`` (False: finger pose offsets the mean pose), ``fingertips``
    (vertex convention of the tip joints), ``hand_pose`` [48], ``betas`` [10], ``transl`` [3].
  - ``joints`` [21][3] (OpenPose order), ``vertices`` [778][3], ``light_dir_ref`` [3].
  - ``views``: list (reference first) of ``name``, ``file``, ``image_size_hw``, ``K`` [3][3]
    of the saved image, ``cam_from_ref`` [4][4], ``joints_2d`` [21][2] in the saved image,
    ``crop`` {``x0``, ``y0``, ``scale``, ``size``} placing the saved image in the camera's full
    virtual image (``u_img = x0 + scale * u_crop``) whose intrinsics are ``image_K`` and size
    ``image_size_hw_full``.
  - ``generator``: seed and scene settings.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import FloatArray
from hggt_core.render.scene import SyntheticExample, render_multiview_example
from hggt_core.render.scene_config import SceneConfig

DEMO_SEED = 11
"""Seed of the bundled example's scene."""
DEMO_NUM_VIEWS = 4
"""Views of the bundled example."""
DEMO_JPEG_QUALITY = 90
"""JPEG quality of the bundled images."""
DEMO_SCENE = SceneConfig(view_cone_deg=60.0, roll_range_deg=30.0, flexion_range=(-0.3, 1.2))
"""The demo's scene distribution, shared with the bundled demo model's training data
(``training/configs/demo_model*.yaml``): a palm-side rig (cameras within 60 degrees of the
palm's normal, fingers up within 30 degrees of roll), fingers from slightly open to curled."""
GROUND_TRUTH_FILE = "ground_truth.json"
CAMERAS_FILE = "cameras.json"
SCHEMA = "hggt-ros.synthetic-example.v1"
_DECIMALS = 7


@dataclass(frozen=True)
class ExampleGroundTruth:
    """Ground truth of a saved example, as arrays (see the module docstring for frames).

    Attributes:
        view_names: the views, reference first.
        intrinsics: [S, 3, 3] K of each saved image.
        cam_from_ref: [S, 4, 4] reference (view 0 camera) frame -> each camera, metres.
        joints_2d: [S, 21, 2] joints in each saved image, pixels.
        hand_pose: [48] MANO pose, radians (global orientation in the reference frame first).
        betas: [10] MANO shape.
        transl: [3] MANO translation, metres.
        joints: [21, 3] OpenPose joints, metres.
        vertices: [778, 3] mesh vertices, metres.
    """

    view_names: tuple[str, ...]
    intrinsics: FloatArray
    cam_from_ref: FloatArray
    joints_2d: FloatArray
    hand_pose: FloatArray
    betas: FloatArray
    transl: FloatArray
    joints: FloatArray
    vertices: FloatArray


def demo_example_dir() -> Path:
    """Folder of the bundled demo example (package data ``hggt_core/data/demo_example``)."""
    return Path(__file__).resolve().parents[1] / "data" / "demo_example"


def make_demo_example(config: SceneConfig = DEMO_SCENE) -> SyntheticExample:
    """Render the demo scene: the procedural right hand, :data:`DEMO_SEED`, 4 views."""
    layer = ManoLayer(make_synthetic_mano("right"))
    rng = np.random.default_rng(DEMO_SEED)
    return render_multiview_example(layer, rng, DEMO_NUM_VIEWS, config)


def _rounded(array: Any) -> Any:
    return np.round(np.asarray(array, dtype=np.float64), _DECIMALS).tolist()


def ground_truth_json(
    example: SyntheticExample, seed: int | None = None, config: SceneConfig | None = None
) -> dict[str, Any]:
    """The ``ground_truth.json`` content of an example (schema in the module docstring)."""
    views = [
        {
            "name": view.name,
            "file": f"{view.name}.jpg",
            "image_size_hw": [int(view.image.shape[0]), int(view.image.shape[1])],
            "K": _rounded(view.intrinsics),
            "cam_from_ref": _rounded(view.cam_from_ref),
            "joints_2d": _rounded(view.joints_2d),
            "crop": {
                "x0": view.crop.x0,
                "y0": view.crop.y0,
                "scale": view.crop.scale,
                "size": view.crop.size,
            },
            "image_K": _rounded(view.image_intrinsics),
            "image_size_hw_full": list(view.image_size_hw),
        }
        for view in example.views
    ]
    return {
        "schema": SCHEMA,
        "units": {"length": "metre", "angle": "radian (axis-angle)", "image": "pixel"},
        "conventions": {
            "reference_frame": f"camera of {example.views[0].name} (OpenCV axes)",
            "camera_axes": "OpenCV: x right, y down, z forward",
            "pixel_centres": "top-left pixel centre at (0.5, 0.5)",
            "joint_order": "OpenPose 21 (wrist, thumb 1-3 + tip, index, middle, ring, pinky)",
        },
        "mano": {
            "side": "right",
            "model": "procedural (hggt_core.mano.synthetic.make_synthetic_mano)",
            "flat_hand_mean": False,
            "fingertips": "freihand",
            "hand_pose": _rounded(example.hand_pose),
            "betas": _rounded(example.betas),
            "transl": _rounded(example.transl),
        },
        "joints": _rounded(example.joints),
        "vertices": _rounded(example.vertices),
        "light_dir_ref": _rounded(example.light_dir_ref),
        "views": views,
        "generator": {
            "seed": seed,
            "scene_config": dataclasses.asdict(config if config is not None else SceneConfig()),
        },
    }


def save_example(
    example: SyntheticExample,
    directory: str | Path,
    jpeg_quality: int = DEMO_JPEG_QUALITY,
    seed: int | None = None,
    config: SceneConfig | None = None,
) -> list[Path]:
    """Write an example as ``view_XX.jpg`` + ``cameras.json`` + ``ground_truth.json``.

    Args:
        example: the rendered example.
        directory: destination folder (created if missing; existing files are overwritten).
        jpeg_quality: JPEG quality, 0-100.
        seed: the seed that generated the example, recorded in the ground truth.
        config: the scene settings used, recorded in the ground truth.

    Returns:
        The written paths.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for view in example.views:
        path = folder / f"{view.name}.jpg"
        bgr = np.ascontiguousarray(view.image[:, :, ::-1])
        if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]):
            raise OSError(f"could not write {path}")
        written.append(path)
    cameras = {view.name: {"K": _rounded(view.intrinsics)} for view in example.views}
    documents = {
        CAMERAS_FILE: cameras,
        GROUND_TRUTH_FILE: ground_truth_json(example, seed, config),
    }
    for name, document in documents.items():
        path = folder / name
        path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


def load_ground_truth(directory: str | Path) -> ExampleGroundTruth:
    """Read ``ground_truth.json`` of a saved example.

    Args:
        directory: the example's folder.

    Returns:
        The ground truth as arrays.

    Raises:
        FileNotFoundError: if the folder has no ``ground_truth.json``.
        ValueError: if the file has another schema.
    """
    path = Path(directory) / GROUND_TRUTH_FILE
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("schema") != SCHEMA:
        raise ValueError(f"{path}: expected schema {SCHEMA!r}, got {document.get('schema')!r}")
    views = document["views"]
    mano = document["mano"]
    return ExampleGroundTruth(
        view_names=tuple(view["name"] for view in views),
        intrinsics=np.array([view["K"] for view in views], dtype=np.float64),
        cam_from_ref=np.array([view["cam_from_ref"] for view in views], dtype=np.float64),
        joints_2d=np.array([view["joints_2d"] for view in views], dtype=np.float64),
        hand_pose=np.array(mano["hand_pose"], dtype=np.float64),
        betas=np.array(mano["betas"], dtype=np.float64),
        transl=np.array(mano["transl"], dtype=np.float64),
        joints=np.array(document["joints"], dtype=np.float64),
        vertices=np.array(document["vertices"], dtype=np.float64),
    )
