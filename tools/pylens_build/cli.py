"""The commands of build.py and their arguments: each command sets up what it needs and hands off."""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import names

from .bench import run_bench
from .bench.assets import BENCH_DETECTOR
from .bench.network import startup_network
from .bench.plain_js import originals_route
from .bench.report import bench_chart, network_chart, print_batch, print_bench, print_network
from .bench.throughput import batch_throughput, browser_style, cpython_style, cpython_throughput
from .fetch import write_atomically
from .headless import HeadlessApp
from .models import ensure_demos, ensure_models, model_cards
from .project import BUILD, PYODIDE, ROOT, SetupError, log
from .runtimes import ensure_chromium, ensure_dev_env, ensure_npm, ensure_pyodide, ensure_tfjs_bundle
from .server import make_server, routes, serving, watched
from .site_runtime import IMPORTS, RECORD_IMPORTS, write_imports
from .static_host import DEFAULT_PROFILES, PROFILES
from .static_site import DIST, build_site


def prepare_site(self_host: bool) -> Path | None:
    """Everything the served page needs; the self-hosted Pyodide's folder when asked for."""
    ensure_npm()
    ensure_tfjs_bundle()
    ensure_models()
    ensure_demos()
    return ensure_pyodide() if self_host else None


def cmd_serve(args: argparse.Namespace) -> int:
    pyodide_dist = prepare_site(self_host=bool(os.environ.get("PYODIDE_DIST")))
    server = make_server(args.port, routes(pyodide_dist), watch=watched())
    where = "self-hosted from " + str(pyodide_dist) if pyodide_dist else "from its CDN"
    log(f"serving on http://localhost:{server.server_address[1]}/ (Pyodide {where}); a module of py/ or "
        "a model card saved is taken in place by the page, a file of site/ reloads it; Ctrl+C stops")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    pyodide_dist = prepare_site(self_host=args.self_host)
    build_site(Path(args.out).resolve(), pyodide_dist)
    log(f"built {args.out}/ (Pyodide {'self-hosted' if pyodide_dist else 'from ' + PYODIDE['cdn']})")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    ensure_models()
    return 0


def cmd_pyodide(args: argparse.Namespace) -> int:
    log(f"Pyodide ready in {ensure_pyodide()}")
    return 0


def prepare_browser_tests() -> None:
    """Chromium, and the self-hosted site's files, which the tests find through PYODIDE_DIST."""
    ensure_chromium()
    os.environ["PYODIDE_DIST"] = str(prepare_site(self_host=True))


def cmd_test(args: argparse.Namespace) -> int:
    ensure_dev_env()
    if args.quick:  # the pure and CPython tests: no Chromium, no Pyodide, no Playwright imported
        args.pytest_args = ["--quick", *args.pytest_args]
    else:
        prepare_browser_tests()
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "build.py", "tools", "py", "models", "tests"],
                          cwd=ROOT)
    if lint.returncode:
        return lint.returncode
    return subprocess.run([sys.executable, "-m", "pytest", *args.pytest_args], cwd=ROOT).returncode


def cmd_measure_imports(args: argparse.Namespace) -> int:
    """The browser tests on the whole runtime, each page's imports recorded as it closes: the modules
    the trimmed runtime keeps, written to tools/pylens_build/pyodide/imports.txt."""
    ensure_dev_env()
    prepare_browser_tests()
    records = BUILD / "imports.jsonl"
    records.unlink(missing_ok=True)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-m", "browser", *args.pytest_args], cwd=ROOT,
                           env={**os.environ, RECORD_IMPORTS: str(records)})
    if tests.returncode:
        raise SetupError("the browser tests failed, so what they imported is not all the app imports: "
                         "imports.txt is left as it was")
    kept = write_imports(records, Path(os.environ["PYODIDE_DIST"]))
    log(f"{len(kept)} modules kept, in {IMPORTS.relative_to(ROOT)}")
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    ensure_dev_env()
    from .detect import run_detect  # noqa: PLC0415 — numpy, pyarrow, onnxruntime: the dev environment's, after the line above

    return run_detect(args, lambda: prepare_site(self_host=True))


