#!/usr/bin/env python3
"""PyLens task runner. Runs with a plain python3 (3.11+, standard library only at import time)
and sets up what each command needs.

    python3 build.py serve [--port N]                  set up, then serve the app on http://localhost:N
    python3 build.py test [PYTEST ARGS]                set up, then run ruff and every test
    python3 build.py build [--self-host] [--out DIR]   write the static site to dist/ (all URLs relative)
    python3 build.py models                            fetch, verify and convert the models of models/*.toml
    python3 build.py pyodide                           fetch and verify a self-hosted Pyodide
    python3 build.py detect [--backend B] [--jobs N] [--cluster ADDRESS] [--out FILE] [--resume] INPUT...
                                                       face-mask detection, JSON lines or a .jsonl/.csv/.parquet
                                                       file: in CPython on onnxruntime (default; --jobs on Ray
                                                       Data workers), or in headless Chromium
    python3 build.py segment [--backend B] [--model selfie|meet] IMAGE --out MASK.png
    python3 build.py stylize [--backend B] --style NAME [--mask person|background] [--max-side N] IMAGE --out OUT.png
                                                       (a whole image in CPython by default, with --mask in the page)
    python3 build.py bench [--backend B] [--frames N] [--style-frames N] [--soak N] [--cold-runs N]
                           [--network PROFILES] [--only-network] [--batch] [--results DIR] [--json]
                                                       time both pipelines against their models alone and
                                                       a plain JavaScript page; start-up (on localhost, and
                                                       the built site over a throttled link), bytes, soak

Environment:
    PYODIDE_DIST   a local Pyodide distribution to self-host instead of the CDN (tests always self-host)
    MODEL_MIRROR   a folder holding each card's source files under its `mirror` folder, instead of upstream
    IMAGE_MIRROR   a folder holding the demo photos of site/demos.json by file name, instead of upstream
    CHROMIUM       the Chromium binary for the headless commands (default /usr/bin/chromium)

The commands live in tools/pylens_build/ (cli.py), one module per concern.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))

from pylens_build.cli import main  # after tools/ is on the path

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
