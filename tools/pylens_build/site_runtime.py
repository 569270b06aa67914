"""The Python runtime the self-hosted site serves under pyodide/: Pyodide's, with its standard library
and the numpy and Pillow wheels trimmed to the modules the app imports (measured: pyodide/imports.txt)
and compiled to bytecode at build time, by Pyodide itself under Node (pyodide/compile.py). Beside
it, under pyodide/full/, the standard library and wheels as Pyodide publishes them, which the page
takes with ?python=full (site/start.mjs)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path, PurePosixPath

from .fetch import sha256_of
from .project import BUILD, PYODIDE, SetupError, log

HERE = Path(__file__).parent / "pyodide"
IMPORTS = HERE / "imports.txt"
LEFT_OUT_FINDER = HERE / "sitecustomize.py"
RUNTIME = BUILD / "runtime"
STDLIB = "python_stdlib.zip"
STDLIB_AT = "/lib/python312.zip/"  # where Pyodide mounts the standard library
SITE_PACKAGES = "/lib/python3.12/site-packages/"
TRIMMED = ("numpy", "pillow")  # the packages whose wheels are trimmed; the others are served as published
RUNTIME_FILES = ("pyodide.mjs", "pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm")
FULL = "full"  # the folder of the runtime as published
# Set to a file, by build.py measure-imports: the runtime keeps every module, and each page the
# tests drive adds what it imported to that file as it closes (headless.py).
RECORD_IMPORTS = "PYLENS_RECORD_IMPORTS"


IMPORTS_HEADER = """\
# The modules of Pyodide's standard library, numpy and Pillow that the app imports, measured by
# `python3 build.py measure-imports`: the browser tests run on the whole runtime, and each page's
# sys.modules is read as it closes. The site's runtime keeps these and leaves the others out
# (tools/pylens_build/site_runtime.py); pyproject.toml's [tool.pylens.pyodide] keep adds more.
"""


def kept_imports() -> set[str]:
    """The modules the trimmed runtime keeps: pyodide/imports.txt's and pyproject.toml's, with their packages."""
    listed = [line.strip() for line in IMPORTS.read_text().splitlines() if line.strip() and not line.startswith("#")]
    names = {*listed, *PYODIDE.get("keep", [])}
    return {".".join(name.split(".")[:depth]) for name in names for depth in range(1, name.count(".") + 2)}


def write_imports(records: Path, dist: Path) -> list[str]:
    """pyodide/imports.txt from the recorded pages' modules: those of the archives the runtime trims."""
    imported = set().union(*(json.loads(line) for line in records.read_text().splitlines() if line))
    if not imported:
        raise SetupError(f"{records} records no page's modules: no browser test ran to its end")
    archives = [dist / STDLIB, *(dist / wheel(name) for name in TRIMMED)]
    trimmable = {module_of(member) for archive in archives for member in zipfile.ZipFile(archive).namelist()}
    kept = sorted(imported & trimmable)
    IMPORTS.write_text(IMPORTS_HEADER + "".join(name + "\n" for name in kept))
    return kept


def module_of(member: str) -> str | None:
    """The module an archive member holds (json/decoder.py: json.decoder), or None for other files."""
    path = PurePosixPath(member)
    if path.suffix == ".py":
        parts = path.with_suffix("").parts
    elif path.suffix == ".so":  # numpy/_core/_multiarray_umath.cpython-312-wasm32-emscripten.so
        parts = (*path.parent.parts, path.name.split(".")[0])
    else:
        return None
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def trim(source: Path, dest: Path, keep: set[str] | None) -> set[str]:
    """source's members that hold a kept module (all with None), and a wheel's metadata, written to
    dest; returns the modules left out."""
    left_out = set()
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as out:
        for info in archive.infolist():
            module = module_of(info.filename)
            if info.is_dir():
                continue
            if keep is None or module in keep or ".dist-info/" in info.filename:
                out.writestr(info, archive.read(info))
            elif module is not None:
                left_out.add(module)
    return left_out


def left_out_finder(left_out: set[str]) -> bytes:
    """pyodide/sitecustomize.py with the modules left out, which it names when one is imported."""
    text = LEFT_OUT_FINDER.read_text()
    marker = "LEFT_OUT: frozenset[str] = frozenset()"
    if marker not in text:
        raise SetupError(f"{LEFT_OUT_FINDER} no longer contains `{marker}`, where the build lists the modules")
    return text.replace(marker, f"LEFT_OUT: frozenset[str] = frozenset({sorted(left_out)!r})").encode()


