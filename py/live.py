"""Live editing under `build.py serve`: a module of py/ saved in the editor is fetched and imported
again in the running Python, with the modules that import it; then the picture shown runs again.

The development server's page script (tools/pylens_build/live-edit.js) hears of each save and
hands the changed paths to py/live_edit.py, which fetches them and reloads them here (pure Python,
no `js`: the tests read imports as the reload does); a change it cannot take in place (under
site/, or py/main.py) reloads the page instead. Updated in place means: the module's functions and
classes keep their identity and take the new code, so the running app, its views and the handlers
bound to them run the new code at once. A module that does not import keeps its previous code, and the page shows why.
"""

from __future__ import annotations

import ast
import importlib
import sys
import traceback
import types
from graphlib import TopologicalSorter
from pathlib import Path

HOME = Path.cwd()  # where PyScript put the app's files (see site/pyscript.toml)


class LiveError(Exception):
    """A changed file that cannot be taken: its name, its error in one line, the traceback, and the
    line of the file where it went wrong (None: not known)."""

    def __init__(self, name: str, error: str, trace: str, line: int | None = None) -> None:
        super().__init__(f"{name}: {error}")
        self.name, self.error, self.trace, self.line = name, error, trace, line


def module_name(path: str) -> str:
    """py/views/mask.py -> views.mask; py/views/__init__.py -> views."""
    parts = Path(path).relative_to("py").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_paths() -> list[str]:
    """The app's modules that a running app can take anew, as paths under py/: not py/main.py, the
    app's start, which is not a file here."""
    return [f"py/{path.relative_to(HOME).as_posix()}" for path in sorted(HOME.rglob("*.py"))]


def module_sources() -> dict[str, str]:
    """The app's modules as the running app has them (path under py/ -> text), edits included."""
    return {path: (HOME / path.removeprefix("py/")).read_text() for path in module_paths()}


def app_modules() -> dict[str, types.ModuleType]:
    """The app's modules imported so far (those loaded from HOME), by name."""
    return {name: module for name, module in list(sys.modules.items())
            if getattr(module, "__file__", None) and Path(module.__file__).is_relative_to(HOME)}


def imported_names(source: str, type_checking: bool = False) -> set[str]:
    """Every module a source imports, at its top or inside a function; those imported for type
    checking alone too when `type_checking`."""
    found = set()
    nodes = [ast.parse(source)]
    while nodes:
        node = nodes.pop()
        if not type_checking and isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
                and node.test.id == "TYPE_CHECKING":
            nodes.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        nodes.extend(ast.iter_child_nodes(node))
    return found


def reload_order(changed: set[str], modules: dict[str, types.ModuleType]) -> list[str]:
    """The changed modules and every app module that imports one of them, directly or not, each
    after the modules it imports."""
    imports = {name: imported_names(Path(module.__file__).read_text()) & modules.keys()
               for name, module in modules.items()}
    affected = set(changed)
    while True:
        more = {name for name, used in imports.items() if used & affected} - affected
        if not more:
            break
        affected |= more
    return list(TopologicalSorter({name: imports[name] & affected for name in affected}).static_order())


def check(name: str, path: Path, source: str) -> None:
    """Run a module's new source in a module of its own, apart from the running one: a syntax error
    or an exception at import is a LiveError, and the running module is left as it was."""
    trial = types.ModuleType(name)
    trial.__file__ = str(path)
    try:
        exec(compile(source, str(path), "exec"), trial.__dict__)  # noqa: S102 — the app's own module
    except BaseException as exc:  # noqa: BLE001 — whatever it raises is shown
        error = "".join(traceback.format_exception_only(exc)).strip().splitlines()[-1]
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next))  # from the module on
        raise LiveError(name, error, trace, error_line(exc, str(path))) from None


def error_line(exc: BaseException, filename: str) -> int | None:
    """The line of `filename` where an exception arose: a syntax error's own, else the innermost
    frame of the traceback in that file."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return exc.lineno
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == filename]
    return lines[-1] if lines else None


def update_in_place(old: dict, module: types.ModuleType) -> None:
    """The module's functions and classes as they were before the reload, given the new code, put
    back in the module: whatever holds them (instances, bound handlers, other modules) runs the
    new code."""
    for key, new in list(vars(module).items()):
        previous = old.get(key)
        if previous is None or previous is new or getattr(previous, "__module__", None) != module.__name__:
            continue
        if isinstance(previous, types.FunctionType) and isinstance(new, types.FunctionType):
            if update_function(previous, new):
                setattr(module, key, previous)
        elif isinstance(previous, type) and isinstance(new, type):
            update_class(previous, new)
            setattr(module, key, previous)


def update_function(old: types.FunctionType, new: types.FunctionType) -> bool:
    """Give `old` the code of `new`; False when it cannot (their closures differ)."""
    try:
        old.__code__ = new.__code__
    except ValueError:
        return False
    old.__defaults__, old.__kwdefaults__ = new.__defaults__, new.__kwdefaults__
    old.__doc__, old.__annotations__ = new.__doc__, new.__annotations__
    return True


def update_class(old: type, new: type) -> None:
    """Give `old` the attributes of `new`: its methods updated in place, the others replaced."""
    for key in set(vars(old)) - set(vars(new)) - {"__dict__", "__weakref__"}:
        delattr(old, key)
    for key, value in vars(new).items():
        if key in ("__dict__", "__weakref__"):
            continue
        current = vars(old).get(key)
        if isinstance(current, types.FunctionType) and isinstance(value, types.FunctionType) \
                and update_function(current, value):
            continue
        setattr(old, key, value)


def reload_modules(sources: dict[str, str]) -> list[str]:
    """Take new sources of modules (name -> text): each checked, written where Python imports it
    from, then it and the modules that import it reloaded in place. Returns the names reloaded;
    raises LiveError, leaving every module as it was, when a new source does not import."""
    modules = app_modules()
    paths = {name: Path(modules[name].__file__) if name in modules else HOME / (name.replace(".", "/") + ".py")
             for name in sources}
    for name, source in sources.items():
        check(name, paths[name], source)
    for name, source in sources.items():
        paths[name].write_text(source)
    changed = {name for name in sources if name in modules}  # one not imported yet is taken when it is
    order = reload_order(changed, modules)
    for name in order:
        module = modules[name]
        old = dict(vars(module))
        importlib.reload(module)
        update_in_place(old, module)
    return order

