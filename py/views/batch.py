"""The "Batch" view: many photos (files or a folder) through the face-mask pipeline, one at a time,
with the detector and thresholds of the Face masks view. A progress bar with the rate and the time
left, Cancel; a sortable table (thumbnail, faces by label, top score, time), a click showing a photo
with its boxes; totals; the table as CSV and the results as JSON, the objects `build.py detect`
prints. A file that cannot be read or decoded is a row saying why.

Memory stays bounded: a row keeps its result, its File (a reference to the user's file, not its
bytes) and a small JPEG thumbnail as a blob.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections import deque
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import js
from pyodide.ffi import JsException

import page
import summary
from detector import now_ms
from draw import new_canvas, show_picture, thumbnail_url
from page import element
from picture import ImageError
from results import FrameResult, select_detections
from sources import decode_picture

if TYPE_CHECKING:
    from app import App

THUMBNAIL_SIDE = 80  # px, the long side: shown at 40 px, sharp on a high-density screen
NAME_TAIL = 8  # characters at the end of a file name that a narrow column never cuts ("emo2.jpg")
# Each sortable column's header and, on hover, what it holds; and a column for each of the detector's labels.
SORTABLE = {"image": ("Photo", "The photo: choose one to show it with its boxes"), "faces": ("Faces", "Faces found"),
            "top_score": ("Top score", "The highest score of its faces"),
            "time_ms": ("Time (ms)", "Time to analyse it, decoding included, in milliseconds")}


@dataclass
class Row:
    index: int  # in the order given
    name: str
    file: object  # the File (a JsProxy), to show the photo again; None when it could not be had
    result: dict  # as `build.py detect` prints it, or {"image", "error"}
    summary: dict  # summary.summary_row of the result
    thumbnail: str | None = None  # blob URL


class BatchView:
    name = "batch"
    setting_controls = ("model-label",)  # its detector is the Face masks view's
    save_buttons = ()  # enabled with the first row
    fps_output = "batch-fps"
    kept_tensors = 0

    def __init__(self, app: App) -> None:
        self.app = app
        self.rows: list[Row] = []
        self.queue: deque[tuple[str, object, str | None]] = deque()  # name, File, why it could not be had
        self.canvas = new_canvas(1, 1)
        self.task: asyncio.Task | None = None
        self.running = False
        self.run_total = 0  # photos given since the batch last went idle
        self.run_done = 0
        self.run_started = 0.0
        self.cancelled = 0  # photos left out by the last Cancel
        self.sort_key, self.descending = "index", False
        self.shown: int | None = None  # the row shown on the stage

    @property
    def labels(self) -> list[str]:
        return [label.name for label in self.app.mask.card.labels]

    # ------------------------------------------------------------ controls

    def build_controls(self) -> None:
        self.app.listen("click", {"batch-cancel": self.cancel, "batch-clear": self.clear,
                                  "batch-csv": self.on_save_csv, "batch-json": self.on_save_json,
                                  "batch-head": self.on_sort, "batch-rows": self.on_row})
        self.render_head()

    def add(self, files) -> None:
        """Queue files: (name, File or None, why it could not be had or None), analysed in turn."""
        if not self.running:  # a new run; files given during one join it
            self.run_total = self.run_done = 0
            self.run_started = now_ms()
        self.queue.extend(files)
        self.run_total += len(files)
        self.cancelled = 0
        if not self.running:
            self.running = True
            self.task = asyncio.ensure_future(self.run())
        self.show_progress()

    async def run(self) -> None:
        self.update_placeholder()
        try:
            await self.run_queue()
        finally:
            self.running = False
            self.show_progress()
            self.update_placeholder()
            self.app.publish()

    def update_placeholder(self) -> None:
        """While nothing is chosen in the table, the stage says what the batch is doing."""
        if self.app.view is self and self.shown is None and self.app.sources.webcam is None:
            self.show_placeholder()

    async def run_queue(self) -> None:
        while self.queue:
            name, file, unreadable = self.queue.popleft()
            row = Row(len(self.rows), name, file, {}, {})
            try:
                row.result = await self.analyse(row, unreadable)
            except Exception as exc:  # noqa: BLE001 — one photo's failure must not stop the batch
                js.console.error(traceback.format_exc())
                row.result = {"image": name, "error": f"{name} could not be analysed ({exc})."}
            row.summary = summary.summary_row(row.result, self.labels)
            self.rows.append(row)
            self.run_done += 1
            self.add_row(row)
            self.show_progress()
            self.app.publish()

    async def analyse(self, row: Row, unreadable: str | None) -> dict:
        """One photo: read, decoded, detected on the batch's own canvas, thumbnailed."""
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
        mask = self.app.mask
        async with self.app.one_at_a_time:  # between two photos, a frame or a control can run
            show_picture(self.canvas, picture)
            timings = {"image_decode": now_ms() - start}
            detector = mask.detector
            frame = await detector.infer(self.canvas, timings)
            start = now_ms()
            width, height = picture.source_width, picture.source_height
            detections = select_detections(frame, detector.card, width, height, *mask.thresholds())
            timings["nms"] = now_ms() - start
            row.thumbnail = await thumbnail_url(self.canvas, THUMBNAIL_SIDE)
        return {"image": name, "backend": self.app.backend, "model": detector.card.id,
                **FrameResult(width, height, detections, timings).as_dict()}

    async def cancel(self) -> None:
        """Leave out the photos not yet begun; the one being analysed finishes."""
        self.cancelled = len(self.queue)
        self.queue.clear()
        if self.task is not None:
            await self.task
        self.show_progress()

    async def clear(self) -> None:
        await self.cancel()
        for row in self.rows:
            if row.thumbnail:
                js.URL.revokeObjectURL(row.thumbnail)
        self.rows, self.shown, self.cancelled = [], None, 0
        self.run_total = self.run_done = 0
        self.sort_key, self.descending = "index", False  # the next batch in the order given
        element("batch-rows").innerHTML = ""
        self.render_head()
        self.show_progress()
        self.update_placeholder()

    # ------------------------------------------------------------ the table

    def columns(self) -> dict[str, tuple[str, str]]:
        """Each column's key: its header and its hover hint."""
        return {"image": SORTABLE["image"], "faces": SORTABLE["faces"],
                **{label: (label, f"Faces labelled {label}") for label in self.labels},
                "top_score": SORTABLE["top_score"], "time_ms": SORTABLE["time_ms"]}

    def render_head(self) -> None:
        cells = []
        for key, (title, hint) in self.columns().items():
            sort = "none"
            if key == self.sort_key:
                sort = "descending" if self.descending else "ascending"
            cells.append(f'<th aria-sort="{sort}"><button type="button" data-sort="{escape(key)}"'
                         f' title="{escape(hint)}">{escape(title)}</button></th>')
        element("batch-head").innerHTML = "".join(cells)

    def row_html(self, row: Row) -> str:
        shown = ' class="shown"' if row.index == self.shown else ""
        thumbnail = f'<img src="{escape(row.thumbnail)}" alt="">' if row.thumbnail else ""
        photo = (f'<td class="photo"><button type="button" data-index="{row.index}" title="{escape(row.name)}"'
                 f'{"" if row.file else " disabled"}>{thumbnail}{name_html(row.name)}</button></td>')
        if "error" in row.result:
            return f'<tr{shown}>{photo}<td class="reason" colspan="{len(self.columns()) - 1}">' \
                   f'{escape(row.result["error"])}</td></tr>'
        cells = [row.summary["faces"], *(row.summary[label] for label in self.labels),
                 "" if row.summary["top_score"] is None else f'{row.summary["top_score"]:.2f}',
                 f'{row.summary["time_ms"]:.0f}']
        return f"<tr{shown}>{photo}" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"

    def add_row(self, row: Row) -> None:
        """A new row: appended when the table is in the order given, else the table sorted again."""
        if self.sort_key == "index":
            element("batch-rows").insertAdjacentHTML("beforeend", self.row_html(row))
        else:
            self.render_rows()

    def sorted_rows(self) -> list[Row]:
        """By the sort column, either way; a photo without a value there (no face: no top score) after
        those with one, and those that could not be analysed last, each in the order given."""
        key = self.sort_key
        if key in ("index", "image"):
            return sorted(self.rows, key=lambda row: row.index if key == "index" else row.name.lower(),
                          reverse=self.descending)
        done = [row for row in self.rows if "error" not in row.result]
        valued = sorted((row for row in done if row.summary[key] is not None), key=lambda row: row.summary[key],
                        reverse=self.descending)
        return (valued + [row for row in done if row.summary[key] is None]
                + [row for row in self.rows if "error" in row.result])

    def render_rows(self) -> None:
        element("batch-rows").innerHTML = "".join(self.row_html(row) for row in self.sorted_rows())

    async def on_sort(self, event) -> None:
        button = event.target.closest("[data-sort]")
        if not button:
            return
        key = str(button.dataset.sort)
        self.descending = not self.descending if key == self.sort_key else key != "image"
        self.sort_key = key
        self.render_rows()
        self.render_head()  # after the rows: the header's aria-sort tells of a table already in that order

    async def on_row(self, event) -> None:
        """A photo of the table chosen: shown on the stage with its boxes."""
        button = event.target.closest("[data-index]")
        if button:
            await self.show_row(self.rows[int(button.dataset.index)])

    async def show_chosen(self) -> None:
        """The view opened: the stage shows the photo chosen in the table, or says there is none
        (a camera's frames, though, go on being the picture)."""
        if self.app.sources.webcam is not None:
            return
        if self.shown is None:
            self.show_placeholder()
        else:
            await self.show_row(self.rows[self.shown])

    def show_placeholder(self) -> None:
        if self.running:
            text = "Analysing the photos… Choose one in the table to see it here with its boxes."
        elif self.rows:
            text = "Choose a photo in the table to see it here with its boxes."
        else:
            text = "Open or drop several photos or a folder; choose one in the table to see it here."
        self.app.shell.blank(text)

    async def show_row(self, row: Row) -> None:
        self.shown = row.index
        self.render_rows()
        try:
            data = (await row.file.arrayBuffer()).to_bytes()
        except JsException as exc:
            page.show_error(f"{row.name} could not be read again ({exc}).")
            return
        await self.app.sources.analyse_bytes(data, row.name)

    # ------------------------------------------------------------ progress and totals

    def show_progress(self) -> None:
        progress = element("batch-progress")
        progress.hidden = not self.run_total
        progress.max, progress.value = max(self.run_total, 1), self.run_done
        element("batch-cancel").disabled = not self.queue
        element("batch-clear").disabled = not self.rows and not self.queue
        for id_ in ("batch-csv", "batch-json"):
            element(id_).disabled = not self.rows
        element("batch-status").textContent = self.status_text()
        totals = summary.totals((row.summary for row in self.rows), self.labels)
        element("batch-totals").textContent = totals_text(totals) if self.rows else ""

    def status_text(self) -> str:
        done, total = self.run_done, self.run_total
        if self.cancelled:
            return f"Cancelled: {done} of {total} analysed, {self.cancelled} left out."
        if not total:
            return "Open or drop several photos or a folder: each is analysed with the detector and thresholds " \
                   "of the Face masks view."
        if not self.running or done == total:
            return f"Done: {done} of {total} analysed."
        seconds = (now_ms() - self.run_started) / 1000
        if not done or seconds <= 0:
            return f"{done} of {total} analysed…"
        rate = done / seconds
        return f"{done} of {total} analysed, {rate:.1f} photos/s, about {time_text((total - done) / rate)} left"

    # ------------------------------------------------------------ saving

    def results(self) -> list[dict]:
        """Every row's result in the order given: the objects `build.py detect` prints."""
        return [row.result for row in self.rows]

    def on_save_csv(self) -> None:
        text = summary.csv_text((row.summary for row in self.rows), self.labels)
        page.download_text(text, "text/csv", "pylens-batch.csv")

    def on_save_json(self) -> None:
        page.download_text(json.dumps(self.results(), indent=2), "application/json", "pylens-batch.json")

    # ------------------------------------------------------------ the view

    async def prepare(self) -> None:
        """Its frames are the Face masks view's: the detector is loaded at start."""

    async def run_frame(self, picture, timings: dict[str, float]) -> dict:
        """A photo chosen in the table (or a camera frame): the Face masks view's boxes over it."""
        return await self.app.mask.run_frame(picture, timings)

    async def card_changed(self, card) -> None:
        """The Face masks view has the detector."""

    async def backend_changed(self) -> None:
        """The Face masks view has the detector."""

    def stats(self) -> dict:
        return {"batch": {"rows": len(self.rows), "queued": len(self.queue), "cancelled": self.cancelled,
                          "running": self.running,
                          "totals": summary.totals((row.summary for row in self.rows), self.labels)}}


def name_html(name: str) -> str:
    """A file name that a narrow column cuts in the middle: its last NAME_TAIL characters always
    show, so two names that begin alike stay apart."""
    cut = max(0, len(name) - NAME_TAIL)
    return (f'<span class="name"><span class="head">{escape(name[:cut])}</span>'
            f'<span class="tail">{escape(name[cut:])}</span></span>')


def totals_text(totals: dict) -> str:
    photos, unread = totals["photos"], totals["unreadable"]
    files = f"{photos + unread} files: {photos} analysed, {unread} could not be read" if unread else \
        f"{photos} photo{'s' * (photos != 1)} analysed"
    faces = ", ".join(f"{n} {label} ({share:.0%})" for (label, n), share
                      in zip(totals["by_label"].items(), totals["share"].values(), strict=True) if share is not None)
    return f"{files}; {totals['faces']} faces" + (f": {faces}" if faces else "")


def time_text(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
