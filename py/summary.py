"""Face-mask results summed up for a batch: one row per photo (its faces by label, the top score,
the time), the batch's totals, and the rows as CSV. A result is the dict that `build.py detect`
prints for an image: its "image" and what was found, or its "image" and an "error".

Pure Python: the batch view (py/views/batch.py) and `build.py detect --csv` share it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence


def columns(labels: Sequence[str]) -> list[str]:
    """The CSV's columns, for a detector with these labels."""
    return ["image", "width", "height", "faces", *labels, "top_score", "time_ms", "error"]


def summary_row(result: dict, labels: Sequence[str]) -> dict:
    """One photo's row. `time_ms` is the sum of the result's stages, decoding included."""
    image = result["image"]
    if "error" in result:
        return {"image": image, "error": result["error"]}
    detections = result["detections"]
    counts = dict.fromkeys(labels, 0)
    for detection in detections:
        counts[detection["label"]] = counts.get(detection["label"], 0) + 1
    return {"image": image, "width": result["width"], "height": result["height"], "faces": len(detections),
            **counts, "top_score": max((d["score"] for d in detections), default=None),
            "time_ms": round(sum(result["timings_ms"].values()), 1), "error": ""}


def totals(rows: Iterable[dict], labels: Sequence[str]) -> dict:
    """Photos analysed and not, faces in all, and the faces by label with their share of all faces."""
    rows = list(rows)
    read = [row for row in rows if not row.get("error")]
    faces = sum(row["faces"] for row in read)
    by_label = {label: sum(row.get(label, 0) for row in read) for label in labels}
    return {"photos": len(read), "unreadable": len(rows) - len(read), "faces": faces, "by_label": by_label,
            "share": {label: n / faces if faces else None for label, n in by_label.items()}}


def csv_text(rows: Iterable[dict], labels: Sequence[str]) -> str:
    """The rows as CSV with a header line; a photo that could not be analysed has only its error."""
    out = io.StringIO()
    writer = csv.DictWriter(out, columns(labels), restval="", extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return out.getvalue()
