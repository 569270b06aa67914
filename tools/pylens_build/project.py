"""The project's layout and pins, and how the tools report: paths, the pinned Pyodide, SetupError, log."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
VENV = ROOT / ".venv"
NODE_MODULES = ROOT / "node_modules"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PYODIDE = PYPROJECT["tool"]["pylens"]["pyodide"]


class SetupError(RuntimeError):
    """Something the command needs is missing or wrong; the message says what to do."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

