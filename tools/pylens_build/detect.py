"""`build.py detect`: many inputs through the face-mask pipeline, in CPython on onnxruntime (one
process, or Ray Data workers) or in pages of the app in headless Chromium, every row printed as a
JSON line, or kept in a journal and written as --out once the run is whole."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import summary
from names import CPYTHON_BACKENDS

from .batch import DetectPool
from .fetch import write_atomically
from .inputs import IMAGE_SUFFIXES, expand, is_uri
from .models import ensure_models, model_cards
from .outputs import Journal, check_output, journal_of, write_output
from .progress import Progress
from .project import SetupError, log
from .server import routes, serving
from .static_site import default_detector

Batches = Iterator[list[dict]]  # rows, a batch at a time


def detector_labels() -> list[str]:
    """The detectors' labels, each once, in the order of their cards: the CSV's columns."""
    return list(dict.fromkeys(label.name for card in model_cards() if card.task == "detection"
                              for label in card.labels))


def detector_card(card_id: str | None):
    detectors = {card.id: card for card in model_cards() if card.task == "detection"}
    card_id = card_id or default_detector()
    if card_id not in detectors:
        raise SetupError(f"There is no detector '{card_id}'; choose one of {', '.join(detectors)}.")
    return detectors[card_id]


def default_backend(card) -> str:
    """CPython on onnxruntime where the detector has an ONNX model, else the page on WebAssembly."""
    return "ort-cpu" if "onnx" in card.engines else "wasm"


def check(args: argparse.Namespace, backend: str) -> None:
    if args.jobs < 1:
        raise SetupError(f"--jobs must be at least 1, not {args.jobs}.")
    if backend not in CPYTHON_BACKENDS:
        given = [flag for flag, value in (("--cluster", args.cluster), ("--score-threshold", args.score_threshold),
                                          ("--iou-threshold", args.iou_threshold)) if value is not None]
        if given:
            raise SetupError(f"{', '.join(given)} go with the CPython backends ({', '.join(CPYTHON_BACKENDS)}), "
                             f"not {backend}, whose page takes its thresholds from its sliders.")
    for name in ("score_threshold", "iou_threshold"):
        value = getattr(args, name)
        if value is not None and not 0 <= value <= 1:
            raise SetupError(f"--{name.replace('_', '-')} must be between 0 and 1, not {value}.")
    if args.resume and not args.out:
        raise SetupError("--resume finishes an earlier run into --out FILE: give the same --out.")
    if args.csv and not Path(args.csv).parent.is_dir():
        raise SetupError(f"{Path(args.csv).parent} is not a folder: the CSV cannot be written there.")


def cpython_batches(card, backend: str, args, images: list[str]) -> Batches:
    from .cpython.engine import onnx_model  # noqa: PLC0415 — onnxruntime, and Ray, only for the runs that use them
    from .cpython.runs import DetectJob, run  # noqa: PLC0415

    ensure_models([card])
    job = DetectJob(card, backend, onnx_model(card), args.score_threshold, args.iou_threshold)
    return run(images, job, args.jobs, args.cluster, ordered=args.out is None)


def browser_batches(site: Callable[[], Path], backend: str, jobs: int, images: list[str]) -> Batches:
    uris = [image for image in images if is_uri(image)]
    if uris:
        raise SetupError(f"{uris[0]}: the browser backends read local files; object storage is read by "
                         f"{', '.join(CPYTHON_BACKENDS)}.")
    with serving(routes(site())) as url, DetectPool(url, backend, min(jobs, len(images))) as pool:
        for line in pool.detect(Path(image) for image in images):
            yield [line]


def run_detect(args: argparse.Namespace, site: Callable[[], Path]) -> int:
    """The command; `site` sets up the page's files for a browser backend (its Pyodide's folder)."""
    card = detector_card(args.model)
    backend = args.backend or default_backend(card)
    check(args, backend)
    images = list(expand(args.images))
    if not images:
        raise SetupError(f"No image in {', '.join(args.images)} (a folder is searched for "
                         f"{', '.join(sorted(IMAGE_SUFFIXES))}).")
    out = Path(args.out) if args.out else None
    if out is not None:
        check_output(out)
    journal = Journal(journal_of(out), args.resume) if out else None
    done = journal.done if journal else set()
    if journal and done:
        log(f"resuming: {len(done)} of {len(images)} images were done")
    todo = [image for image in images if image not in done]
    if not todo:
        batches = iter(())
    elif backend in CPYTHON_BACKENDS:
        batches = cpython_batches(card, backend, args, todo)
    else:
        batches = browser_batches(site, backend, args.jobs, todo)
    try:
        rows = take_rows(batches, journal, Progress(len(images), len(done)))
    except KeyboardInterrupt:
        return 130  # as a shell reports Ctrl+C
    if journal is None:
        return finish(args, rows)
    by_image = {row["image"]: row for row in journal.rows()}
    in_order = [by_image[image] for image in images]
    write_output(out, in_order, summary_csv)
    journal.path.unlink()
    log(f"wrote {out} ({len(in_order)} images)")
    return finish(args, in_order)


def take_rows(batches: Batches, journal: Journal | None, progress: Progress) -> list[dict]:
    """The rows as they come: into the journal, else printed as JSON lines (and returned)."""
    printed = []
    try:
        for rows in batches:
            if journal is None:
                for row in rows:
                    print(json.dumps(row), flush=True)
                printed += rows
            else:
                journal.write(rows)
            progress.advance(len(rows))
    except KeyboardInterrupt:
        if journal is not None:
            log(f"interrupted: {len(journal.done)} rows are kept in {journal.path}; the same command with "
                "--resume does the rest")
        raise
    finally:
        progress.close()
        if journal is not None:
            journal.close()
    return printed


def summary_csv(rows: Iterable[dict]) -> str:
    labels = detector_labels()
    return summary.csv_text((summary.summary_row(row, labels) for row in rows), labels)


def finish(args: argparse.Namespace, rows: list[dict]) -> int:
    """--csv's summary of the rows, and the exit status: 1 where an image gave no result."""
    if args.csv:
        write_atomically(Path(args.csv), summary_csv(rows).encode())
        log(f"wrote {args.csv} ({len(rows)} images)")
    return 1 if any("error" in row for row in rows) else 0
