"""The "Batch" view: many photos (files or a folder) through the face-mask pipeline, one at a time,
with the detector and thresholds of the Face masks view. A progress bar with the rate and the time
left, Cancel; a sortable table (thumbnail, faces by label, top score, time), a click showing a photo
with its boxes; totals; the table as CSV and the results as JSON, the objects `build.py detect`
prints. A file that cannot be read or decoded is a row saying why. The table is views/batch_table.py,
each photo's analysis views/batch_run.py.

Memory stays bounded: a row keeps its result, its File (a reference to the user's file, not its
bytes) and a small JPEG thumbnail as a blob.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections import deque
from typing import TYPE_CHECKING

import js
from pyodide.ffi import JsException

import page
import summary
from clock import now_ms
from draw import new_canvas
from page import element
from views.batch_run import analyse_photo, status_text, totals_text
from views.batch_table import BatchTable, Row

if TYPE_CHECKING:
    from views.protocol import ViewContext


class BatchView:
    name = "batch"
    roles = ("batch",)
    setting_controls = ("detector-label",)  # its detector is the Face masks view's
    save_buttons = ()  # enabled with the first row
    fps_output = "batch-fps"
    kept_tensors = 0

    def __init__(self, context: ViewContext) -> None:
        self.context = context
        self.stage = context.stage
        self.table = BatchTable(lambda: self.labels)
        self.queue: deque[tuple[str, object, str | None]] = deque()  # name, File, why it could not be had
        self.canvas = new_canvas(1, 1)
        self.task: asyncio.Task | None = None
        self.running = False
        self.run_total = 0  # photos given since the batch last went idle
        self.run_done = 0
        self.run_started = 0.0
        self.cancelled = 0  # photos left out by the last Cancel

    @property
    def detection(self):
        """The view whose detector and thresholds the batch uses."""
        return self.context.by_role("detect")

    @property
    def labels(self) -> list[str]:
        return [label.name for label in self.detection.card.labels]

    # ------------------------------------------------------------ the run

    def build_controls(self) -> None:
        self.context.listen("click", {"batch-cancel": self.cancel, "batch-clear": self.clear,
                                      "batch-csv": self.on_save_csv, "batch-json": self.on_save_json,
                                      "batch-head": self.on_sort, "batch-rows": self.on_row})
        self.table.render_head()

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
            self.context.publish()

    async def run_queue(self) -> None:
        while self.queue:
            name, file, unreadable = self.queue.popleft()
            row = Row(len(self.table.rows), name, file, {}, {})
            try:
                row.result = await analyse_photo(row, unreadable, self.canvas, self.stage, self.detection)
            except Exception as exc:  # noqa: BLE001 — one photo's failure must not stop the batch
                js.console.error(traceback.format_exc())
                row.result = {"image": name, "error": f"{name} could not be analysed ({exc})."}
            row.summary = summary.summary_row(row.result, self.labels)
            self.run_done += 1
            self.table.add(row)
            self.show_progress()
            self.context.publish()

    async def cancel(self) -> None:
        """Leave out the photos not yet begun; the one being analysed finishes."""
        self.cancelled = len(self.queue)
        self.queue.clear()
        if self.task is not None:
            await self.task
        self.show_progress()

    async def clear(self) -> None:
        await self.cancel()
        self.table.clear()
        self.cancelled = self.run_total = self.run_done = 0
        self.show_progress()
        self.update_placeholder()

    def show_progress(self) -> None:
        progress = element("batch-progress")
        progress.hidden = not self.run_total
        progress.max, progress.value = max(self.run_total, 1), self.run_done
        rows = self.table.rows
        element("batch-cancel").disabled = not self.queue
        element("batch-clear").disabled = not rows and not self.queue
        for id_ in ("batch-csv", "batch-json"):
            element(id_).disabled = not rows
        element("batch-status").textContent = status_text(self.run_done, self.run_total, self.cancelled,
                                                          self.running, self.run_started)
        element("batch-totals").textContent = totals_text(summary.totals(self.table.summaries(), self.labels)) \
            if rows else ""

    # ------------------------------------------------------------ the table and the stage

    async def on_sort(self, event) -> None:
        button = event.target.closest("[data-sort]")
        if button:
            self.table.sort_by(str(button.dataset.sort))

    async def on_row(self, event) -> None:
        """A photo of the table chosen: shown on the stage with its boxes."""
        button = event.target.closest("[data-index]")
        if button:
            await self.show_row(self.table.rows[int(button.dataset.index)])

    async def opened(self) -> bool:
        """The stage shows the photo chosen in the table, or says there is none (a feed's frames,
        though, go on being the picture)."""
        if self.stage.feed:
            return True
        if self.table.shown is None:
            self.show_placeholder()
        else:
            await self.show_row(self.table.rows[self.table.shown])
        return True

    def update_placeholder(self) -> None:
        """While nothing is chosen in the table, the stage says what the batch is doing."""
        if self.context.is_active(self) and self.table.shown is None and not self.stage.feed:
            self.show_placeholder()

    def show_placeholder(self) -> None:
        if self.running:
            text = "Analysing the photos… Choose one in the table to see it here with its boxes."
        elif self.table.rows:
            text = "Choose a photo in the table to see it here with its boxes."
        else:
            text = "Open or drop several photos or a folder; choose one in the table to see it here."
        self.stage.blank(text)

    async def show_row(self, row: Row) -> None:
        self.table.show(row)
        try:
            data = (await row.file.arrayBuffer()).to_bytes()
        except JsException as exc:
            page.show_error(f"{row.name} could not be read again ({exc}).")
            return
        await self.context.analyse(data, row.name)

    # ------------------------------------------------------------ saving

    def results(self) -> list[dict]:
        """Every row's result in the order given: the objects `build.py detect` prints."""
        return [row.result for row in self.table.rows]

    def on_save_csv(self) -> None:
        page.download_text(summary.csv_text(self.table.summaries(), self.labels), "text/csv", "pylens-batch.csv")

    def on_save_json(self) -> None:
        page.download_text(json.dumps(self.results(), indent=2), "application/json", "pylens-batch.json")

    # ------------------------------------------------------------ the view

    async def prepare(self) -> None:
        """Its frames are the Face masks view's: the detector is loaded at start."""

    async def run_frame(self, picture, timings: dict[str, float]) -> dict:
        """A photo chosen in the table (or a camera frame): the Face masks view's boxes over it."""
        return await self.detection.run_frame(picture, timings)

    async def card_changed(self, card) -> None:
        """The Face masks view has the detector."""

    async def backend_changed(self) -> None:
        """The Face masks view has the detector."""

    def stats(self) -> dict:
        return {"batch": {"rows": len(self.table.rows), "queued": len(self.queue), "cancelled": self.cancelled,
                          "running": self.running, "totals": summary.totals(self.table.summaries(), self.labels)}}
