# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""CPU rendering: a numpy mesh rasteriser, result overlays and synthetic multi-view scenes.

- ``rasterize``: :func:`render_mesh`, a vectorised z-buffer rasteriser with Lambert shading.
- ``overlay``: the hand mesh and skeleton drawn over each view with its camera; mosaics.
- ``scene``: seeded synthetic multi-view examples of a MANO hand (images + ground truth);
  ``scene_config``: how they are drawn; ``rig``: their cameras; ``background``: their random
  backgrounds and skin tones.
- ``demo``: the bundled demo example (generation, JSON schema, saving, loading).
"""

from hggt_core.render.rasterize import RenderedMesh, render_mesh, vertex_normals

__all__ = ["RenderedMesh", "render_mesh", "vertex_normals"]
