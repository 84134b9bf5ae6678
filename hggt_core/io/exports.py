# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Sinks for hand results: ``.npz`` and JSON, each written atomically (meshes: :mod:`.mesh_files`).

Every writer goes through :func:`hggt_core.base.atomic.atomic_write`: a temporary file in the
destination's folder is renamed over the destination (``os.replace``) only once it is complete,
so a failure never leaves a half-written file, and a reader never sees one. The destination's
folder must exist.

Frames and units are those of :mod:`hggt_core.pipeline.types`: metres in the reference
camera frame (OpenCV axes), radians, full-image pixels, seconds.

``.npz`` layout written by :func:`save_npz` (N results, V = most views of any result; views a
result does not have are padded with NaN, names with ""):

=================== ================= ==================================================
key                 shape             meaning
=================== ================= ==================================================
``format``          []                ``"hggt_ros.hand_results/1"``
``mano_hand_pose``  [N, 48]           MANO pose, axis-angle (release key name)
``mano_betas``      [N, 10]           MANO shape (release key name)
``mano_transl``     [N, 3]            MANO translation, metres (release key name)
``pose_enc``        [N, V, 9]         VGGT camera encoding per view in its model crop
``stamp_ns``        [N]               frameset reference stamp, int64 nanoseconds (exact)
``stamp_s``         [N]               the same stamp in float64 seconds (~0.24 us steps at
                                      epoch times; files without ``stamp_ns`` load from it)
``side``            [N]               "right" or "left"
``score``           [N]               confidence in [0, 1]
``vertices``        [N, 778, 3]       mesh, metres, reference frame
``joints``          [N, 21, 3]        OpenPose-order joints, metres, reference frame
``joint_rotations`` [N, 21, 3, 3]     global joint rotations, reference frame
``view_names``      [N, V]            ``views_used``, reference first
``num_views``       [N]               views used per result
``intrinsics``      [N, V, 3, 3]      K in full-image pixels
``cam_from_ref``    [N, V, 4, 4]      reference frame -> camera, metres
``joints_2d``       [N, V, 21, 2]     joints projected into each full image, pixels
``crop``            [N, V, 5]         crop transform: x0, y0, scale, size, mirrored (0/1)
``timing_names``    [T]               stage names, sorted
``timings_s``       [N, T]            seconds per stage; NaN where a result lacks a stage
=================== ================= ==================================================

