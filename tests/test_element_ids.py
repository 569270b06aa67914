"""The page's element ids, defined once in site/index.html: each is unique there, each id that the
app's Python (py/) or the page's shell (site/shell/) names is one of them, and a view's ids are
scoped by the view's name (`mask-score`, `style-strength`, `batch-table`): the ids inside a view's
panel start with its name, and a view's module names no other view's ids."""

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VIEWS = ("mask", "style", "batch")
VIEW_MODULES = {"mask": ("mask.py",), "style": ("style.py",), "batch": ("batch.py", "batch_table.py", "batch_run.py")}
ID_ATTRIBUTES = ("setting_controls", "save_buttons", "fps_output")  # a view's ids, as views/protocol.py has them


class PageIds(HTMLParser):
    """Every id in the page, with the view whose panel it is in (None: the page's own)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[tuple[str, str | None]] = []
        self.open: list[tuple[str, str | None]] = []  # tag, view of each open <section>

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        panel = re.fullmatch(r"(\w+)-panel", attributes.get("id") or "")
        view = panel.group(1) if panel else (self.open[-1][1] if self.open else None)
        if "id" in attributes:
            self.ids.append((attributes["id"], view))
        if tag == "section":
            self.open.append((tag, view))

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.open.pop()


@pytest.fixture(scope="module")
def page_ids() -> list[tuple[str, str | None]]:
    parser = PageIds()
    parser.feed((ROOT / "site" / "index.html").read_text())
    return parser.ids


def ids_named_in_python(path: Path) -> set[str]:
    """The ids a module names: `element("…")`, the keys of `listen(event, {…})`, and a view's id attributes."""
    named = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            function = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if function == "element" and node.args and isinstance(node.args[0], ast.Constant):
                named.add(node.args[0].value)
            if function == "listen" and len(node.args) == 2 and isinstance(node.args[1], ast.Dict):
                named |= {key.value for key in node.args[1].keys if isinstance(key, ast.Constant)}
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) in ID_ATTRIBUTES for t in node.targets):
            value = node.value
            named |= {item.value for item in getattr(value, "elts", [value]) if isinstance(item, ast.Constant)}
    return named


def ids_named_in_javascript(path: Path) -> set[str]:
    return set(re.findall(r'\$\("([\w-]+)"\)', path.read_text()))


def test_every_id_is_defined_once(page_ids):
    names = [name for name, _ in page_ids]
    assert sorted({name for name in names if names.count(name) > 1}) == []


def test_every_id_the_app_names_is_in_the_page(page_ids):
    defined = {name for name, _ in page_ids}
    named = {str(path.relative_to(ROOT)): ids_named_in_python(path) for path in (ROOT / "py").rglob("*.py")}
    named |= {str(path.relative_to(ROOT)): ids_named_in_javascript(path)
              for path in (ROOT / "site" / "shell").glob("*.mjs")}
    assert sum(len(ids) for ids in named.values()) > 60  # the parsing finds them
    assert {where: sorted(ids - defined) for where, ids in named.items() if ids - defined} == {}


def test_a_views_ids_start_with_its_name(page_ids):
    assert {view for _, view in page_ids} >= set(VIEWS)
    assert [(name, view) for name, view in page_ids if view and not name.startswith(f"{view}-")] == []
    page_level = [name for name, view in page_ids if view is None]
    assert [name for name in page_level if name.split("-")[0] in VIEWS and name != f"{name.split('-')[0]}-panel"] == []


@pytest.mark.parametrize("view", VIEWS)
def test_a_view_names_no_other_views_ids(view):
    others = tuple(f"{other}-" for other in VIEWS if other != view)
    named = set().union(*(ids_named_in_python(ROOT / "py" / "views" / module) for module in VIEW_MODULES[view]))
    assert named  # the parsing finds them
    assert sorted(name for name in named if name.startswith(others)) == []
