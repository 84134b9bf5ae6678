# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The landmark engine on the real example crops: detection, reprojection, leave-one-view-out.

The crops (``../shared/data/hggt_examples`` or ``$HGGT_EXAMPLES_DIR``) have no ground truth,
so this measures self-consistency (see :mod:`hggt_core.landmarks.consistency`): per set, the
views where MediaPipe finds the hand, the views the fusion keeps, the median reprojection
error of the fitted joints onto each kept view's landmarks (pixels and % of the hand's size),
and the change of the joints (mm after similarity alignment) and of the shared cameras'
relative rotations (degrees) when one view is left out. Overlays go to ``--output``.

Run: ``python bench/landmark_examples.py [--output DIR]``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from hggt_core.io.folder_source import ImageFolderSource
from hggt_core.io.images import write_rgb
from hggt_core.landmarks.consistency import leave_one_view_out, reprojection_agreement
from hggt_core.landmarks.landmarker import LandmarkerConfig, MultiViewLandmarker
from hggt_core.landmarks.predictor import LandmarkPredictor
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import FrameSet, HandResult
from hggt_core.render.overlay import mosaic, overlay_results

EXAMPLES = Path(
    os.environ.get(
        "HGGT_EXAMPLES_DIR", Path(__file__).resolve().parents[2] / "shared/data/hggt_examples"
    )
)


def _fresh(predictor: LandmarkPredictor, frameset: FrameSet) -> list[HandResult]:
    predictor.reset()
    return predictor(frameset)


def main() -> None:
    """Print one row per example set and write the overlays."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("landmark_examples_output"))
    args = parser.parse_args()
    layers = ManoLayer(make_synthetic_mano("right")), ManoLayer(make_synthetic_mano("left"))
    landmarks = MultiViewLandmarker(LandmarkerConfig(mode="image"))
    predictor = LandmarkPredictor(landmarks, *layers)
    faces = layers[0].faces.numpy()
    args.output.mkdir(parents=True, exist_ok=True)
    header = "set        views found kept  reproj px  reproj %hand  LOO joints mm  LOO rot deg"
    print(header)
    for folder in sorted(EXAMPLES.glob("*/sample_*")):
        frameset = next(iter(ImageFolderSource(folder)))
        found = landmarks.detect(frameset)
        results = _fresh(predictor, frameset)
        detected = sum(bool(hands) for hands in found.values())
        name = folder.parent.name
        if not results:
            print(f"{name:<10} {len(frameset.views):>5} {detected:>5}    0  (no hand)")
            continue
        result = results[0]
        agreement = reprojection_agreement(
            result, {view: hands[0] for view, hands in found.items() if hands}
        )
        left_out = leave_one_view_out(lambda f: _fresh(predictor, f), frameset, result.side)
        joints_mm = np.median([entry.joints_mm for entry in left_out]) if left_out else np.nan
        rotation = [entry.rotation_deg for entry in left_out if np.isfinite(entry.rotation_deg)]
        print(
            f"{name:<10} {len(frameset.views):>5} {detected:>5} {len(result.views_used):>4}"
            f"  {np.median([a.median_px for a in agreement]):>9.1f}"
            f"  {100 * np.median([a.median_of_hand for a in agreement]):>11.1f}"
            f"  {joints_mm:>13.1f}  {np.median(rotation) if rotation else np.nan:>11.1f}"
        )
        images = overlay_results(frameset, results, faces)
        write_rgb(
            args.output / f"{name}.jpg", mosaic(images, labels=[v.name for v in frameset.views])
        )
    predictor.close()


if __name__ == "__main__":
    main()