A run with a calibration also writes the ``world_*`` keys of :mod:`hggt_core.io.world_record`
(the world frame and each result's alignment); a result aligned to the world has its 3-D
quantities in the world frame and ``cam_from_ref`` holding ``cam_from_world``.

About ``pose_enc``: the release stores the network's 9-D encodings, which refer to the square
model crop (518 px), not to the full image. A result keeps its cameras as full-image K and
``cam_from_ref``, so the encoding is rebuilt from them with each view's
:class:`~hggt_core.pipeline.types.CropTransform`: focal lengths are divided by the crop
scale (the crop's principal point is its centre, which the encoding does not store), and for
mirrored crops the extrinsic is mirrored back into the flipped crop's frame
(``M @ cam_from_ref @ M``, M = diag(-1, 1, 1, 1)). For cameras the network predicted this
reproduces its encoding up to the quaternion's norm and sign (the network's quaternion is not
normalised); for cameras replaced by known intrinsics it encodes those. :func:`load_npz`
ignores ``pose_enc``, since it is derived.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from hggt_core.base.atomic import atomic_write
from hggt_core.base.hand_skeleton import (
    NUM_BETAS,
    NUM_JOINTS_WITH_TIPS,
    NUM_POSE_PARAMS,
    NUM_VERTICES,
)
from hggt_core.geometry.pose_encoding import extrinsics_intrinsics_to_pose_encoding
from hggt_core.io.world_record import WorldRecord, alignment_to_json, world_arrays
from hggt_core.pipeline.types import (
    CropTransform,
    FloatArray,
    HandResult,
    ViewCamera,
    seconds_to_ns,
)

NPZ_FORMAT = "hggt_ros.hand_results/1"
JSON_FORMAT = "hggt_ros.hand_results"
JSON_VERSION = 1
_MIRROR = np.diag([-1.0, 1.0, 1.0, 1.0])
_PER_VIEW_SHAPES = {
    "intrinsics": (3, 3),
    "cam_from_ref": (4, 4),
    "joints_2d": (NUM_JOINTS_WITH_TIPS, 2),
    "crop": (5,),
    "pose_enc": (9,),
}
_MANO_FIELDS = ("hand_pose", "betas", "transl")
_CAMERA_FIELDS = ("intrinsics", "cam_from_ref", "joints_2d")
_PER_RESULT = {
    "mano_hand_pose": ("hand_pose", (3 + NUM_POSE_PARAMS,)),
    "mano_betas": ("betas", (NUM_BETAS,)),
    "mano_transl": ("transl", (3,)),
    "vertices": ("vertices", (NUM_VERTICES, 3)),
    "joints": ("joints", (NUM_JOINTS_WITH_TIPS, 3)),
    "joint_rotations": ("joint_rotations", (NUM_JOINTS_WITH_TIPS, 3, 3)),
}


def save_npz(
    path: str | os.PathLike[str],
    results: Sequence[HandResult],
    world: WorldRecord | None = None,
) -> None:
    """Write results as one uncompressed ``.npz`` (layout in the module docstring).

    Args:
        path: destination, used as given (no ``.npz`` suffix is appended).
        results: hand results in any order; an empty sequence writes empty arrays.
        world: the calibrated world of a run with a calibration (adds the ``world_*`` keys).

    Raises:
        ValueError: a result array of an unexpected shape, or not one alignment per result.
    """
    arrays = _results_to_arrays(results)
    if world is not None:
        arrays |= world_arrays(results, world, arrays["view_names"].shape[1])
    with atomic_write(path) as stream:
        np.savez(stream, allow_pickle=False, **arrays)


def load_npz(path: str | os.PathLike[str]) -> list[HandResult]:
    """Read a file written by :func:`save_npz` back into hand results.

    Returns:
        The results in file order, equal to those saved (float64 arrays; ``pose_enc`` is
        not read back, it is derived from the cameras).

    Raises:
        ValueError: the file is not in this format or lacks keys (named in the message).
    """
    with np.load(path, allow_pickle=False) as data:
        if "format" not in data.files or str(data["format"]) != NPZ_FORMAT:
            raise ValueError(f"{path} is not an hggt_ros results file ({NPZ_FORMAT})")
        # Files written before stamp_ns existed hold float seconds only.
        stamp_key = "stamp_ns" if "stamp_ns" in data.files else "stamp_s"
        expected = {*_PER_RESULT, *_PER_VIEW_SHAPES, stamp_key, "side", "score"}
        expected |= {"view_names", "num_views", "timing_names", "timings_s"}
        missing = sorted(expected - set(data.files))
        if missing:
            raise ValueError(f"{path} lacks the keys {missing}")
        arrays = {key: data[key] for key in data.files}
    stamps_ns = (
        [int(stamp) for stamp in arrays["stamp_ns"]]
        if stamp_key == "stamp_ns"
        else [seconds_to_ns(float(stamp)) for stamp in arrays["stamp_s"]]
    )
    return [_result_from_arrays(arrays, index, stamp) for index, stamp in enumerate(stamps_ns)]


def save_json(
    path: str | os.PathLike[str],
    results: Sequence[HandResult],
    include_vertices: bool = True,
    world: WorldRecord | None = None,
) -> None:
    """Write results as human-readable JSON (UTF-8, small arrays on one line each).

    Schema: ``{"format": "hggt_ros.hand_results", "version": 1, "conventions": {...},
    "results": [...]}``, where ``conventions`` states the units and frames in words and each
    result is ``{"stamp_ns", "stamp_s", "side", "score", "views_used", "mano": {"hand_pose" [48],
    "betas" [10], "transl" [3]}, "joints" [21][3], "joint_rotations" [21][3][3], "vertices"
    [778][3] (when included), "cameras": [{"name", "intrinsics" [3][3], "cam_from_ref" [4][4],
    "joints_2d" [21][2], "crop": {"x0", "y0", "scale", "size", "mirrored"}}],
    "timings_s": {stage: seconds}}``. Non-finite numbers are written as ``null``. With
    ``world``, also ``"world_frame"`` and each result's ``"world"`` entry
    (:mod:`hggt_core.io.world_record`).

    Args:
        path: destination file.
        results: hand results.
        include_vertices: whether to write the 778 mesh vertices of each result.
        world: the calibrated world of a run with a calibration.

    Raises:
        ValueError: not one alignment per result in ``world``.
    """
    document: dict[str, Any] = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "conventions": {
            "units": "metres, radians, seconds; pixels for intrinsics and joints_2d",
            "stamps": (
                "stamp_ns: the frameset's reference stamp in integer nanoseconds, exactly the "
                "input image's header stamp; stamp_s: the same in float seconds (rounded)"
            ),
            "frames": (
                "3-D points in the reference camera frame: the optical frame (x right, y down, "
                "z forward) of views_used[0]; cam_from_ref maps reference-frame points into "
                "a view's camera frame; intrinsics and joints_2d are in full-image pixels with "
                "the top-left pixel's centre at (0.5, 0.5)"
            ),
            "joint_order": "OpenPose 21 (wrist, thumb 1-3 + tip, index, middle, ring, pinky)",
        },
        "results": [result_to_json(result, include_vertices) for result in results],
    }
    if world is not None:
        world.check(len(results))
        document["world_frame"] = world.world_frame
        document["conventions"]["frames"] += (
            f"; a result whose 'world' is not null is in the world frame '{world.world_frame}' "
            "instead (cam_from_ref then maps world points into the camera)"
        )
        for entry, alignment in zip(document["results"], world.alignments, strict=True):
            entry["world"] = alignment_to_json(alignment)
    text = _dump_json(document, 0) + "\n"
    with atomic_write(path) as stream:
        stream.write(text.encode("utf-8"))


