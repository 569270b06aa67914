"""`build.py bench`: both pipelines timed against their models alone and a plain JavaScript page,
start-up and the main thread, in headless Chromium; report.py prints and draws the figures."""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

import names

from ..headless import HeadlessApp
from ..models import model_cards
from .assets import BENCH_DETECTOR
from .frames import bench_face_mask, bench_picture, soak, webcam_loops
from .plain_js import plain_js_start
from .startup import app_start, built_site_later_visits, interactive_start, median_run, runtime_floor
from .throughput import batch_throughput, browser_style, cpython_style, cpython_throughput

MODEL_BACKENDS = ("wasm", "ort-wasm")  # each model alone on each engine, on WebAssembly


def run_bench(args: argparse.Namespace, url: str, url_not_isolated: str, built_site_url: str) -> dict:
    """Every figure of `build.py bench` (see its help), as one dict. The page is cross-origin
    isolated, as `build.py serve` and the service worker make it; on url_not_isolated, the
    face-mask figures are taken again without isolation, so without wasm threads."""
    card = next(card for card in model_cards() if card.id == BENCH_DETECTOR)
    with HeadlessApp(url_not_isolated, args.backend) as app:
        single = bench_face_mask(app, card, args.frames, with_js=False)
    with HeadlessApp(url, args.backend) as app:
        browser = f"Chromium {app.browser.version}"
        mask = bench_face_mask(app, card, args.frames)
        mask["wasm_threads"] = app.stats()["wasm_threads"]
        mask["not_isolated"] = {key: single[key] for key in ("predict_ms", "python_pipeline_ms")}
        mask["soak"] = soak(app, args.soak)
        app.detect(*bench_picture())
        app.call(names.SHOW_VIEW, "style")
        style = json.loads(app.call(names.BENCH_SEGMENT_STYLE, args.style_frames))
        models = json.loads(app.call(names.BENCH_MODELS, list(MODEL_BACKENDS), args.model_frames))
    style["overhead"] = style["pipeline_ms"] / style["models_ms"] - 1
    visits = [app_start(url, args.backend, visits=2) for _ in range(args.cold_runs)]
    cold, warm = median_run([v[0] for v in visits]), median_run([v[1] for v in visits])
    plain = median_run([plain_js_start(url, card) for _ in range(args.cold_runs)])
    later = [built_site_later_visits(built_site_url, args.backend) for _ in range(args.cold_runs)]
    cached, third = median_run([v[0] for v in later]), median_run([v[1] for v in later])
    mask.update(cold_start_ms=cold["ms"], js_cold_start_ms=plain["ms"], warm_start_ms=warm["ms"],
                cached_start_ms=cached["ms"], cached_third_start_ms=third["ms"], cold_start=cold,
                js_cold_start=plain, warm_start=warm, cached_start=cached, cached_third_start=third,
                first_load_bytes=sum(cold["bytes"].values()), cold_runs=args.cold_runs)
    startup = {"app_cold_ms": cold["ms"], "app_warm_ms": cached["ms"], "js_cold_ms": plain["ms"],
               "runtime_floor_ms": statistics.median(runtime_floor(url) for _ in range(args.cold_runs)),
               "interactive_ms": statistics.median(interactive_start(url, args.backend) for _ in range(args.cold_runs)),
               "longest_task_ms": cold["longest_task_ms"], "total_blocking_ms": cold["total_blocking_ms"]}
    return {"backend": mask["backend"], "browser": browser, "machine": machine(), "face_mask": mask,
            "segment_style": style, "models": models, "startup": startup,
            "loops": webcam_loops(url, args.backend, args.loop_seconds),
            "batch": batch_throughput(url, args.backend, args.batch_images or 24),
            "batch_cpython": cpython_throughput(args.batch_images or 24),
            "style_browser": browser_style(url, args.style_frames),
            "style_cpython": cpython_style(args.style_frames)}


def machine() -> str:
    """The CPU model and core count, for the record."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown CPU")
    return f"{model}, {os.cpu_count()} cores"

