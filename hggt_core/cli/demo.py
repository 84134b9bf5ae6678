# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt demo``: the whole pipeline on the bundled synthetic example, scored against its truth.

The example (``hggt_core/data/demo_example``) is the procedural hand rendered by this project
in four views with known cameras and MANO parameters, so the demo needs no download. It uses
``--checkpoint`` when given, else the bundled demo model when the package ships one, else an
untrained tiny network: then it says plainly that the numbers are meaningless, and still runs
every stage (crops, network, MANO, cameras, exports, overlays) and the evaluation.

``--engine auto`` runs HGGT here (the network the example was made for): MediaPipe's landmarker
does not recognise the procedural hand, so the landmark engine would find nothing to score. It
runs on real images with ``hggt infer`` and ``hggt live``. The report names the engine.
"""

from __future__ import annotations

import argparse
import dataclasses
from contextlib import closing
from pathlib import Path

import numpy as np
import torch

from hggt_core.assembly.factory import PipelineSpec, build_pipeline
from hggt_core.cli.frameset_run import describe, faces_of, run_framesets
from hggt_core.cli.outputs import FileOutputs
from hggt_core.io.folder_source import ImageFolderSource
from hggt_core.metrics import evaluate_hand, relative_pose_errors_deg
from hggt_core.pipeline.types import FrameSet, HandResult
from hggt_core.render.demo import ExampleGroundTruth, demo_example_dir, load_ground_truth


def add_demo_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register ``hggt demo``."""
    parser = commands.add_parser(
        "demo",
        parents=[common],
        help="run the pipeline on the bundled example and score it against its ground truth",
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("hggt_demo_output"))
    parser.add_argument(
        "--example", type=Path, default=None, help="another example folder of the same layout"
    )
    parser.set_defaults(run=run_demo, pipeline=True)


def run_demo(args: argparse.Namespace, spec: PipelineSpec) -> int:
    """Run the example, write the outputs, print the errors against the ground truth."""
    example = args.example or demo_example_dir()
    truth = load_ground_truth(example)
    if spec.engine == "auto":
        spec = dataclasses.replace(spec, engine="torch")
    pipeline = build_pipeline(spec)
    collected: list[tuple[FrameSet, list[HandResult]]] = []
    with closing(pipeline.predictor), FileOutputs(args.output, faces_of(pipeline)) as outputs:

        def keep(index: int, frameset: FrameSet, results: list[HandResult]) -> None:
            outputs.write(index, frameset, results)
            collected.append((frameset, results))

        stats = run_framesets(pipeline, ImageFolderSource(example), keep, total=1)
    print(f"hggt demo: {example}\n{describe(pipeline)}")
    if not pipeline.trained:
        print(
            "  NOTE: no trained checkpoint is available, so the network has random weights "
            "and the errors below are meaningless;\n"
            "        every stage still ran. Pass --checkpoint (and --mano-dir) for real results."
        )
    print(stats.table())
    results = collected[0][1] if collected else []
    print(_scores(results, truth) if results else "  no hand was reconstructed")
    print(f"  outputs: {args.output}/ (results.npz, results.json, meshes/, overlays/)")
    return 0


def _scores(results: list[HandResult], truth: ExampleGroundTruth) -> str:
    """Hand errors (mm, root-relative and Procrustes-aligned) and camera errors (degrees)."""
    result = results[0]
    hand = evaluate_hand(
        torch.from_numpy(result.joints[None]),
        torch.from_numpy(truth.joints[None]),
        torch.from_numpy(result.vertices[None]),
        torch.from_numpy(truth.vertices[None]),
    )
    index = [truth.view_names.index(name) for name in result.views_used]
    predicted = torch.from_numpy(np.stack([camera.cam_from_ref for camera in result.cameras]))
    rotation_deg, translation_deg = relative_pose_errors_deg(
        predicted, torch.from_numpy(truth.cam_from_ref[index])
    )
    rows = [
        ("RR-MPJPE [mm]", hand.rr_mpjpe_mm),
        ("PA-MPJPE [mm]", hand.pa_mpjpe_mm),
        ("PA-MPVPE [mm]", hand.pa_mpvpe_mm),
    ]
    if rotation_deg.numel():
        rows += [
            ("camera rotation error [deg]", float(rotation_deg.mean())),
            ("camera direction error [deg]", float(translation_deg.mean())),
        ]
    return "\n".join(f"  {name:<30}{value:>10.2f}" for name, value in rows if value is not None)