def style_names() -> list[str]:
    """The --style names: the style cards' ids without 'style-', with '_' for '-' (la_muse, …)."""
    return [card.id.removeprefix("style-").replace("-", "_") for card in model_cards() if card.task == "style"]


def image_and_out(args: argparse.Namespace) -> tuple[bytes, Path]:
    """Shared by segment and stylize: the image's bytes, and --out where it can be written."""
    try:
        data = Path(args.image).read_bytes()
    except OSError as exc:
        raise SetupError(f"{args.image} cannot be read: {exc.strerror}.") from None
    out = Path(args.out)
    if not out.parent.is_dir():
        raise SetupError(f"{out.parent} is not a folder: the output {out.name} cannot be written there.")
    return data, out


def image_to_png(args: argparse.Namespace, method: str, *call_args) -> int:
    """Shared by segment and stylize: one image through the page, the PNG it gives written to --out."""
    ensure_dev_env()
    data, out = image_and_out(args)
    pyodide_dist = prepare_site(self_host=True)
    with serving(routes(pyodide_dist)) as url, HeadlessApp(url, args.backend) as app:
        result = app.on_image(method, data, Path(args.image).name, *call_args)
    if "error" in result:
        raise SetupError(result["error"])
    write_atomically(out, base64.b64decode(result["png"]))
    log(f"wrote {out} ({result['width']}×{result['height']})")
    return 0


def cards_by_id(*card_ids: str) -> list:
    cards = {card.id: card for card in model_cards()}
    return [cards[card_id] for card_id in card_ids]


def one_image_in_cpython(args: argparse.Namespace, make_png) -> int:
    """Shared by segment and stylize in CPython: `make_png(backend, data, name)`'s PNG written to --out."""
    data, out = image_and_out(args)
    png, (width, height) = make_png(args.backend or "ort-cpu", data, Path(args.image).name)
    write_atomically(out, png)
    log(f"wrote {out} ({width}×{height})")
    return 0


def runs_in_cpython(args: argparse.Namespace, cards: list) -> bool:
    """A CPython backend asked for, or none asked for and every card needed has an ONNX model."""
    if args.backend is None:
        return all("onnx" in card.engines for card in cards)
    return args.backend in names.CPYTHON_BACKENDS


def cmd_segment(args: argparse.Namespace) -> int:
    (card,) = cards_by_id(args.model)
    if not runs_in_cpython(args, [card]):
        return image_to_png(args, names.SEGMENT_IMAGE, args.model)
    ensure_dev_env()
    ensure_models([card])
    from .cpython.style import mask_png  # noqa: PLC0415 — onnxruntime, in the dev environment

    return one_image_in_cpython(args, lambda backend, data, name: mask_png(card, backend, data, name))


def cmd_stylize(args: argparse.Namespace) -> int:
    if args.style not in style_names():
        raise SetupError(f"There is no style '{args.style}'; choose one of {', '.join(style_names())}.")
    if args.max_side < 16:
        raise SetupError(f"--max-side must be at least 16 pixels, not {args.max_side}.")
    card_id = "style-" + args.style.replace("_", "-")
    cards = cards_by_id(card_id, *([names.DEFAULT_SEGMENTER] if args.mask else []))
    if not runs_in_cpython(args, cards):
        return image_to_png(args, names.STYLIZE_IMAGE, card_id, args.mask, args.max_side)
    ensure_dev_env()
    ensure_models(cards)
    from .cpython.style import stylized_png  # noqa: PLC0415 — onnxruntime, in the dev environment

    style, segmenter = cards[0], cards[1] if args.mask else None
    return one_image_in_cpython(args, lambda backend, data, name: stylized_png(
        style, backend, data, name, args.max_side, args.mask or "whole", segmenter))


def network_profiles(text: str) -> list[str]:
    """`--network`'s value: link profiles by name, comma-separated."""
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in PROFILES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(PROFILES)}, not {text!r}")
    return chosen


def write_network(network: dict, results: Path) -> None:
    """The start over the links, as bench-network.json and its chart."""
    write_atomically(results / "bench-network.json",
                     (json.dumps({"startup_network": network}, indent=2) + "\n").encode())
    network_chart(network, results / "bench-network.png")
    log(f"wrote {results / 'bench-network.json'} and {results / 'bench-network.png'}")


