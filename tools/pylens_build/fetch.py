"""Verified files: a download (or a mirror's copy) is written only when its sha256 is the pinned one."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from .project import SetupError


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_source(url: str, mirror: Path | None) -> tuple[bytes, str]:
    """The bytes of a file from the mirror path when given, else from its URL."""
    if mirror is not None:
        if not mirror.is_file():
            raise SetupError(f"{mirror.name}: not found in the mirror at {mirror}")
        return mirror.read_bytes(), str(mirror)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read(), url
    except (urllib.error.URLError, TimeoutError) as exc:
        raise SetupError(f"{Path(url).name}: download from {url} failed ({exc}). "
                         "Check the network, or point MODEL_MIRROR, IMAGE_MIRROR or PYODIDE_DIST at a "
                         "local copy.") from None


def fetch_verified(dest: Path, sha256: str, url: str, mirror: Path | None = None) -> None:
    """Place the file at dest unless it is there already with the right checksum.

    The bytes are checked before anything is written, and written through a temporary
    file, so a failed or mismatching fetch never leaves a half-written or wrong file.
    """
    if dest.is_file() and sha256_of(dest) == sha256:
        return
    data, origin = read_source(url, mirror)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise SetupError(f"{dest.name}: checksum mismatch for the copy from {origin} "
                         f"(expected sha256 {sha256}, got {actual}). The file was not installed.")
    write_atomically(dest, data)


def write_atomically(dest: Path, data: bytes) -> None:
    """Write through a temporary file, so that dest is either absent or whole."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, dest)