def wheel(name: str) -> str:
    return next(file for file in PYODIDE["sha256"] if file.startswith(name + "-") and file.endswith(".whl"))


def runtime_key(keep: set[str] | None) -> str:
    """What the runtime is made from: the pins, the imports kept and the build's own scripts."""
    digest = hashlib.sha256(json.dumps([PYODIDE, sorted(keep) if keep is not None else None], sort_keys=True).encode())
    for path in sorted(HERE.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def ensure_site_runtime(dist: Path) -> Path:
    """The folder the self-hosted site serves as pyodide/, made once from the verified Pyodide in dist."""
    keep = None if os.environ.get(RECORD_IMPORTS) else kept_imports()
    folder = RUNTIME / f"{PYODIDE['version']}-{runtime_key(keep)}"
    if (folder / "pyodide-lock.json").is_file():  # written last
        return folder
    log("trimming and compiling the Python runtime (Pyodide under Node)…")
    stage = folder.with_name(folder.name + ".new")
    shutil.rmtree(stage, ignore_errors=True)
    (stage / FULL).mkdir(parents=True)
    archives = {STDLIB: STDLIB_AT, **{wheel(name): SITE_PACKAGES for name in TRIMMED}}
    left_out: set[str] = set()
    jobs = []
    for name, installed_at in archives.items():
        trimmed = stage / (name + ".trimmed")
        left_out |= trim(dist / name, trimmed, keep)
        jobs += [str(trimmed), str(stage / name), installed_at, "sourceless"]
    with zipfile.ZipFile(stage / (STDLIB + ".trimmed"), "a") as stdlib:
        stdlib.writestr("sitecustomize.py", left_out_finder(left_out))
    compile_in_pyodide(dist, jobs)
    for name in archives:
        os.remove(stage / (name + ".trimmed"))
    for name in PYODIDE["sha256"]:
        if name not in RUNTIME_FILES:
            shutil.copyfile(dist / name, stage / FULL / name)
        if name not in archives:
            shutil.copyfile(dist / name, stage / name)
    write_locks(dist, stage)
    shutil.rmtree(folder, ignore_errors=True)
    stage.rename(folder)
    return folder


def compile_in_pyodide(dist: Path, jobs: list[str]) -> None:
    """pyodide/compile.py's jobs, run by the Pyodide in dist under Node."""
    node = shutil.which("node")
    if node is None:
        raise SetupError("node is not installed: install Node.js 20 or newer and run this again.")
    subprocess.run([node, str(HERE / "run.mjs"), str(dist), str(HERE / "compile.py"), *jobs], check=True)


def app_bytecode(dist: Path, sources: dict[str, bytes]) -> bytes:
    """An archive of the app's files (path: bytes) with each module's bytecode beside it, compiled
    by the Pyodide in dist; kept under build/ by content, so that an unchanged app is not compiled again."""
    digest = hashlib.sha256((HERE / "compile.py").read_bytes())
    for path, data in sorted(sources.items()):
        digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    archive = BUILD / "bytecode" / f"{PYODIDE['version']}-{digest.hexdigest()[:16]}.zip"
    if not archive.is_file():
        archive.parent.mkdir(parents=True, exist_ok=True)
        given = archive.with_suffix(".sources")
        with zipfile.ZipFile(given, "w") as out:
            for path, data in sources.items():
                out.writestr(zipfile.ZipInfo(path), data)
        compile_in_pyodide(dist, [str(given), str(archive.with_suffix(".part")), "/home/pyodide/", "beside"])
        os.replace(archive.with_suffix(".part"), archive)
        given.unlink()
    return archive.read_bytes()


def write_locks(dist: Path, runtime: Path) -> None:
    """The lock files of the two runtimes, with the pinned packages only: pyodide-lock.json, of the
    files served (trimmed and compiled), and full/pyodide-lock.json, of those under full/."""
    lock = json.loads((dist / "pyodide-lock.json").read_text())
    packages = {name: lock["packages"][name] for name in PYODIDE["packages"]}
    served = {name: {**entry, "sha256": sha256_of(runtime / entry["file_name"])} for name, entry in packages.items()}
    full = {name: {**entry, "file_name": f"{FULL}/{entry['file_name']}"} for name, entry in packages.items()}
    (runtime / FULL / "pyodide-lock.json").write_text(json.dumps({**lock, "packages": full}, indent=1))
    (runtime / "pyodide-lock.json").write_text(json.dumps({**lock, "packages": served}, indent=1))
