"""The messages across the thread line, defined once in py/names.py (TO_PYTHON, TO_SHELL: each
kind and its fields): the page's shell (site/) and the app's Python (py/) send and take exactly
those, spelt as there."""

import ast
import re
from pathlib import Path

import names

ROOT = Path(__file__).resolve().parent.parent
SITE_SCRIPTS = sorted([*(ROOT / "site").rglob("*.js"), *(ROOT / "site").rglob("*.mjs")])


def top_level_keys(body: str) -> set[str]:
    """The keys of a JavaScript object literal's body (`file, name: x, error: f(a, b)`)."""
    keys, depth, part = set(), 0, ""
    for char in body + ",":
        depth += (char in "([{") - (char in ")]}")
        if char == "," and depth == 0:
            if part.strip():
                keys.add(re.match(r"\s*([\w$]+)", part).group(1))
            part = ""
        else:
            part += char
    return keys


def sent_from_javascript(call: str) -> dict[str, set[str]]:
    """Each kind sent with `call({ kind: "…", … })` in the site's scripts, with the fields sent."""
    sent: dict[str, set[str]] = {}
    for script in SITE_SCRIPTS:
        text = script.read_text()
        for match in re.finditer(rf'{call}\(\{{ kind: "([\w-]+)"(,(?:[^{{}}]|\{{[^{{}}]*\}})*)?\s*\}}', text):
            sent.setdefault(match.group(1), set()).update(top_level_keys(match.group(2) or ""))
    return sent


def python_calls(method: str) -> list[ast.Call]:
    """Every `….method("kind", …)` call in py/."""
    calls = []
    for path in (ROOT / "py").rglob("*.py"):
        calls += [node for node in ast.walk(ast.parse(path.read_text()))
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method
                  and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]
    return calls


def test_the_shell_sends_python_the_kinds_and_fields_defined():
    sent = sent_from_javascript("send")
    assert sent.keys() == names.TO_PYTHON.keys()
    assert {kind: fields for kind, fields in sent.items() if not fields <= set(names.TO_PYTHON[kind])} == {}


def test_python_takes_every_kind_the_shell_sends():
    taken = {call.args[0].value for call in python_calls("on")}
    assert taken == names.TO_PYTHON.keys()


def test_python_sends_the_shell_the_kinds_and_fields_defined():
    sent: dict[str, set[str]] = {}
    for call in python_calls("send"):
        sent.setdefault(call.args[0].value, set()).update(word.arg for word in call.keywords if word.arg)
    assert sent.keys() <= names.TO_SHELL.keys()
    assert {kind: fields for kind, fields in sent.items() if not fields <= set(names.TO_SHELL[kind])} == {}
    from_start = sent_from_javascript("postMessage")  # site/start.mjs reports a failed start itself
    assert set(sent) | set(from_start) == names.TO_SHELL.keys()
    assert {kind: fields for kind, fields in from_start.items() if not fields <= set(names.TO_SHELL[kind])} == {}


def test_the_shell_takes_every_kind_python_sends():
    taken = {kind for script in SITE_SCRIPTS for kind in re.findall(r'\bon\("([\w-]+)"', script.read_text())}
    assert taken == names.TO_SHELL.keys()
