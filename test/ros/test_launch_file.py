# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""launch/multi_cam.launch.py, checked statically.

The ``launch`` and ``launch_ros`` packages are not installable here (not on PyPI, not in
Debian; ../shared/design/ROS_TESTING.md), so the file is parsed with ``ast`` and never
imported or run: every DeclareLaunchArgument must have a description, every argument must be
used, the arguments that set node parameters must name declared parameters, and the files
and executable it refers to must exist (the config files, and the ``hggt_node`` console script
in setup.py, which ``ros2 run`` / the Node action start).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hggt_ros.parameter_table import PARAMETERS

REPO = Path(__file__).resolve().parents[2]
LAUNCH_FILE = REPO / "launch" / "multi_cam.launch.py"
EXPECTED_ARGUMENTS = {"cameras", "params_file", "namespace", "use_rviz", "engine", "device"}


@pytest.fixture(scope="module")
def tree() -> ast.Module:
    return ast.parse(LAUNCH_FILE.read_text(), filename=str(LAUNCH_FILE))


def _calls(tree: ast.Module, name: str) -> list[ast.Call]:
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


def _declared_arguments(tree: ast.Module) -> dict[str, ast.Call]:
    declared = {}
    for call in _calls(tree, "DeclareLaunchArgument"):
        name = _string_constant(call.args[0] if call.args else _keyword(call, "name"))
        assert name is not None, f"line {call.lineno}: the argument name must be a string"
        declared[name] = call
    return declared


def test_every_launch_argument_is_declared_with_a_description(tree: ast.Module) -> None:
    declared = _declared_arguments(tree)
    assert set(declared) == EXPECTED_ARGUMENTS
    for name, call in declared.items():
        description = _keyword(call, "description")
        # Descriptions may be implicitly concatenated literals: they fold into one Constant.
        text = _string_constant(description)
        assert text and len(text) >= 20, f"launch argument {name!r} needs a description"
        assert _keyword(call, "default_value") is not None, f"{name!r} needs a default"


def test_every_declared_argument_is_used(tree: ast.Module) -> None:
    used = {
        _string_constant(call.args[0]) for call in _calls(tree, "LaunchConfiguration") if call.args
    }
    assert EXPECTED_ARGUMENTS - {"cameras", "engine", "device"} <= used
    # cameras, engine and device are read through ARGUMENT_PARAMETERS in a loop.
    mapping = _argument_parameters(tree)
    assert used | set(mapping) >= EXPECTED_ARGUMENTS


def _argument_parameters(tree: ast.Module) -> dict[str, str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "ARGUMENT_PARAMETERS"
            for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, dict)
            return value
    raise AssertionError("ARGUMENT_PARAMETERS is missing from the launch file")


def test_arguments_map_onto_declared_node_parameters(tree: ast.Module) -> None:
    mapping = _argument_parameters(tree)
    parameters = {definition.name: definition for definition in PARAMETERS}
    assert set(mapping) == {"cameras", "engine", "device"}
    for argument, parameter in mapping.items():
        assert parameter in parameters, f"{argument!r} sets an undeclared parameter {parameter!r}"
    assert parameters[mapping["cameras"]].kind == "string_array"
    assert parameters[mapping["engine"]].kind == parameters[mapping["device"]].kind == "string"


def test_the_node_action_runs_hggt_node_with_the_parameters_file(tree: ast.Module) -> None:
    nodes = {_string_constant(_keyword(call, "executable")): call for call in _calls(tree, "Node")}
    assert set(nodes) == {"hggt_node", "rviz2"}
    node = nodes["hggt_node"]
    assert _string_constant(_keyword(node, "package")) in ("hggt_ros", None)  # PACKAGE constant
    parameters = ast.unparse(_keyword(node, "parameters") or ast.Constant(None))
    assert "LaunchConfiguration('params_file')" in parameters
    rviz = nodes["rviz2"]
    assert "use_rviz" in ast.unparse(_keyword(rviz, "condition") or ast.Constant(None))
    source = LAUNCH_FILE.read_text()
    assert '"config", "hggt.yaml"' in source and '"config", "hggt.rviz"' in source
    assert (REPO / "config" / "hggt.yaml").is_file()
    assert (REPO / "config" / "hggt.rviz").is_file()


def test_hggt_node_is_a_console_script_of_the_package() -> None:
    setup = ast.parse((REPO / "setup.py").read_text())
    scripts = [
        element.value
        for node in ast.walk(setup)
        if isinstance(node, ast.Dict)
        for key, value in zip(node.keys, node.values, strict=True)
        if _string_constant(key) == "console_scripts" and isinstance(value, ast.List)
        for element in value.elts
        if isinstance(element, ast.Constant)
    ]
    normalised = {str(script).replace(" ", "") for script in scripts}
    assert "hggt_node=hggt_ros.node:main" in normalised, scripts
