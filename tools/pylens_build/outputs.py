"""Where the rows of a headless run go: a journal beside the output, appended as rows arrive and
read again by --resume, then the output itself, written once the run is whole, atomically, as JSON
lines, CSV or Parquet by its suffix, one row per input in input order."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .project import SetupError

FORMATS = (".jsonl", ".csv", ".parquet")


def check_output(out: Path) -> None:
    """SetupError saying why when `out` has no known format or no folder to be written in."""
    if out.suffix.lower() not in FORMATS:
        raise SetupError(f"{out.name}: the output is written by its suffix, one of {', '.join(FORMATS)}.")
    if not out.parent.is_dir():
        raise SetupError(f"{out.parent} is not a folder: {out.name} cannot be written there.")


def journal_of(out: Path) -> Path:
    return out.with_name(out.name + ".journal.jsonl")


class Journal:
    """The rows of a run so far, one JSON line each, keyed by their input (`image`), each written
    once however often a worker's retry gives it. On resume, a last line cut short by a crash is
    cut off, and its input done again."""

    def __init__(self, path: Path, resume: bool) -> None:
        self.path = path
        self.done: set[str] = set()
        if path.exists() and not resume:
            raise SetupError(f"An earlier run into {path.name.removesuffix('.journal.jsonl')} did not finish "
                             f"({path} holds its rows): add --resume to finish it, or remove that file.")
        if path.exists():
            data = path.read_bytes()
            whole = data.rfind(b"\n") + 1
            if whole < len(data):
                os.truncate(path, whole)
            self.done = {json.loads(line)["image"] for line in data[:whole].splitlines()}
        self._file = path.open("a", encoding="utf-8")

    def rows(self) -> Iterator[dict]:
        with self.path.open(encoding="utf-8") as lines:
            yield from (json.loads(line) for line in lines)

    def write(self, rows: Iterable[dict]) -> int:
        """Append the rows not written yet, durably; how many were new."""
        new = [row for row in rows if row["image"] not in self.done]
        for row in new:
            self.done.add(row["image"])
            self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        return len(new)

    def close(self) -> None:
        self._file.close()


def write_output(out: Path, rows: list[dict], summary: Callable[[list[dict]], str]) -> None:
    """The rows (in input order) as `out`'s format, through a temporary file: `out` is whole or absent."""
    part = out.with_name(out.name + ".part")
    fmt = out.suffix.lower()
    if fmt == ".jsonl":
        part.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    elif fmt == ".csv":
        part.write_text(summary(rows), encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(rows, schema=RESULT_SCHEMA), part)
    os.replace(part, out)


# A face-mask result as a Parquet row: what `build.py detect` prints for an image, with its stage
# times as a map (their names are the host's), and `error` set where the image gave no result.
RESULT_SCHEMA = pa.schema([
    ("image", pa.string()),
    ("backend", pa.string()),
    ("width", pa.int32()),
    ("height", pa.int32()),
    ("detections", pa.list_(pa.struct([("box", pa.list_(pa.int32(), 4)), ("class_id", pa.int32()),
                                       ("label", pa.string()), ("score", pa.float64())]))),
    ("timings_ms", pa.map_(pa.string(), pa.float64())),
    ("error", pa.string()),
])
