"""Runs inside Pyodide, under Node (see run.mjs), for build.py: archives of Python (the standard
library's zip, a package's wheel) with each module compiled to bytecode for the runtime's own
Python, as `pyodide py-compile` does.

    compile.py SOURCE DEST INSTALLED_AT HOW [SOURCE DEST INSTALLED_AT HOW ...]

SOURCE and DEST are host paths. With HOW "sourceless", each module's .py becomes a .pyc whose code
names the .py at INSTALLED_AT + its path in the archive, where it runs, so that a traceback gives
its file and line; a wheel's RECORD lists the files it now holds. With HOW "beside", each .py stays
and its bytecode is added in __pycache__/, checked against the source as it is imported: an edited
module is compiled afresh.
"""

import base64
import hashlib
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

HOST = Path("/host")  # where run.mjs mounts the host's filesystem
UNCHANGING = (1980, 1, 1, 0, 0, 0)  # every member's date: the same archive from the same input


def compiled(source: bytes, runs_at: str, work: Path, checked: bool) -> bytes:
    py, pyc = work / "module.py", work / "module.pyc"
    py.write_bytes(source)
    mode = py_compile.PycInvalidationMode.CHECKED_HASH if checked else py_compile.PycInvalidationMode.UNCHECKED_HASH
    py_compile.compile(str(py), cfile=str(pyc), dfile=runs_at, doraise=True, invalidation_mode=mode)
    return pyc.read_bytes()


def cached(member: str) -> str:
    """Where the import system looks for a module's bytecode: views/mask.py: views/__pycache__/mask.cpython-312.pyc."""
    path = PurePosixPath(member)
    return str(path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc").removeprefix("./")


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def compile_archive(source: Path, dest: Path, installed_at: str, beside: bool) -> None:
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(source) as archive, tempfile.TemporaryDirectory() as work:
        for info in archive.infolist():
            if info.is_dir():
                continue
            data = archive.read(info)
            if not info.filename.endswith(".py"):
                members[info.filename] = data
            elif beside:
                members[info.filename] = data
                members[cached(info.filename)] = compiled(data, installed_at + info.filename, Path(work), True)
            else:
                members[info.filename + "c"] = compiled(data, installed_at + info.filename, Path(work), False)
    for record in [name for name in members if name.endswith(".dist-info/RECORD")]:
        lines = [record_line(name, data) for name, data in members.items() if name != record]
        members[record] = "\n".join([*lines, f"{record},,", ""]).encode()
    with zipfile.ZipFile(dest, "w") as out:
        for name, data in members.items():
            out.writestr(zipfile.ZipInfo(name, UNCHANGING), data, zipfile.ZIP_DEFLATED, 9)


if __name__ == "__main__":
    jobs = sys.argv[1:]
    for at in range(0, len(jobs), 4):
        source, dest, installed_at, how = jobs[at:at + 4]
        if how not in ("sourceless", "beside"):
            raise SystemExit(f"compile.py: HOW is 'sourceless' or 'beside', not {how!r}")
        compile_archive(HOST / source.lstrip("/"), HOST / dest.lstrip("/"), installed_at, how == "beside")
