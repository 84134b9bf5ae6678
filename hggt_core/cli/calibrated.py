# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``--calibration FILE`` of ``hggt infer``, ``hggt bag`` and ``hggt live``: results in a world.

:class:`CalibratedRun` is what a command holds for the whole run: it loads the calibration
before the model (a bad file fails fast, in one line), matches its cameras to the input views
(by view name, else by the view's frame id) and warns about cameras no view has, gives views
without a known K the calibration's K and every calibrated view its known extrinsics
(``View.cam_from_world``: the landmark engine triangulates with them), expresses each
frameset's hands in the world frame (:func:`hggt_core.calibration.express_in_world`) and sums
the run up in one line. Without a calibration it passes everything through unchanged.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from hggt_core.calibration import (
    Calibration,
    WorldAlignment,
    WorldResults,
    calibration_for_views,
    express_in_world,
    load_calibration,
)
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.io.output_plan import frame_of
from hggt_core.pipeline.types import FrameSet, HandResult

_LOG = logging.getLogger(__name__)

CALIBRATION_HELP = (
    "calibration YAML (world_frame and known cameras' world_from_cam, optional K; format in "
    "README 'Calibrated world'): results are expressed in its world frame at metric scale "
    "when a known camera sees the hand; cameras are matched to views by view name, else by "
    "the view's frame id; a camera's K serves as the view's known intrinsics where the input "
    "gives none"
)


def add_calibration_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--calibration FILE`` to a pipeline command."""
    parser.add_argument("--calibration", type=Path, metavar="FILE", help=CALIBRATION_HELP)


class CalibratedRun:
    """One run's calibration (or none): known K for the views, hands in the world, a summary.

    Args:
        calibration: the user's calibration; None: every method passes its input through.
        frame_ids: every input view -> its frame id, when the views are known before the run
            (then cameras match by frame id too and unmatched ones are reported at once);
            None: cameras match view names, and those no frameset had are reported at the end.
    """

    def __init__(
        self, calibration: Calibration | None, frame_ids: Mapping[str, str] | None = None
    ) -> None:
        self._given = calibration
        self._calibration = calibration
        self._frame_ids = dict(frame_ids or {})
        self._views_known = frame_ids is not None
        self._seen: set[str] = set()
        self._alignments: list[WorldAlignment] = []
        self._unaligned_frames: list[str] = []
        if calibration is not None and frame_ids is not None:
            self._calibration, unmatched = calibration_for_views(calibration, frame_ids)
            self._warn_absent(unmatched)

    @classmethod
    def from_args(
        cls, args: argparse.Namespace, frame_ids: Mapping[str, str] | None = None
    ) -> CalibratedRun:
        """The run for ``args.calibration`` (see the class); reads the file now.

        Raises:
            CalibrationError: the file is missing or malformed (one line naming it).
        """
        path = getattr(args, "calibration", None)
        return cls(None if path is None else load_calibration(path), frame_ids)

    @property
    def world_frame(self) -> str | None:
        """The calibration's world frame, or None without a calibration."""
        return None if self._calibration is None else self._calibration.world_frame

    def framesets(self, framesets: Iterable[FrameSet]) -> Iterator[FrameSet]:
        """``framesets`` with the calibration's cameras filled in (see :meth:`known_views`)."""
        for frameset in framesets:
            self._seen.update(view.name for view in frameset.views)
            yield self.known_views(frameset)

    def express(self, frameset: FrameSet, results: Sequence[HandResult]) -> WorldResults:
        """One frameset's hands in the world frame; the run's summary counts it.

        Unchanged without a calibration, or when no known camera is among their cameras.
        """
        if self._calibration is None:
            return WorldResults(list(results), None, None)
        placed = express_in_world(results, self._calibration)
        if placed.alignment is not None:
            self._alignments.append(placed.alignment)
        else:
            reference = results[0].views_used[0] if results else frameset.views[0].name
            self._unaligned_frames.append(frame_of(reference, self._frame_ids))
        return placed

    def summary(self) -> str | None:
        """The run's one line about the world frame (None without a calibration).

        Also warns about calibration cameras that no frameset had, when the views were not
        known before the run.
        """
        if self._given is None:
            return None
        if not self._views_known:
            self._warn_absent([name for name in self._given.cameras if name not in self._seen])
        unaligned = sorted(set(self._unaligned_frames))
        stays = f"results stay in camera {' / '.join(unaligned) or '(none)'} frame"
        if not self._alignments:
            return f"  calibration: no known camera seen: {stays}"
        line = f"  calibration: world frame '{self.world_frame}': " + _alignment_line(
            self._alignments
        )
        if self._unaligned_frames:
            count = len(self._unaligned_frames)
            line += f"; {count} framesets not aligned (no known camera seen): {stays}"
        return line

    def known_views(self, frameset: FrameSet) -> FrameSet:
        """``frameset`` with each calibrated view's known camera filled in.

        A view the calibration names gets ``cam_from_world`` (the inverse of its
        ``world_from_cam``) unless it has one, and the calibration's K when it has none.
        """
        if self._calibration is None:
            return frameset
        cameras = self._calibration.cameras
        views = []
        for view in frameset.views:
            camera = cameras.get(view.name)
            if camera is not None:
                intrinsics = view.intrinsics if view.intrinsics is not None else camera.intrinsics
                extrinsics = view.cam_from_world
                if extrinsics is None:
                    extrinsics = invert_rigid(camera.world_from_cam)
                view = dataclasses.replace(view, intrinsics=intrinsics, cam_from_world=extrinsics)
            views.append(view)
        return dataclasses.replace(frameset, views=tuple(views))

    def _warn_absent(self, names: Sequence[str]) -> None:
        if names:
            _LOG.warning(
                "calibration cameras %s match no input view (by view name or frame id)",
                ", ".join(names),
            )


def per_result_alignments(placed: WorldResults) -> tuple[WorldAlignment | None, ...]:
    """The alignment of each of ``placed.results`` (None for every result when not aligned)."""
    if placed.alignment is None:
        return (None,) * len(placed.results)
    return placed.hand_alignments


def _alignment_line(alignments: Sequence[WorldAlignment]) -> str:
    """Framesets aligned, cameras used, median scale and residuals."""
    used = sorted({name for alignment in alignments for name in alignment.cameras_used})
    scale = statistics.median(alignment.scale for alignment in alignments)
    residual_mm = 1e3 * statistics.median(alignment.residual_m for alignment in alignments)
    residual_deg = statistics.median(alignment.residual_deg for alignment in alignments)
    return (
        f"{len(alignments)} framesets aligned on cameras {', '.join(used)}, scale "
        f"{scale:.4f}, residual {residual_mm:.1f} mm / {residual_deg:.2f} deg (medians)"
    )
