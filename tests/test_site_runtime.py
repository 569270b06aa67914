"""The Python runtime the self-hosted site serves: the standard library and the numpy and Pillow
wheels trimmed to the measured imports and compiled by Pyodide's own Python, each file pinned by
its lock; the runtime as published beside it, byte for byte; the app's files as one archive with
their bytecode. (That every feature runs on it is the browser suite's part: it runs on this runtime.)"""

import hashlib
import json
import zipfile

import pytest

from pylens_build.fetch import sha256_of
from pylens_build.project import PYODIDE
from pylens_build.site_runtime import (
    FULL,
    STDLIB,
    TRIMMED,
    ensure_site_runtime,
    kept_imports,
    module_of,
    wheel,
)

PYTHON_312_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"  # importlib's MAGIC_NUMBER for CPython 3.12
UNCHECKED_HASH, CHECKED_HASH = 0b01, 0b11  # a .pyc's flags (PEP 552)


@pytest.fixture(scope="module")
def runtime(pyodide_dist):
    return ensure_site_runtime(pyodide_dist)


def pyc_flags(data: bytes) -> int:
    assert data[:4] == PYTHON_312_MAGIC, "not bytecode of Pyodide's Python 3.12"
    return int.from_bytes(data[4:8], "little")


def test_the_trimmed_archives_hold_the_kept_modules_as_bytecode_only(runtime, pyodide_dist):
    kept = kept_imports()
    assert {"numpy", "numpy._core.multiarray", "PIL.Image", "PIL.PngImagePlugin", "PIL.WebPImagePlugin", "json",
            "asyncio", "pyodide.ffi"} <= kept
    for name in [STDLIB, *(wheel(package) for package in TRIMMED)]:
        served, published = zipfile.ZipFile(runtime / name), zipfile.ZipFile(pyodide_dist / name)
        members = served.namelist()
        assert not [member for member in members if member.endswith((".py", ".pyi", ".h"))]
        compiled = [member for member in members if member.endswith(".pyc")]
        assert compiled and all(pyc_flags(served.read(member)) == UNCHECKED_HASH for member in compiled[:50])
        modules = {module_of(member.removesuffix("c")) for member in members} - {None}
        in_published = {module_of(member) for member in published.namelist()} - {None}
        assert modules - {"sitecustomize"} == in_published & kept  # all it keeps, nothing else
        assert len(modules) < len(in_published)
    stdlib = zipfile.ZipFile(runtime / STDLIB)
    assert "ftplib" not in kept and "ftplib.pyc" not in stdlib.namelist()
    # The finder that names a module left out is in the standard library, as `site` imports it.
    assert "sitecustomize.pyc" in stdlib.namelist()
    numpy = zipfile.ZipFile(runtime / wheel("numpy"))
    record = numpy.read("numpy-2.0.2.dist-info/RECORD").decode().splitlines()
    assert len(record) == len(numpy.namelist())  # each file, and the RECORD itself


def test_each_served_file_is_pinned_by_its_lock_and_the_published_runtime_is_kept_whole(runtime, pyodide_dist):
    for folder in (runtime, runtime / FULL):
        lock = json.loads((folder / "pyodide-lock.json").read_text())
        assert lock["info"]["version"] == PYODIDE["version"]
        assert set(lock["packages"]) == set(PYODIDE["packages"])
        for entry in lock["packages"].values():
            assert sha256_of(runtime / entry["file_name"]) == entry["sha256"], entry["file_name"]
    for name, sha in PYODIDE["sha256"].items():
        if name.startswith("pyodide."):  # the runtime itself, served once
            assert sha256_of(runtime / name) == sha
        else:
            assert sha256_of(runtime / FULL / name) == sha
    served = zipfile.ZipFile(runtime / STDLIB)
    assert sum(info.compress_size for info in served.infolist()) < 0.8 * (pyodide_dist / STDLIB).stat().st_size


def test_the_runtime_is_made_once_and_the_same_each_time(runtime, pyodide_dist):
    digest = hashlib.sha256((runtime / STDLIB).read_bytes()).hexdigest()
    assert ensure_site_runtime(pyodide_dist) == runtime
    assert hashlib.sha256((runtime / STDLIB).read_bytes()).hexdigest() == digest


def test_the_built_site_runs_the_app_from_one_archive_with_its_bytecode(dist):
    config = (dist / "pyscript.toml").read_text()
    assert config.rstrip().endswith('[files]\n"./app.zip" = "./*"')
    archive = zipfile.ZipFile(dist / "app.zip")
    modules = [name for name in archive.namelist() if name.endswith(".py")]
    assert "names.py" in modules and "views/mask.py" in modules and "models/selfie.toml" in archive.namelist()
    for module in modules:
        folder, _, stem = module.rpartition("/")
        cached = f"{folder + '/' if folder else ''}__pycache__/{stem[:-3]}.cpython-312.pyc"
        assert pyc_flags(archive.read(cached)) == CHECKED_HASH, module  # an edited module is compiled afresh
        assert archive.read(module) == (dist / "py" / module).read_bytes()  # and still served for the code panel
