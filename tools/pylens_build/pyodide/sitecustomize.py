"""Imported as Python starts (by `site`), from the trimmed standard library of the site's runtime:
an import of a module the trimming left out fails with an error that names it and says how to get
the whole runtime, instead of a bare "No module named"."""

import sys

LEFT_OUT: frozenset[str] = frozenset()  # build.py writes the modules here (tools/pylens_build/site_runtime.py)
HOW = ("this site's Python runtime holds only the modules the app imports, and leaves it out. Open the page with "
       "?python=full for the whole runtime as Pyodide publishes it (a larger download), or add the module to "
       "`keep` in pyproject.toml's [tool.pylens.pyodide] and build the site again.")


class LeftOut:
    """Last on sys.meta_path: asked only for a module no other finder has."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in LEFT_OUT:
            return None
        error = ModuleNotFoundError(f"No module named {name!r}: {HOW}", name=name)
        error._PYODIDE_ADDED_NOTE = True  # Pyodide's note would call it removed for browser limitations
        raise error


sys.meta_path.append(LeftOut)
