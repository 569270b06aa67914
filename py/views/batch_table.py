"""The Batch view's table: its rows in the order given, shown sorted by a column either way, the
row shown on the stage marked; written into the page as one piece of HTML at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape

import js

from page import element

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


class BatchTable:
    def __init__(self, labels: Callable[[], list[str]]) -> None:
        self.labels = labels  # the detector's labels, a column each
        self.rows: list[Row] = []  # in the order given
        self.sort_key, self.descending = "index", False
        self.shown: int | None = None  # the row shown on the stage

    def summaries(self) -> Iterator[dict]:
        return (row.summary for row in self.rows)

    def add(self, row: Row) -> None:
        """A new row: appended when the table is in the order given, else the table sorted again."""
        self.rows.append(row)
        if self.sort_key == "index":
            element("batch-rows").insertAdjacentHTML("beforeend", row_html(row, self.labels(), self.shown))
        else:
            self.render_rows()

    def show(self, row: Row) -> None:
        """Mark the row shown on the stage."""
        self.shown = row.index
        self.render_rows()

    def sort_by(self, key: str) -> None:
        """Sorted by that column: the other way when it already is, else the natural way first."""
        self.descending = not self.descending if key == self.sort_key else key != "image"
        self.sort_key = key
        self.render_rows()
        self.render_head()  # after the rows: the header's aria-sort tells of a table already in that order

    def clear(self) -> None:
        """No rows; the next batch in the order given."""
        for row in self.rows:
            if row.thumbnail:
                js.URL.revokeObjectURL(row.thumbnail)
        self.rows, self.shown = [], None
        self.sort_key, self.descending = "index", False
        element("batch-rows").innerHTML = ""
        self.render_head()

    def render_head(self) -> None:
        element("batch-head").innerHTML = head_html(self.labels(), self.sort_key, self.descending)

    def render_rows(self) -> None:
        labels = self.labels()
        rows = sorted_rows(self.rows, self.sort_key, self.descending)
        element("batch-rows").innerHTML = "".join(row_html(row, labels, self.shown) for row in rows)


def columns(labels: list[str]) -> dict[str, tuple[str, str]]:
    """Each column's key: its header and its hover hint."""
    return {"image": SORTABLE["image"], "faces": SORTABLE["faces"],
            **{label: (label, f"Faces labelled {label}") for label in labels},
            "top_score": SORTABLE["top_score"], "time_ms": SORTABLE["time_ms"]}


def head_html(labels: list[str], sort_key: str, descending: bool) -> str:
    cells = []
    for key, (title, hint) in columns(labels).items():
        sort = "none"
        if key == sort_key:
            sort = "descending" if descending else "ascending"
        cells.append(f'<th aria-sort="{sort}"><button type="button" data-sort="{escape(key)}"'
                     f' title="{escape(hint)}">{escape(title)}</button></th>')
    return "".join(cells)


def row_html(row: Row, labels: list[str], shown: int | None) -> str:
    marked = ' class="shown"' if row.index == shown else ""
    thumbnail = f'<img src="{escape(row.thumbnail)}" alt="">' if row.thumbnail else ""
    photo = (f'<td class="photo"><button type="button" data-index="{row.index}" title="{escape(row.name)}"'
             f'{"" if row.file else " disabled"}>{thumbnail}{name_html(row.name)}</button></td>')
    if "error" in row.result:
        return f'<tr{marked}>{photo}<td class="reason" colspan="{len(columns(labels)) - 1}">' \
               f'{escape(row.result["error"])}</td></tr>'
    cells = [row.summary["faces"], *(row.summary[label] for label in labels),
             "" if row.summary["top_score"] is None else f'{row.summary["top_score"]:.2f}',
             f'{row.summary["time_ms"]:.0f}']
    return f"<tr{marked}>{photo}" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def sorted_rows(rows: list[Row], key: str, descending: bool) -> list[Row]:
    """By the sort column, either way; a photo without a value there (no face: no top score) after
    those with one, and those that could not be analysed last, each in the order given."""
    if key in ("index", "image"):
        return sorted(rows, key=lambda row: row.index if key == "index" else row.name.lower(), reverse=descending)
    done = [row for row in rows if "error" not in row.result]
    valued = sorted((row for row in done if row.summary[key] is not None), key=lambda row: row.summary[key],
                    reverse=descending)
    return valued + [row for row in done if row.summary[key] is None] + [row for row in rows if "error" in row.result]


def name_html(name: str) -> str:
    """A file name that a narrow column cuts in the middle: its last NAME_TAIL characters always
    show, so two names that begin alike stay apart."""
    cut = max(0, len(name) - NAME_TAIL)
    return (f'<span class="name"><span class="head">{escape(name[:cut])}</span>'
            f'<span class="tail">{escape(name[cut:])}</span></span>')
