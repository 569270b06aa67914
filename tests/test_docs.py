"""The README and docs/ against the project as it is: each `build.py` command they show exists
with each flag they give it, each repository file they name is there, and each page they link
to exists."""

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A path in the repository, as the pages name them in code spans (a placeholder such as <card> is
# not a file).
REPO_PATH = re.compile(r"(?<![\w/.])((?:py|site|tools|models|tests|docs|results|\.ci|\.github)/[\w./-]*[\w/])")
# `build.py COMMAND …` in a code span or a shell block, up to the end of the line or span
COMMAND = re.compile(r"build\.py ([a-z-]+)([^`\n#]*)")


def code(page: Path) -> list[str]:
    """The page's code: its code spans and the lines of its code blocks."""
    text = page.read_text()
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M)
    prose = re.sub(r"^```[a-z]*\n.*?^```", "", text, flags=re.S | re.M)
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]  # a span may wrap
    return [line for block in blocks for line in block.splitlines()] + spans


@functools.cache
def command_help(command: str) -> str | None:
    """`build.py COMMAND --help`, or None when there is no such command."""
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), command, "--help"], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    return run.stdout if run.returncode == 0 else None


def commands_shown() -> list[tuple[str, str, str]]:
    """(page, command, its flags as shown) for each `build.py` command in the pages' code."""
    return [(page.name, match[1], match[2]) for page in PAGES for span in code(page)
            for match in COMMAND.finditer(span)]


def test_the_pages_show_the_main_commands():
    shown = {command for _, command, _ in commands_shown()}
    assert {"serve", "test", "build", "detect", "segment", "stylize", "bench"} <= shown, shown


@pytest.mark.parametrize("page, command, flags", commands_shown())
def test_each_command_shown_takes_the_flags_shown(page, command, flags):
    help_text = command_help(command)
    assert help_text is not None, f"{page} shows `build.py {command}`, which is no command"
    if command in ("test", "measure-imports"):  # what follows goes to pytest
        return
    for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", flags):
        assert re.search(rf"(?<![\w-]){flag}\b", help_text), f"{page}: `build.py {command}` has no {flag}"


def test_each_file_named_is_in_the_repository():
    missing = [(page.name, path) for page in PAGES for span in code(page) for path in REPO_PATH.findall(span)
               if "<" not in span and not (ROOT / path).exists()]
    assert not missing


def test_each_page_linked_exists():
    broken = [(page.name, target) for page in PAGES
              for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text())
              if not (page.parent / target).exists()]
    assert not broken