def _crop_row(crop: CropTransform) -> list[float]:
    return [crop.x0, crop.y0, crop.scale, float(crop.size), float(crop.mirrored)]


def _pose_encodings(cameras: Sequence[ViewCamera]) -> FloatArray:
    """[S, 9] encodings of the cameras in their model crops (see the module docstring)."""
    if not cameras:
        return np.zeros((0, 9))
    cam_from_ref = np.stack([camera.cam_from_ref for camera in cameras])
    mirrored = np.array([camera.crop.mirrored for camera in cameras])
    cam_from_ref[mirrored] = _MIRROR @ cam_from_ref[mirrored] @ _MIRROR
    # Focal lengths in crop pixels over the crop side: the encoding of a 1 x 1 image is the
    # same as that of the size x size crop, which lets views of any crop size share one call.
    side_px = np.array([camera.crop.scale * camera.crop.size for camera in cameras])
    focal = np.stack([camera.intrinsics[[0, 1], [0, 1]] for camera in cameras]) / side_px[:, None]
    intrinsics = np.zeros((len(cameras), 3, 3))
    intrinsics[:, [0, 1, 2], [0, 1, 2]] = np.column_stack([focal, np.ones(len(cameras))])
    encoding = extrinsics_intrinsics_to_pose_encoding(
        torch.from_numpy(cam_from_ref[:, :3, :]), torch.from_numpy(intrinsics), (1, 1)
    )
    return encoding.numpy()


def _check_shape(value: npt.ArrayLike, shape: tuple[int, ...], what: str) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{what} must have shape {list(shape)}, got {list(array.shape)}")
    return array


def _results_to_arrays(results: Sequence[HandResult]) -> dict[str, npt.NDArray[Any]]:
    count = len(results)
    max_views = max((len(result.cameras) for result in results), default=0)
    timing_names = sorted({name for result in results for name in result.timings_s})
    arrays: dict[str, npt.NDArray[Any]] = {"format": np.array(NPZ_FORMAT)}
    for key, (attribute, shape) in _PER_RESULT.items():
        arrays[key] = np.zeros((count, *shape))
        for index, result in enumerate(results):
            what = f"result {index} {attribute}"
            arrays[key][index] = _check_shape(getattr(result, attribute), shape, what)
    for key, shape in _PER_VIEW_SHAPES.items():
        arrays[key] = np.full((count, max_views, *shape), np.nan)
    names = np.full((count, max_views), "", dtype=object)
    for index, result in enumerate(results):
        cameras = result.cameras
        if tuple(camera.name for camera in cameras) != tuple(result.views_used):
            raise ValueError(f"result {index}: camera names differ from views_used")
        views = slice(0, len(cameras))
        names[index, views] = [camera.name for camera in cameras]
        for camera_index, camera in enumerate(cameras):
            what = f"result {index} camera {camera.name!r}"
            for key in _CAMERA_FIELDS:
                value = getattr(camera, key)
                arrays[key][index, camera_index] = _check_shape(value, _PER_VIEW_SHAPES[key], what)
        arrays["crop"][index, views] = [_crop_row(camera.crop) for camera in cameras]
        arrays["pose_enc"][index, views] = _pose_encodings(cameras)
    arrays["view_names"] = (
        names.astype(str) if count and max_views else np.zeros(names.shape, "U1")
    )
    arrays["num_views"] = np.array([len(result.cameras) for result in results], dtype=np.int64)
    arrays["stamp_ns"] = np.array([result.stamp_ns for result in results], dtype=np.int64)
    arrays["stamp_s"] = np.array([result.stamp_s for result in results], dtype=np.float64)
    arrays["side"] = np.array([result.side for result in results], dtype="U5")
    arrays["score"] = np.array([result.score for result in results], dtype=np.float64)
    arrays["timing_names"] = np.array(timing_names, dtype=str).reshape(len(timing_names))
    arrays["timings_s"] = np.array(
        [[result.timings_s.get(name, np.nan) for name in timing_names] for result in results],
        dtype=np.float64,
    ).reshape(count, len(timing_names))
    return arrays


