"""A batch's photos analysed one at a time, in the order given: each read, decoded and detected on
a canvas of its own (not the stage), with the detector and thresholds of the detecting view; and
the sentences that tell how the batch is going."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyodide.ffi import JsException

import engines
from clock import now_ms
from draw import show_picture, thumbnail_url
from intake import decode_picture
from picture import ImageError
from results import FrameResult, select_detections

if TYPE_CHECKING:
    from stage import Stage
    from views.batch_table import Row

THUMBNAIL_SIDE = 80  # px, the long side: shown at 40 px, sharp on a high-density screen


async def analyse_photo(row: Row, unreadable: str | None, canvas, stage: Stage, detection) -> dict:
    """One photo: read, decoded, detected on `canvas`, thumbnailed; its result as `build.py detect`
    prints it, or why it has none."""
    name = row.name
    if unreadable is not None:
        return {"image": name, "error": f"{name} could not be read ({unreadable})."}
    start = now_ms()
    try:
        data = (await row.file.arrayBuffer()).to_bytes()
    except JsException as exc:
        return {"image": name, "error": f"{name} could not be read ({exc})."}
    try:
        picture = await decode_picture(data, name.rsplit("/", 1)[-1])
    except ImageError as exc:
        return {"image": name, "error": str(exc)}
    async with stage.one_at_a_time:  # between two photos, a frame or a control can run
        show_picture(canvas, picture)
        timings = {"image_decode": now_ms() - start}
        detector = detection.detector
        frame = await detector.infer(canvas, timings)
        start = now_ms()
        width, height = picture.source_width, picture.source_height
        detections = select_detections(frame, detector.card, width, height, *detection.thresholds())
        timings["nms"] = now_ms() - start
        row.thumbnail = await thumbnail_url(canvas, THUMBNAIL_SIDE)
    return {"image": name, "backend": engines.backend_in_use(), "model": detector.card.id,
            **FrameResult(width, height, detections, timings).as_dict()}


def status_text(done: int, total: int, cancelled: int, running: bool, started_ms: float) -> str:
    """How the batch is going: done, cancelled, or its rate and the time left."""
    if cancelled:
        return f"Cancelled: {done} of {total} analysed, {cancelled} left out."
    if not total:
        return "Open or drop several photos or a folder: each is analysed with the detector and thresholds " \
               "of the Face masks view."
    if not running or done == total:
        return f"Done: {done} of {total} analysed."
    seconds = (now_ms() - started_ms) / 1000
    if not done or seconds <= 0:
        return f"{done} of {total} analysed…"
    rate = done / seconds
    return f"{done} of {total} analysed, {rate:.1f} photos/s, about {time_text((total - done) / rate)} left"


def totals_text(totals: dict) -> str:
    photos, unread = totals["photos"], totals["unreadable"]
    files = f"{photos + unread} files: {photos} analysed, {unread} could not be read" if unread else \
        f"{photos} photo{'s' * (photos != 1)} analysed"
    faces = ", ".join(f"{n} {label} ({share:.0%})" for (label, n), share
                      in zip(totals["by_label"].items(), totals["share"].values(), strict=True) if share is not None)
    return f"{files}; {totals['faces']} faces" + (f": {faces}" if faces else "")


def time_text(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
