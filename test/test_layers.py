# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The core's subpackages import each other only downwards (docs/DESIGN.md, "Layers").

The imports are read with :mod:`ast` (every ``import`` statement, also those inside functions
and ``TYPE_CHECKING`` blocks: a lazy import is still a dependency), so nothing is executed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "hggt_core"
LAYERS = (
    "base",
    "geometry",
    "mano",
    "metrics",
    "model",
    "engine",
    "pipeline",
    "landmarks",
    "calibration",
    "assembly",
    "render",
    "io",
    "retarget",
    "bench",
    "cli",
)
"""Bottom to top: a subpackage (or top-level module) may import only those before it."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(source: str, package: str) -> set[str]:
    """Absolute names of the hggt_core modules a source imports (relative ones resolved).

    ``package`` is the package the source lives in (the module itself for ``__init__.py``).
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("hggt_core.")}


def _layer(module: str) -> str:
    return module.split(".")[1]


def _arrows() -> dict[tuple[str, str], set[str]]:
    """(importing module, imported subpackage) -> the imported names, across subpackages."""
    arrows: dict[tuple[str, str], set[str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        module = _module_name(path)
        if module == "hggt_core":
            continue
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for name in _imported(path.read_text(encoding="utf-8"), package):
            if _layer(name) != _layer(module):
                arrows.setdefault((module, _layer(name)), set()).add(name)
    return arrows


def test_every_subpackage_has_a_layer() -> None:
    modules = {_module_name(path) for path in CORE.rglob("*.py")} - {"hggt_core"}
    found = {_layer(module) for module in modules}
    assert found - set(LAYERS) == set(), "add new subpackages to LAYERS and docs/DESIGN.md"
    assert set(LAYERS) - found == set(), "LAYERS names a subpackage that no longer exists"


def test_imports_point_down_the_layers() -> None:
    upward = sorted(
        f"{module} imports {', '.join(sorted(names))} ({target} is above {_layer(module)})"
        for (module, target), names in _arrows().items()
        if LAYERS.index(target) > LAYERS.index(_layer(module))
    )
    assert upward == []


def test_subpackages_form_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for module, target in _arrows():
        graph.setdefault(_layer(module), set()).add(target)
    done: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        if node in trail:
            pytest.fail("import cycle: " + " -> ".join([*trail[trail.index(node) :], node]))
        if node not in done:
            for target in sorted(graph.get(node, ())):
                visit(target, (*trail, node))
            done.add(node)

    for node in sorted(graph):
        visit(node, ())


def test_the_walk_sees_relative_lazy_and_type_checking_imports() -> None:
    source = """
from typing import TYPE_CHECKING
from . import crop
from ..mano.layer import ManoLayer
if TYPE_CHECKING:
    from hggt_core.render import scene
def build() -> None:
    import hggt_core.io.images
"""
    assert _imported(source, "hggt_core.pipeline") == {
        "hggt_core.pipeline",
        "hggt_core.pipeline.crop",
        "hggt_core.mano.layer",
        "hggt_core.mano.layer.ManoLayer",
        "hggt_core.render",
        "hggt_core.render.scene",
        "hggt_core.io.images",
    }
