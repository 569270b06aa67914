"""The shape of py/: modules import only what is below them (no circle, type-checking imports
included), and none grows past what a reader takes in at once."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

import live

PY = Path(__file__).resolve().parent.parent / "py"
MAX_MODULE_LINES = 300
MAX_CLASS_LINES = 200


def module_names() -> dict[str, Path]:
    """Each module of py/ by its name (views.mask), with its file."""
    return {live.module_name(path.relative_to(PY.parent).as_posix()): path for path in sorted(PY.rglob("*.py"))}


def test_the_modules_import_each_other_without_a_circle():
    modules = module_names()
    graph = {name: (live.imported_names(path.read_text(), type_checking=True) & modules.keys()) - {name}
             for name, path in modules.items()}
    assert graph["main"] and not any("main" in used for used in graph.values())  # the wiring, on top
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        pytest.fail(f"an import circle: {' -> '.join(exc.args[1])}")


def test_no_module_or_class_is_too_long_to_read_at_once():
    too_long = []
    for name, path in module_names().items():
        source = path.read_text()
        if len(source.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(source.splitlines())} lines")
        too_long += [f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
                     for node in ast.walk(ast.parse(source))
                     if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES]
    assert too_long == []
