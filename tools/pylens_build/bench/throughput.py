"""Images per second through `build.py detect`: its pool of pages, for one page and for two; and in
CPython on onnxruntime, in one process and on two Ray Data workers, Ray's start timed apart. The
segment-and-stylize bench frame, in the page and in CPython."""

from __future__ import annotations

import itertools
import json
import statistics
import time
from pathlib import Path

import names

from ..batch import DetectPool
from ..headless import HeadlessApp
from ..project import BUILD, SetupError

JOBS = (1, 2)


def bench_photos(images: int) -> list[str]:
    """The demo photos, taken in turn until there are `images`."""
    demos = sorted((BUILD / "demos").glob("*.jpg"))
    return [str(path) for path in itertools.islice(itertools.cycle(demos), images)]


def check_rows(rows: list[dict]) -> None:
    failed = [row for row in rows if "error" in row]
    if failed:
        raise SetupError(f"the batch bench could not detect {failed[0]['image']}: {failed[0]['error']}")


def batch_throughput(url: str, backend: str, images: int) -> dict:
    """The photos detected by 1 and by 2 pages; timed from the first image given to the last
    result, the pages already started."""
    paths = [Path(photo) for photo in bench_photos(images)]
    per_second = {}
    for jobs in JOBS:
        with DetectPool(url, backend, jobs) as pool:
            start = time.perf_counter()
            lines = list(pool.detect(paths))
            per_second[str(jobs)] = len(paths) / (time.perf_counter() - start)
        check_rows(lines)
    return {"images": len(paths), "backend": backend, "images_per_s": per_second}


def cpython_throughput(images: int) -> dict:
    """The same photos in CPython on ort-cpu: in this process, then on Ray's local cluster with two
    workers (its start, and the workers' sessions, timed apart: from the first row to the last,
    over the rest)."""
    import ray  # noqa: PLC0415

    from ..cpython.engine import onnx_model  # noqa: PLC0415
    from ..cpython.runs import DetectJob, in_process, on_ray, start_ray  # noqa: PLC0415
    from ..detect import detector_card  # noqa: PLC0415

    card = detector_card(None)
    job = DetectJob(card, "ort-cpu", onnx_model(card))
    inputs = bench_photos(images)
    start = time.perf_counter()
    rows = [row for batch in in_process(inputs, job) for row in batch]
    one_process = len(rows) / (time.perf_counter() - start)
    check_rows(rows)
    start = time.perf_counter()
    start_ray(None)
    try:
        ray_start = time.perf_counter() - start
        batches = on_ray(inputs, job, 2, None, ordered=False)
        first = next(batches)
        first_at = time.perf_counter()
        rest = [row for batch in batches for row in batch]
        # the rows after the first block's, over their time; a run of one block is all start
        on_two = len(rest) / (time.perf_counter() - first_at) if rest else len(first) / (first_at - start - ray_start)
        rows = first + rest
        check_rows(rows)
    finally:
        ray.shutdown()
    if len(rows) != len(inputs):
        raise SetupError(f"the batch bench got {len(rows)} rows from Ray for {len(inputs)} photos")
    return {"images": len(inputs), "images_per_s": {"ort-cpu": one_process, "ray --jobs 2": on_two},
            "ray_start_s": ray_start, "ray_first_rows_s": first_at - start - ray_start}


STYLE = ("style-wave", 256)  # the card and long side of the page's segment-and-stylize bench
STYLE_BROWSER_BACKEND = "ort-wasm"  # the page's faster engine for the style network here


def browser_style(url: str, frames: int) -> dict:
    """The page's segment-and-stylize bench frame on STYLE_BROWSER_BACKEND: the median of `frames`."""
    from .frames import bench_picture  # noqa: PLC0415

    with HeadlessApp(url, STYLE_BROWSER_BACKEND) as app:
        app.detect(*bench_picture())
        app.call(names.SHOW_VIEW, "style")
        style = json.loads(app.call(names.BENCH_SEGMENT_STYLE, frames))
    return {"backend": STYLE_BROWSER_BACKEND, "segmenter": style["segmenter"], "style": style["style"],
            "side": style["style_side"], "frames": frames, "ms": style["pipeline_ms"]}


def cpython_style(frames: int) -> dict:
    """The page's segment-and-stylize bench frame (640×480, the person stylized) in CPython on
    ort-cpu: the median of `frames` after one to warm up, decoding included."""
    from masks import BlendSettings  # noqa: PLC0415

    from ..cpython.engine import OnnxNetwork, onnx_model  # noqa: PLC0415
    from ..cpython.style import picture_rgb, stylized  # noqa: PLC0415
    from ..models import model_cards  # noqa: PLC0415
    from .frames import bench_picture  # noqa: PLC0415

    card_id, side = STYLE
    cards = {card.id: card for card in model_cards()}
    stylizer, segmenter = (OnnxNetwork(cards[card], onnx_model(cards[card]))
                           for card in (card_id, names.DEFAULT_SEGMENTER))
    data, name = bench_picture()
    times = []
    for _ in range(frames + 1):
        start = time.perf_counter()
        stylized(stylizer, picture_rgb(data, name), BlendSettings(style_side=side), segmenter)
        times.append((time.perf_counter() - start) * 1000)
    return {"style": card_id, "segmenter": names.DEFAULT_SEGMENTER, "side": side, "frames": frames,
            "ms": statistics.median(times[1:])}