def cmd_bench(args: argparse.Namespace) -> int:
    ensure_dev_env()
    pyodide_dist = prepare_site(self_host=True)
    site = BUILD / "bench-site"
    build_site(site, pyodide_dist)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    if args.batch:  # build.py detect's throughput alone: pages of the app, and CPython
        with serving(routes(pyodide_dist)) as url:
            figures = {"batch": batch_throughput(url, args.backend, args.batch_images or 600),
                       "batch_cpython": cpython_throughput(args.batch_images or 600),
                       "style_browser": browser_style(url, args.style_frames),
                       "style_cpython": cpython_style(args.style_frames)}
        print_batch(figures)
        write_atomically(results / "bench-batch.json", (json.dumps(figures, indent=2) + "\n").encode())
        log(f"wrote {results / 'bench-batch.json'}")
    elif args.only_network:  # the start over the links alone, for trying a start-up change
        figures = {"startup_network": startup_network(site, pyodide_dist, args.network)}
        print_network(figures["startup_network"])
        write_network(figures["startup_network"], results)
    else:
        detector = next(card for card in model_cards() if card.id == BENCH_DETECTOR)
        with (serving([originals_route(detector), *routes(pyodide_dist)]) as url,
              serving(routes(pyodide_dist), isolated=False) as not_isolated,
              serving([("/pylens/", site)], isolated=False) as built_site):  # as a GitHub Pages project site
            figures = run_bench(args, url, not_isolated, built_site + "pylens/")
        figures["startup_network"] = startup_network(site, pyodide_dist, args.network)
        print_bench(figures)
        print_network(figures["startup_network"])
        write_atomically(results / "bench.json", (json.dumps(figures, indent=2) + "\n").encode())
        bench_chart(figures, results / "bench.png")
        log(f"wrote {results / 'bench.json'} and {results / 'bench.png'}")
        write_network(figures["startup_network"], results)
    if args.json:
        print(json.dumps(figures))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="build.py", description="PyLens task runner: each command sets up what "
                                     "it needs.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="set up and serve the app")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=cmd_serve)
    build = sub.add_parser("build", help="write the static site, for GitHub Pages or any static host")
    build.add_argument("--self-host", action="store_true",
                       help="include Pyodide, so that the site makes no request to another origin")
    build.add_argument("--out", default=str(DIST), metavar="DIR", help="default dist/")
    build.set_defaults(run=cmd_build)
    sub.add_parser("models", help="fetch, verify and convert the models").set_defaults(run=cmd_models)
    sub.add_parser("pyodide", help="fetch and verify a self-hosted Pyodide").set_defaults(run=cmd_pyodide)
    test = sub.add_parser("test", help="set up and run every test (further arguments go to pytest)")
    test.add_argument("--quick", action="store_true",
                      help="only the tests that need neither Chromium nor Pyodide, with no set-up but the virtual "
                      "environment (the models they use are fetched and converted when missing)")
    test.set_defaults(run=cmd_test)
    sub.add_parser("measure-imports", help="run the browser tests on the whole Python runtime and keep, in the site's "
                   "trimmed one, the modules they import (further arguments go to pytest)"
                   ).set_defaults(run=cmd_measure_imports)
    detect = sub.add_parser("detect", help="detect faces with and without masks; one JSON line per image")
    detect.add_argument("--backend", choices=(*names.CPYTHON_BACKENDS, *names.BACKENDS),
                        help="ort-cpu (the default: CPython, onnxruntime, no browser), ort-cuda, or one of the "
                             "page's in headless Chromium")
    detect.add_argument("--model", metavar="CARD", help="the detector's card id (default: the page's)")
    detect.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="workers: Ray Data's on this machine with ort-cpu (1: this process), pages with a "
                             "browser backend")
    detect.add_argument("--cluster", metavar="ADDRESS", help="run the workers on this Ray cluster (ray start --head)")
    detect.add_argument("--out", metavar="FILE", help="write one row per image as .jsonl, .csv or .parquet, once "
                        "the run is whole (instead of printing JSON lines)")
    detect.add_argument("--resume", action="store_true", help="finish an interrupted run into the same --out")
    detect.add_argument("--score-threshold", type=float, metavar="S", help="ort-cpu: a face's least score "
                        "(default: the card's)")
    detect.add_argument("--iou-threshold", type=float, metavar="I", help="ort-cpu: NMS's overlap (default: the card's)")
    detect.add_argument("--csv", metavar="FILE", help="also write one row per image: faces by label, top score, time")
    detect.add_argument("images", nargs="+", metavar="INPUT",
                        help="an image, a folder of them (recursively), an s3:// URI, or @FILE: the inputs FILE lists")
    detect.set_defaults(run=cmd_detect)
    segment = sub.add_parser("segment", help="person mask of an image as an 8-bit PNG (probability × 255)")
    segment.add_argument("--backend", choices=(*names.CPYTHON_BACKENDS, *names.BACKENDS),
                         help="ort-cpu (the default: CPython, onnxruntime, no browser), ort-cuda, or one of the "
                              "page's in headless Chromium")
    segment.add_argument("--model", choices=("selfie", "meet"), default="selfie")
    segment.add_argument("image", metavar="IMAGE")
    segment.add_argument("--out", required=True, metavar="MASK.png")
    segment.set_defaults(run=cmd_segment)
    stylize = sub.add_parser("stylize", help="an image in one of the six styles, whole or by person mask")
    stylize.add_argument("--backend", choices=(*names.CPYTHON_BACKENDS, *names.BACKENDS),
                         help="ort-cpu (the default: CPython, onnxruntime, no browser), ort-cuda, or one of the "
                              "page's in headless Chromium")
    stylize.add_argument("--style", required=True, metavar="NAME",
                         help="la_muse, rain_princess, scream, udnie, wave or wreck (the style cards)")
    stylize.add_argument("--mask", choices=("person", "background"),
                         help="stylize only the person or the background, by the mask of the "
                              f"{names.DEFAULT_SEGMENTER} segmenter")
    stylize.add_argument("--max-side", type=int, default=1024, metavar="N",
                         help="style transfer runs at the image's size up to N pixels on the long side")
    stylize.add_argument("image", metavar="IMAGE")
    stylize.add_argument("--out", required=True, metavar="OUT.png")
    stylize.set_defaults(run=cmd_stylize)
    bench = sub.add_parser("bench", help="time both pipelines against their models alone, in Chromium")
    bench.add_argument("--backend", choices=names.BACKENDS, default="wasm")
    bench.add_argument("--frames", type=int, default=100, help="face-mask frames")
    bench.add_argument("--style-frames", type=int, default=20, help="segment-and-stylize frames")
    bench.add_argument("--model-frames", type=int, default=10,
                       help="runs of each model alone on each engine's WebAssembly backend")
    bench.add_argument("--soak", type=int, default=1000, help="face-mask frames of the soak")
    bench.add_argument("--cold-runs", type=int, default=3, help="fresh-browser start-ups of each page (median)")
    bench.add_argument("--loop-seconds", type=float, default=20,
                       help="how long each view's webcam loop runs while the main thread is watched")
    bench.add_argument("--batch-images", type=int, metavar="N",
                       help="images (the demo photos in turn) detected by one page, then by two in parallel, then "
                            "in CPython by one process and by two Ray workers (default 24; 600 with --batch)")
    bench.add_argument("--batch", action="store_true",
                       help="only build.py detect's images per second; writes bench-batch.json")
    bench.add_argument("--network", type=network_profiles, default=list(DEFAULT_PROFILES), metavar="PROFILE[,PROFILE]",
                       help=f"the links the built site's start is measured over, as a visitor's: {', '.join(PROFILES)} "
                            f"(default {','.join(DEFAULT_PROFILES)})")
    bench.add_argument("--only-network", action="store_true",
                       help="only the start over the links; writes bench-network.json and bench-network.png")
    bench.add_argument("--results", default=str(ROOT / "results"), metavar="DIR",
                       help="where to write bench.json and bench.png (default results/)")
    bench.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    bench.set_defaults(run=cmd_bench)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("test", "measure-imports"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    try:
        return args.run(args)
    except SetupError as exc:
        log(f"error: {exc}")
        return 1

