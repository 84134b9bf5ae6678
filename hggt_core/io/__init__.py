# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Offline sources and sinks around the pipeline (no ROS imports).

Sources turn files into :class:`~hggt_core.pipeline.types.FrameSet` objects; sinks write
:class:`~hggt_core.pipeline.types.HandResult` lists and meshes. Import the submodules
directly, e.g. ``from hggt_core.io.folder_source import ImageFolderSource``:

- ``images``: reading and writing single RGB images, with clear errors for bad files.
- ``folder_source``: a folder of per-view images, or a folder of such folders.
- ``video_source``: one video file per view, frames matched by index or by stream time.
- ``rosbag_source``: synchronised framesets from the image topics of a rosbag2.
- ``image_encoding``: ROS image payloads (raw and compressed) <-> RGB arrays, no cv_bridge.
- ``exports``: ``.npz`` (the release's key names plus ours), JSON, OBJ and PLY, all written
  atomically (:mod:`hggt_core.base.atomic`).
- ``ros_schema``: the node's topics, the ``/hand/mano`` JointState schema and its decoder,
  joint poses and TF specs; ``ros_markers``: the RViz markers.
- ``rosbag_sink``: the node's topics written to a rosbag2.
"""
