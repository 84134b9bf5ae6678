# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Speed of the landmark engine per frameset: landmarker vs fusion vs MANO fit, IMAGE vs VIDEO.

Views are 640 x 480 frames made from the real example crops (OakInk's four views, each crop
scaled to 300 px and placed on a grey frame), repeated as a stream of framesets. Each row runs
``--framesets`` framesets after a warm-up of 3 and reports the median milliseconds per
frameset of each stage, their share, and framesets per second. One torch thread, as in the
node's worker; MediaPipe uses its own threads.

Run: ``python bench/landmark_speed.py [--framesets 40]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from hggt_core.io.images import read_rgb
from hggt_core.landmarks.landmarker import LandmarkerConfig, MultiViewLandmarker
from hggt_core.landmarks.predictor import LandmarkPredictor
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import FrameSet, ImageArray, View

EXAMPLES = Path(
    os.environ.get(
        "HGGT_EXAMPLES_DIR", Path(__file__).resolve().parents[2] / "shared/data/hggt_examples"
    )
)
_WARM_UP = 3


def frame_from_crop(crop: ImageArray, size_hw: tuple[int, int] = (480, 640)) -> ImageArray:
    """A grey frame with the crop scaled to 300 px near its centre."""
    frame = np.full((*size_hw, 3), 110, np.uint8)
    scaled = cv2.resize(crop, (300, 300), interpolation=cv2.INTER_AREA)
    top, left = (size_hw[0] - 300) // 2, (size_hw[1] - 300) // 2 + 40
    frame[top : top + 300, left : left + 300] = scaled
    return frame


def _run(predictor: LandmarkPredictor, frames: list[ImageArray], count: int) -> dict[str, float]:
    stages: dict[str, list[float]] = {"landmarks": [], "fusion": [], "fit": [], "total": []}
    for index in range(count + _WARM_UP):
        stamp_ns = index * 1_000_000_000 // 30
        views = tuple(View(f"cam{i}", stamp_ns, frame) for i, frame in enumerate(frames))
        start = time.perf_counter()
        results = predictor(FrameSet(stamp_ns, views))
        total = time.perf_counter() - start
        if index < _WARM_UP or not results:
            continue
        # "landmarks" is per frameset (every hand reports it); fusion and fit are per hand.
        stages["landmarks"].append(results[0].timings_s["landmarks"])
        for stage in ("fusion", "fit"):
            stages[stage].append(sum(result.timings_s[stage] for result in results))
        stages["total"].append(total)
    return {stage: 1000.0 * float(np.median(values)) for stage, values in stages.items()}


def main() -> None:
    """Print one row per (views, mode)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framesets", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    crops = [read_rgb(path) for path in sorted((EXAMPLES / "Oakink/sample_0000").glob("*.jpg"))]
    frames = [frame_from_crop(crop) for crop in crops]
    layers = ManoLayer(make_synthetic_mano("right")), ManoLayer(make_synthetic_mano("left"))
    print("views mode   landmarks ms  fusion ms  fit ms  (fusion+fit)/landmarks  framesets/s")
    for views in (1, 2, 4):
        for mode in ("image", "video"):
            config = LandmarkerConfig(mode=mode, max_hands=1)
            predictor = LandmarkPredictor(MultiViewLandmarker(config), *layers)
            row = _run(predictor, frames[:views], args.framesets)
            predictor.close()
            share = (row["fusion"] + row["fit"]) / row["landmarks"]
            print(
                f"{views:>5} {mode:<6} {row['landmarks']:>12.1f} {row['fusion']:>10.1f}"
                f" {row['fit']:>7.1f} {share:>23.2f} {1000.0 / row['total']:>12.1f}"
            )


if __name__ == "__main__":
    main()
