# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""launch/multi_cam.launch.py, read statically: what holds without the ROS 2 CLI.

The launch itself runs in test_launch.py (colcon build, ``ros2 launch``, Ctrl-C), which needs
../shared/ros. These checks run everywhere: each DeclareLaunchArgument has a description and a
default, the declared arguments are exactly those the file reads, the ones that set node
parameters name declared parameters of the right type, and RViz is checked for before any node
is made.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytest.importorskip("yaml", reason="PyYAML comes with the ROS environment (launch)")

from hggt_ros.launch_support import ARGUMENT_PARAMETERS
from hggt_ros.parameter_table import PARAMETERS_BY_NAME

REPO = Path(__file__).resolve().parents[2]
LAUNCH_FILE = REPO / "launch" / "multi_cam.launch.py"
OWN_ARGUMENTS = {"params_file", "namespace", "use_rviz"}
"""Launch arguments that are not node parameters."""


@pytest.fixture(scope="module")
def tree() -> ast.Module:
    return ast.parse(LAUNCH_FILE.read_text(), filename=str(LAUNCH_FILE))


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _string_constant(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def test_every_launch_argument_is_declared_with_a_description(tree: ast.Module) -> None:
    declared = {}
    for call in _calls(tree, "DeclareLaunchArgument"):
        name = _string_constant(call.args[0] if call.args else _keyword(call, "name"))
        assert name is not None, f"line {call.lineno}: the argument name must be a string"
        declared[name] = call
    assert set(declared) == set(ARGUMENT_PARAMETERS) | OWN_ARGUMENTS
    for name, call in declared.items():
        # Descriptions may be implicitly concatenated literals: they fold into one Constant.
        text = _string_constant(_keyword(call, "description"))
        assert text and len(text) >= 20, f"launch argument {name!r} needs a description"
        assert _keyword(call, "default_value") is not None, f"{name!r} needs a default"


def test_the_file_reads_its_own_arguments(tree: ast.Module) -> None:
    read = {
        _string_constant(call.args[0]) for call in _calls(tree, "LaunchConfiguration") if call.args
    }
    assert read >= OWN_ARGUMENTS
    # The node-parameter arguments are read in a loop over ARGUMENT_PARAMETERS.
    assert "launch_support.ARGUMENT_PARAMETERS" in ast.unparse(tree)


def test_arguments_map_onto_declared_node_parameters() -> None:
    expected_kinds = {"cameras": "string_array"}
    for argument, parameter in ARGUMENT_PARAMETERS.items():
        assert parameter in PARAMETERS_BY_NAME, f"{argument!r} sets an undeclared {parameter!r}"
        kind = PARAMETERS_BY_NAME[parameter].kind
        assert kind == expected_kinds.get(argument, "string"), (argument, kind)


def test_rviz_is_checked_for_before_any_node_is_made(tree: ast.Module) -> None:
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    nodes = functions["_nodes"]
    first_check = min(call.lineno for call in _calls(nodes, "_require_rviz"))
    made_in_nodes = _calls(nodes, "Node") + _calls(nodes, "_rviz")
    assert made_in_nodes and all(first_check < call.lineno for call in made_in_nodes)
    # Every node is made there (or by _rviz, which only _nodes calls): none starts before.
    made = {call.lineno for call in _calls(tree, "Node")}
    assert made == {
        call.lineno for name in ("_nodes", "_rviz") for call in _calls(functions[name], "Node")
    }
    assert len(_calls(tree, "_rviz")) == 1
