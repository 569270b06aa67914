"""The project's tools behind build.py: one module per concern (see cli.py for the commands).

The app's pure modules that the tools share with the page (py/cards.py, py/names.py) are imported
from py/ as they are.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "py"))
