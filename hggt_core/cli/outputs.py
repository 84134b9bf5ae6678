# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""File outputs of ``hggt infer`` and ``hggt demo``: npz, JSON, meshes and overlay images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from hggt_core.io.exports import save_json, save_npz, save_obj
from hggt_core.io.images import write_rgb
from hggt_core.pipeline.types import FrameSet, HandResult
from hggt_core.render.overlay import mosaic, overlay_results

RESULTS_NPZ = "results.npz"
RESULTS_JSON = "results.json"


class FileOutputs:
    """Writes each frameset's meshes and overlays as it comes, and all results at the end.

    Layout under ``directory``: ``results.npz`` and ``results.json`` (every hand of every
    frameset), ``meshes/<frameset>_<side>.obj``, ``overlays/<frameset>/<view>.jpg`` and
    ``overlays/<frameset>_mosaic.jpg`` (frameset = its index, 5 digits).

    Args:
        directory: output folder (created if missing).
        faces: [F, 3] MANO triangles.
        overlays: whether to render overlay images (the slowest output).
    """

    def __init__(
        self, directory: Path, faces: npt.NDArray[np.integer], overlays: bool = True
    ) -> None:
        self.directory = directory
        self._faces = faces
        self._overlays = overlays
        self._results: list[HandResult] = []
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, index: int, frameset: FrameSet, results: list[HandResult]) -> None:
        """Write one frameset's meshes and overlays and keep its results for the end."""
        self._results.extend(results)
        name = f"{index:05d}"
        for result in results:
            meshes = self.directory / "meshes"
            meshes.mkdir(exist_ok=True)
            save_obj(meshes / f"{name}_{result.side}.obj", result.vertices, self._faces)
        if self._overlays:
            images = overlay_results(frameset, results, self._faces)
            folder = self.directory / "overlays" / name
            folder.mkdir(parents=True, exist_ok=True)
            for view, image in zip(frameset.views, images, strict=True):
                write_rgb(folder / f"{_file_stem(view.name)}.jpg", image)
            labels = [view.name for view in frameset.views]
            write_rgb(folder.parent / f"{name}_mosaic.jpg", mosaic(images, labels=labels))

    def close(self) -> list[Path]:
        """Write the collected results; returns the files written."""
        npz, json_path = self.directory / RESULTS_NPZ, self.directory / RESULTS_JSON
        save_npz(npz, self._results)
        save_json(json_path, self._results)
        return [npz, json_path]


def _file_stem(view_name: str) -> str:
    """A view name usable as a file name (topic names contain slashes)."""
    return view_name.strip("/").replace("/", "_") or "view"
