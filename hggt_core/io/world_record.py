# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What the results files record about a calibrated world: its frame and each alignment.

A run with a calibration (``--calibration``) expresses each frameset's hands in the world
frame when a known camera sees them (:func:`hggt_core.calibration.express_in_world`); the
others stay in their reference camera's frame. :class:`WorldRecord` carries, for the results
files, the world frame and the alignment each result received (None: not aligned).

``.npz`` keys (:func:`hggt_core.io.exports.save_npz`; present only with a record; N results,
V views as in the rest of the file):

======================= =========== ===============================================
key                     shape       meaning
======================= =========== ===============================================
``world_frame``         []          the calibration's world frame id
``world_aligned``       [N]         bool: the result is in the world frame
``world_scale``         [N]         the alignment's scale (NaN where not aligned)
``world_residual_m``    [N]         RMS camera-centre residual, metres (NaN ...)
``world_residual_deg``  [N]         RMS camera-orientation residual, degrees (NaN ...)
``world_known_views``   [N, V]      bool: the view was a known camera of the alignment
======================= =========== ===============================================

JSON (:func:`hggt_core.io.exports.save_json`): a top-level ``"world_frame"`` and, per result,
``"world": {"scale", "residual_m", "residual_deg", "cameras_used"}`` or ``null``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hggt_core.calibration.align import WorldAlignment
from hggt_core.pipeline.types import HandResult


@dataclass(frozen=True)
class WorldRecord:
    """A calibrated run's world frame and the alignment of each result.

    Attributes:
        world_frame: the calibration's world frame id.
        alignments: one per result, in the results' order; None where the result stayed in
            its reference camera's frame (no known camera saw it).
    """

    world_frame: str
    alignments: tuple[WorldAlignment | None, ...]

    def check(self, count: int) -> None:
        """Raise ValueError unless there is one alignment per result (``count``)."""
        if len(self.alignments) != count:
            raise ValueError(f"{len(self.alignments)} alignments for {count} results")


def world_arrays(
    results: Sequence[HandResult], record: WorldRecord, max_views: int
) -> dict[str, npt.NDArray[Any]]:
    """The ``world_*`` arrays of a ``.npz`` (layout in the module docstring)."""
    record.check(len(results))
    aligned = [alignment is not None for alignment in record.alignments]

    def column(name: str) -> npt.NDArray[np.float64]:
        values = [np.nan if a is None else getattr(a, name) for a in record.alignments]
        return np.array(values, dtype=np.float64).reshape(len(results))

    known = np.zeros((len(results), max_views), dtype=bool)
    for index, (result, alignment) in enumerate(zip(results, record.alignments, strict=True)):
        if alignment is not None:
            known[index, : len(result.cameras)] = [
                camera.name in alignment.cameras_used for camera in result.cameras
            ]
    return {
        "world_frame": np.array(record.world_frame),
        "world_aligned": np.array(aligned, dtype=bool).reshape(len(results)),
        "world_scale": column("scale"),
        "world_residual_m": column("residual_m"),
        "world_residual_deg": column("residual_deg"),
        "world_known_views": known,
    }


def alignment_to_json(alignment: WorldAlignment | None) -> dict[str, Any] | None:
    """A result's ``"world"`` JSON entry: scale, residuals and cameras used, or None."""
    if alignment is None:
        return None
    return {
        "scale": alignment.scale,
        "residual_m": alignment.residual_m,
        "residual_deg": alignment.residual_deg,
        "cameras_used": list(alignment.cameras_used),
    }
