# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What both nodes (``hggt_node``, ``hggt_retarget``) share: parameters and the entry point."""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.utilities import try_shutdown

from hggt_ros.parameter_table import ParameterDefinition, ParameterValue

_TYPES = {
    "bool": Parameter.Type.BOOL,
    "int": Parameter.Type.INTEGER,
    "float": Parameter.Type.DOUBLE,
    "string": Parameter.Type.STRING,
    "string_array": Parameter.Type.STRING_ARRAY,
    "float_array": Parameter.Type.DOUBLE_ARRAY,
}


def declare(node: Node, definition: ParameterDefinition) -> ParameterValue:
    """Declare one table parameter on ``node`` (description, choices, read-only unless dynamic).

    Returns:
        Its value (the default unless a parameters file or ``-p`` set it).
    """
    kind = _TYPES[definition.kind]
    choices = f" One of {list(definition.choices)}." if definition.choices else ""
    descriptor = ParameterDescriptor(
        description=definition.description + choices, read_only=not definition.dynamic
    )
    value: object = definition.default
    if definition.kind in ("float", "float_array"):
        # Accept "-p sync.slop_s:=0" and "[0, 0, 1]" (integers); the settings check the value.
        descriptor.dynamic_typing = True
        value = None if definition.default == () else definition.default  # not set: default
    else:
        descriptor.type = kind.value
        value = kind if definition.default == () else definition.default  # typed empty list
    declared = node.declare_parameter(definition.name, value, descriptor).value
    return definition.default if declared is None else declared


def run_node(make_node: Callable[[], Node], name: str, args: list[str] | None) -> int:
    """Init ROS, build the node, spin until shutdown; the body of a node's ``main``.

    Returns:
        0 after a normal shutdown (Ctrl-C included), 1 when the node cannot start (the reason
        is logged in one line, no traceback).
    """
    rclpy.init(args=sys.argv if args is None else args)
    try:
        node = make_node()
    except KeyboardInterrupt:  # Ctrl-C while the node starts (e.g. loads a model)
        try_shutdown()
        return 0
    except Exception as error:  # any start-up failure ends in one clear line, not a trace
        rclpy.logging.get_logger(name).fatal(f"cannot start: {error}")
        try_shutdown()
        return 1
    # Start-up allocated many long-lived objects (torch, models); freezing them keeps the
    # garbage collector from rescanning them in long pauses while messages stream in.
    gc.collect()
    gc.freeze()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        # Under `ros2 launch`, Ctrl-C reaches the node twice (the terminal signals the whole
        # process group, then launch forwards it): the second must not break the clean-up.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        node.destroy_node()
        try_shutdown()
    return 0
