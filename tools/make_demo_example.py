# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Write the bundled demo example (4 synthetic views + ground truth) into the package data.

Usage (from the repository root, with the package installed or on the path)::

    PYTHONPATH=. python tools/make_demo_example.py [--output hggt_core/data/demo_example]

The scene is the procedural MANO hand (the real MANO is licence-gated) rendered with a fixed
seed by :func:`hggt_core.render.demo.make_demo_example`; see :mod:`hggt_core.render.demo` for
the files written and the ground-truth schema.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hggt_core.render.demo import (
    DEMO_JPEG_QUALITY,
    DEMO_SCENE,
    DEMO_SEED,
    demo_example_dir,
    make_demo_example,
    save_example,
)


def main(argv: list[str] | None = None) -> int:
    """Render and save the demo example; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=demo_example_dir(), help="destination folder"
    )
    args = parser.parse_args(argv)
    written = save_example(
        make_demo_example(), args.output, DEMO_JPEG_QUALITY, seed=DEMO_SEED, config=DEMO_SCENE
    )
    total_kb = sum(path.stat().st_size for path in written) / 1024
    sys.stdout.write(f"wrote {len(written)} files ({total_kb:.0f} KB) to {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