def _result_from_arrays(
    arrays: dict[str, npt.NDArray[Any]], index: int, stamp_ns: int
) -> HandResult:
    cameras = []
    for view in range(int(arrays["num_views"][index])):
        x0, y0, scale, size, mirrored = arrays["crop"][index, view].tolist()
        cameras.append(
            ViewCamera(
                name=str(arrays["view_names"][index, view]),
                intrinsics=arrays["intrinsics"][index, view].copy(),
                cam_from_ref=arrays["cam_from_ref"][index, view].copy(),
                joints_2d=arrays["joints_2d"][index, view].copy(),
                crop=CropTransform(x0, y0, scale, round(size), bool(mirrored)),
            )
        )
    timings = zip(
        arrays["timing_names"].tolist(), arrays["timings_s"][index].tolist(), strict=True
    )
    side = str(arrays["side"][index])
    if side not in ("right", "left"):
        raise ValueError(f"result {index} has an unknown side {side!r}")
    return HandResult(
        stamp_ns=stamp_ns,
        side="right" if side == "right" else "left",
        score=float(arrays["score"][index]),
        cameras=tuple(cameras),
        views_used=tuple(camera.name for camera in cameras),
        timings_s={str(name): seconds for name, seconds in timings if not math.isnan(seconds)},
        **{field: arrays[key][index].copy() for key, (field, _) in _PER_RESULT.items()},
    )


def result_to_json(result: HandResult, include_vertices: bool = True) -> dict[str, Any]:
    """One result as the JSON object of :func:`save_json`'s ``results`` list.

    Returns:
        Plain dicts, lists, strings and numbers (``json.dumps`` takes it as it is); the
        non-finite numbers are None (``null``), so ``allow_nan=False`` is safe.
    """
    entry: dict[str, Any] = {
        "stamp_ns": result.stamp_ns,
        "stamp_s": result.stamp_s,
        "side": result.side,
        "score": result.score,
        "views_used": list(result.views_used),
        "mano": {key: np.asarray(getattr(result, key)).tolist() for key in _MANO_FIELDS},
        "joints": np.asarray(result.joints).tolist(),
        "joint_rotations": np.asarray(result.joint_rotations).tolist(),
    }
    if include_vertices:
        entry["vertices"] = np.asarray(result.vertices).tolist()
    entry["cameras"] = [
        {
            "name": camera.name,
            **{key: np.asarray(getattr(camera, key)).tolist() for key in _CAMERA_FIELDS},
            "crop": dataclasses.asdict(camera.crop),
        }
        for camera in result.cameras
    ]
    entry["timings_s"] = dict(result.timings_s)
    finite: dict[str, Any] = _finite_or_none(entry)
    return finite


def _finite_or_none(value: Any) -> Any:
    """``value`` with every NaN or infinity (in nested dicts and lists) replaced by None."""
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dump_json(value: Any, depth: int) -> str:
    """JSON text: dicts and nested lists indented, lists of scalars on one line, NaN as null."""
    indent, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{json.dumps(key)}: {_dump_json(item, depth + 1)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(item, (list, dict)) for item in value):
        items = [inner + _dump_json(item, depth + 1) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    if isinstance(value, list):
        return "[" + ", ".join(_dump_json(item, depth) for item in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    return json.dumps(value, allow_nan=False, ensure_ascii=False)
