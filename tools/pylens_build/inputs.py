"""What a headless command is given to read: image files, folders of them, list files, and object
storage URIs (s3://…, gs://…), which pyarrow's file systems read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from pyarrow import fs

from .project import SetupError

# What a folder is searched for (a file named on the command line is taken whatever its name).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"})


def is_uri(name: str) -> bool:
    return "://" in name


def expand(arguments: Iterable[str]) -> Iterator[str]:
    """Each image the arguments name, in order: a file as given (whatever its name), a folder's or a
    URI prefix's images (recursively, sorted), and for `@FILE` the inputs FILE lists, one a line
    (blank lines and `#` comments skipped)."""
    for argument in arguments:
        if is_uri(argument):
            yield from _uri_images(argument)
        elif Path(argument).is_dir():
            yield from (str(p) for p in sorted(Path(argument).rglob("*"))
                        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        elif argument.startswith("@"):
            try:
                with open(argument[1:], encoding="utf-8") as lines:
                    entries = [line.strip() for line in lines]
            except (OSError, UnicodeDecodeError) as exc:
                raise SetupError(f"The list of inputs {argument[1:]} cannot be read ({exc}).") from None
            yield from expand(entry for entry in entries if entry and not entry.startswith("#"))
        else:
            yield argument


def _uri_images(uri: str) -> Iterator[str]:
    filesystem, path = _filesystem(uri)
    info = filesystem.get_file_info(path)
    if info.type != fs.FileType.Directory:
        yield uri  # a file, or one that is missing: its row says so
        return
    scheme = uri.split("://", 1)[0]
    found = filesystem.get_file_info(fs.FileSelector(path, recursive=True))
    yield from sorted(f"{scheme}://{entry.path}" for entry in found
                      if entry.type == fs.FileType.File and Path(entry.path).suffix.lower() in IMAGE_SUFFIXES)


def _filesystem(uri: str) -> tuple[fs.FileSystem, str]:
    try:
        return fs.FileSystem.from_uri(uri)
    except Exception as exc:  # noqa: BLE001 — pyarrow's errors name the scheme or the credentials it lacks
        raise SetupError(f"{uri} cannot be read: {exc}") from None


def read_input(name: str) -> bytes:
    """An input's bytes; OSError saying why when it cannot be read."""
    if not is_uri(name):
        return Path(name).read_bytes()
    filesystem, path = fs.FileSystem.from_uri(name)
    with filesystem.open_input_stream(path) as stream:
        return stream.read()
