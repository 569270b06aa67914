"""The shape of py/: modules import only what is below them (no circle, type-checking imports
included), and none grows past what a reader takes in at once."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PY = Path(__file__).resolve().parent.parent / "py"
MAX_MODULE_LINES = 300
MAX_CLASS_LINES = 200


def module_names() -> dict[str, Path]:
    """py/views/mask.py -> views.mask; py/views/__init__.py -> views."""
    found = {}
    for path in sorted(PY.rglob("*.py")):
        parts = path.relative_to(PY).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The app's modules that a module imports anywhere: at its top, in a function, or for type
    checking alone."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found & modules


def test_the_modules_import_each_other_without_a_circle():
    modules = module_names()
    graph = {name: imports_of(path, set(modules)) - {name} for name, path in modules.items()}
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
