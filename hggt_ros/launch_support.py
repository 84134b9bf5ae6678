# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What ``launch/multi_cam.launch.py`` computes, kept out of the launch file so it is tested alone.

ROS-free and light to import (no rclpy, no launch, no torch at import time):

* :data:`ARGUMENT_PARAMETERS` and :func:`parameter_overrides`: launch arguments -> node
  parameters (empty arguments leave the parameters file's values);
* :func:`parameters_from_file`: the values a ROS 2 parameters file gives one node;
* :func:`rviz_config`: the RViz configuration for the cameras, namespace and fixed frame
  of this launch, made from the package's ``config/hggt.rviz`` (its template);
* :func:`rviz_inputs` and :func:`resolve_topic`: which frame and topics that configuration
  shows, by the node's own parameter mapping (:mod:`hggt_ros.params`) and name resolution.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

NODE_NAME = "hggt_node"
"""The node's name in the launch file."""
ARGUMENT_PARAMETERS = {
    "cameras": "cameras.names",
    "engine": "engine.kind",
    "device": "engine.device",
    "reference_frame": "frames.reference",
    "calibration_file": "calibration.file",
    "world_frame": "calibration.world_frame",
    "anchor_frame": "frames.anchor_frame",
}
"""Launch argument -> the node parameter it sets when not empty."""
OUTPUT_TOPIC_PREFIX = "/hand/"
"""Displays of the template whose topic starts with this show the node's (namespaced) outputs."""
_LIST_SEPARATORS = re.compile(r"[\s,\[\]'\"]+")


class LaunchSetupError(ValueError):
    """A launch argument or file the launch cannot use; the message says which and why."""


def camera_names(text: str) -> list[str]:
    """``"[cam0, cam1]"``, ``"cam0,cam1"`` or ``"cam0 cam1"`` -> ``["cam0", "cam1"]``."""
    return [name for name in _LIST_SEPARATORS.split(text) if name]


def parameter_overrides(arguments: Mapping[str, str]) -> dict[str, object]:
    """The node parameters set by launch arguments (argument name -> its text).

    Empty (or absent) arguments are left out, so the parameters file keeps its value.
    """
    overrides: dict[str, object] = {}
    for argument, parameter in ARGUMENT_PARAMETERS.items():
        value = arguments.get(argument, "").strip()
        if value:
            overrides[parameter] = camera_names(value) if argument == "cameras" else value
    return overrides


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def parameters_from_file(path: Path, node_name: str, namespace: str = "") -> dict[str, object]:
    """Dotted name -> value that a ROS 2 parameters file gives one node.

    Sections apply in file order when keyed ``/**``, the node's name or its fully qualified
    name (a later section wins); other nodes' sections are ignored.

    Args:
        path: the YAML file (``{section: {ros__parameters: {...}}}``).
        node_name: the node's name.
        namespace: the node's namespace (``""`` or ``"/"``: the root).

    Raises:
        LaunchSetupError: the file does not exist or is not a parameters file.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise LaunchSetupError(f"params_file {path}: {error}".splitlines()[0]) from None
    if not isinstance(document, Mapping):
        raise LaunchSetupError(f"params_file {path}: not a ROS 2 parameters file")
    fully_qualified = resolve_topic(node_name, namespace)
    values: dict[str, object] = {}
    for section, content in document.items():
        if section not in ("/**", node_name, fully_qualified, fully_qualified.lstrip("/")):
            continue
        parameters = content.get("ros__parameters") if isinstance(content, Mapping) else None
        if not isinstance(parameters, Mapping):
            raise LaunchSetupError(f"params_file {path}: {section!r} has no ros__parameters")
        values.update(_flatten(parameters))
    return values


def resolve_topic(name: str, namespace: str, node_name: str = NODE_NAME) -> str:
    """A topic name as a node resolves it: absolute names stay, ``~`` is the node's name.

    Args:
        name: ``"/abs"``, ``"relative/name"`` or ``"~/private"``.
        namespace: the node's namespace, with or without a leading ``/``.
        node_name: the node's name, for ``~``.
    """
    if name.startswith("/"):
        return name
    base = "/" + namespace.strip("/") if namespace.strip("/") else ""
    if name == "~" or name.startswith("~/"):
        return f"{base}/{node_name}{name[1:]}"
    return f"{base}/{name}"


def rviz_inputs(
    params_file: Path, overrides: Mapping[str, object], namespace: str
) -> tuple[str, list[tuple[str, str]]]:
    """The fixed frame and the (camera, image topic) pairs an RViz window of this launch shows.

    The values are the node's: the parameters file's section for the node, then the launch
    arguments, mapped by :func:`hggt_ros.params.settings_from_parameters`. The fixed frame is
    the world frame (``calibration.world_frame`` or ``calibration.file``'s), else the anchor
    frame (``frames.anchor_frame``), else ``frames.reference``, or when that is empty too
    ``<first camera>_optical_frame`` (the node then uses the first camera's header.frame_id,
    which a launch cannot know).

    Raises:
        LaunchSetupError: an unreadable parameters file.
        ParameterError: parameters the node would refuse too.
    """
    # Imported here: the parameter defaults come from the core, which imports torch; only a
    # launch with RViz needs them.
    from hggt_ros.params import settings_from_parameters

    values = {**parameters_from_file(params_file, NODE_NAME, namespace), **overrides}
    settings = settings_from_parameters(values)
    names = settings.cameras.names
    topics = [topic.removesuffix("/compressed") for topic in settings.cameras.image_topics]
    world = None if settings.calibration is None else settings.calibration.world_frame
    anchor = None if settings.frames.anchor is None else settings.frames.anchor.frame
    fixed_frame = world or anchor or settings.frames.reference or f"{names[0]}_optical_frame"
    resolved = [resolve_topic(topic, namespace) for topic in topics]
    return fixed_frame, list(zip(names, resolved, strict=True))


def rviz_config(
    template: str, fixed_frame: str, image_topics: Sequence[tuple[str, str]], namespace: str
) -> str:
    """The RViz configuration of one launch, made from the template's displays.

    The template's ``/hand/...`` topics move into ``namespace`` (the node publishes relative
    names), its image displays are replaced by one per camera (copies of its first image
    display), and the fixed frame becomes ``fixed_frame``.

    Args:
        template: text of an RViz configuration with at least one ``rviz_default_plugins/Image``
            display (``config/hggt.rviz``).
        fixed_frame: RViz's fixed frame (world, anchor or reference frame).
        image_topics: (camera name, resolved image topic) per camera, reference first.
        namespace: the node's namespace.

    Raises:
        LaunchSetupError: a template without an image display.
    """
    config = yaml.safe_load(template)
    manager = config["Visualization Manager"]
    displays = manager["Displays"]
    images = [d for d in displays if d.get("Class") == "rviz_default_plugins/Image"]
    if not images:
        raise LaunchSetupError("the RViz template has no rviz_default_plugins/Image display")
    kept = [d for d in displays if d.get("Class") != "rviz_default_plugins/Image"]
    for display in kept:
        topic = display.get("Topic")
        if isinstance(topic, dict) and str(topic.get("Value", "")).startswith(OUTPUT_TOPIC_PREFIX):
            topic["Value"] = resolve_topic(topic["Value"].lstrip("/"), namespace)
    for name, topic in image_topics:
        display = copy.deepcopy(images[0])
        display["Name"] = f"{name} image"
        display["Topic"]["Value"] = topic
        kept.append(display)
    manager["Displays"] = kept
    manager["Global Options"]["Fixed Frame"] = fixed_frame
    header = f"# Made by hggt_ros' multi_cam.launch.py from config/hggt.rviz ({fixed_frame})\n"
    return header + yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
