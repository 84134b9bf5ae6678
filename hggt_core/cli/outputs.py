# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""File outputs of ``hggt infer`` and ``hggt demo``: npz, JSON, meshes and overlay images.

The output folder appears whole or not at all: everything is written into a hidden folder
beside it (:class:`~hggt_core.base.atomic.StagedDirectory`) that :meth:`FileOutputs.close`
renames into place, so a run that fails or is interrupted on any frameset leaves no partial
output (and an earlier output at the same path stays as it was). An existing folder is
replaced only when it is empty or holds an earlier output (nothing but :data:`OUTPUT_ENTRIES`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hggt_core.base.atomic import StagedDirectory, check_replaceable
from hggt_core.base.closeable import AllOrNothing
from hggt_core.calibration import WorldAlignment
from hggt_core.io.exports import save_json, save_npz
from hggt_core.io.images import write_rgb
from hggt_core.io.mesh_files import save_obj
from hggt_core.io.world_record import WorldRecord
from hggt_core.pipeline.types import FrameSet, HandResult
from hggt_core.render.overlay import mosaic, overlay_results

RESULTS_NPZ = "results.npz"
RESULTS_JSON = "results.json"
OUTPUT_ENTRIES = (RESULTS_NPZ, RESULTS_JSON, "meshes", "overlays")
"""What an output folder holds; a folder with anything else is never replaced."""


def check_output_folder(directory: Path) -> None:
    """Fail fast, before any work, when ``directory`` may not receive the outputs.

    Raises:
        DestinationInUseError: it is a file, or a folder holding other files than an output.
    """
    check_replaceable(directory, OUTPUT_ENTRIES)


class FileOutputs(AllOrNothing):
    """Writes each frameset's meshes and overlays as it comes, and all results at the end.

    Layout under ``directory``: ``results.npz`` and ``results.json`` (every hand of every
    frameset), ``meshes/<frameset>_<side>.obj``, ``overlays/<frameset>/<view>.jpg`` and
    ``overlays/<frameset>_mosaic.jpg`` (frameset = its index, 5 digits). Nothing is at
    ``directory`` until :meth:`close`; use it as a context manager (or call :meth:`abort`)
    so that a failure removes the hidden staging folder.

    Args:
        directory: output folder (created, or an earlier output replaced, by :meth:`close`).
        faces: [F, 3] MANO triangles.
        overlays: whether to render overlay images (the slowest output).
        world_frame: the calibration's world frame of a run with ``--calibration``: the
            results files then record it and each result's alignment
            (:mod:`hggt_core.io.world_record`); None: no calibration.

    Raises:
        DestinationInUseError: see :func:`check_output_folder`.
    """

    def __init__(
        self,
        directory: Path,
        faces: npt.NDArray[np.integer],
        overlays: bool = True,
        world_frame: str | None = None,
    ) -> None:
        self.directory = directory
        self._faces = faces
        self._overlays = overlays
        self._world_frame = world_frame
        self._results: list[HandResult] = []
        self._alignments: list[WorldAlignment | None] = []
        self._staged = StagedDirectory(directory, OUTPUT_ENTRIES)
        self._written: list[Path] | None = None

    def write(
        self,
        index: int,
        frameset: FrameSet,
        results: list[HandResult],
        alignments: Sequence[WorldAlignment | None] = (),
    ) -> None:
        """Write one frameset's meshes and overlays and keep its results for the end.

        Args:
            index: the frameset's index in the run (names its files).
            frameset: the input (the overlays' images).
            results: its hands (in the world frame where aligned).
            alignments: with a world frame, each result's alignment (None: not aligned);
                empty: none aligned.
        """
        self._results.extend(results)
        self._alignments.extend(alignments or [None] * len(results))
        name = f"{index:05d}"
        folder = self._staged.staging
        for result in results:
            meshes = folder / "meshes"
            meshes.mkdir(exist_ok=True)
            save_obj(meshes / f"{name}_{result.side}.obj", result.vertices, self._faces)
        if self._overlays:
            images = overlay_results(frameset, results, self._faces)
            views = folder / "overlays" / name
            views.mkdir(parents=True, exist_ok=True)
            for view, image in zip(frameset.views, images, strict=True):
                write_rgb(views / f"{_file_stem(view.name)}.jpg", image)
            labels = [view.name for view in frameset.views]
            write_rgb(views.parent / f"{name}_mosaic.jpg", mosaic(images, labels=labels))

    def close(self) -> list[Path]:
        """Write the collected results and move the folder into place (once).

        Returns:
            The results files at their final paths (``results.npz``, ``results.json``).
        """
        if self._written is None:
            staging = self._staged.staging
            world = (
                None
                if self._world_frame is None
                else WorldRecord(self._world_frame, tuple(self._alignments))
            )
            try:
                save_npz(staging / RESULTS_NPZ, self._results, world)
                save_json(staging / RESULTS_JSON, self._results, world=world)
            except BaseException:
                self.abort()
                raise
            destination = self._staged.commit()  # discards the staging folder if it fails
            self._written = [destination / RESULTS_NPZ, destination / RESULTS_JSON]
        return self._written

    def abort(self) -> None:
        """Discard everything written; the output folder is left as it was."""
        self._staged.abort()


def _file_stem(view_name: str) -> str:
    """A view name usable as a file name (topic names contain slashes)."""
    return view_name.strip("/").replace("/", "_") or "view"
