"""The bench's figures as tables on stdout and as charts (bench.png, bench-network.png)."""

from __future__ import annotations

from pathlib import Path

from names import PICTURE_SHOWN, PYSCRIPT_LOADING_PYODIDE, READY

from .assets import BENCH_IMAGE
from .network import FIRST_VISIT_S


def print_rows(title: str, rows: list[tuple]) -> None:
    """A titled table of (name, value) in milliseconds, or (name, value, unit)."""
    print(title)
    for name, value, *unit in rows:
        print(f"  {name:<52} {value:8.2f} {unit[0] if unit else 'ms'}".rstrip())



def print_bench(figures: dict) -> None:
    mask, style = figures["face_mask"], figures["segment_style"]
    print_rows(f"face-mask, {BENCH_IMAGE.name}, {mask['frames']} frames, backend {figures['backend']}, "
               f"{figures['browser']}, {figures['machine']}", [
        ("model: predict + readback", mask["predict_ms"]),
        ("Python pipeline, whole frame", mask["python_pipeline_ms"]),
        ("  of which post-processing (readback, decode, NMS)", mask["postprocess_ms"]),
        *((f"  stage: {name}", ms) for name, ms in mask["stages_ms"].items()),
        ("plain JavaScript pipeline (tf.js decode and NMS)", mask["js_pipeline_ms"]),
        ("Python pipeline / model", mask["python_pipeline_ms"] / mask["predict_ms"], "×"),
        ("Python pipeline / JavaScript pipeline", mask["python_pipeline_ms"] / mask["js_pipeline_ms"], "×"),
    ])
    print_rows(f"the same without cross-origin isolation (wasm threads {'on' if mask['wasm_threads'] else 'off'} "
               "above, off here)", [
        ("model: predict + readback", mask["not_isolated"]["predict_ms"]),
        ("Python pipeline, whole frame", mask["not_isolated"]["python_pipeline_ms"]),
        ("speed-up of the model from threads", mask["not_isolated"]["predict_ms"] / mask["predict_ms"], "×"),
    ])
    def phases(run: dict) -> list[tuple[str, float]]:
        return [(f"  {name} ({start:.0f}–{end:.0f})", end - start) for name, (start, end) in run["phases"].items()]

    print_rows(f"start-up, navigation to the first result (median of {mask['cold_runs']}); phases overlap, "
               "each from its start to its end (ms after navigation)", [
        ("app, first visit", mask["cold_start_ms"]),
        *phases(mask["cold_start"]),
        ("app, second visit (browser cache)", mask["warm_start_ms"]),
        ("built site, second visit (service worker cache, Python's snapshot)", mask["cached_start_ms"]),
        *phases(mask["cached_start"]),
        ("built site, third visit", mask["cached_third_start_ms"]),
        *phases(mask["cached_third_start"]),
        ("plain JavaScript page, first visit", mask["js_cold_start_ms"]),
        *phases(mask["js_cold_start"]),
        ("app / plain JavaScript", mask["cold_start_ms"] / mask["js_cold_start_ms"], "×"),
    ])
    print_rows("bytes downloaded on the first visit", [
        *((f"  app: {name}", size / 1e6, "MB") for name, size in mask["cold_start"]["bytes"].items()),
        ("app, in all", mask["first_load_bytes"] / 1e6, "MB"),
        ("plain JavaScript page, in all", sum(mask["js_cold_start"]["bytes"].values()) / 1e6, "MB"),
    ])
    startup, loops = figures["startup"], figures["loops"]
    print_rows("the page's main thread (long tasks: the page does not answer while one runs)", [
        ("interactive: navigation to a given photo on screen", startup["interactive_ms"]),
        ("  / plain JavaScript page's first result", startup["interactive_ms"] / startup["js_cold_ms"], "×"),
        ("runtime floor: Pyodide, numpy and Pillow alone", startup["runtime_floor_ms"]),
        ("app, first visit / runtime floor", startup["app_cold_ms"] / startup["runtime_floor_ms"], "×"),
        ("app, first visit / plain JavaScript page", startup["app_cold_ms"] / startup["js_cold_ms"], "×"),
        ("built site, second visit / plain JavaScript page", startup["app_warm_ms"] / startup["js_cold_ms"], "×"),
        ("longest task, navigation to first result", startup["longest_task_ms"]),
        ("total blocking time, navigation to first result", startup["total_blocking_ms"]),
        (f"longest task, face-mask webcam loop ({loops['mask_frames']} frames)", loops["mask_longest_task_ms"]),
        (f"longest task, segment & stylize webcam loop ({loops['style_frames']} frames)",
         loops["style_longest_task_ms"]),
    ])
    print_batch(figures)
    soaked = mask["soak"]
    print_rows(f"soak: {soaked['frames']} whole frames (pipeline and drawing)", [
        ("tf.js tensors before", soaked["tensors_before"], ""),
        ("tf.js tensors after", soaked["tensors_after"], ""),
        ("JS heap before (after warm-up)", soaked["heap_before"] / 1e6, "MB"),
        ("JS heap after", soaked["heap_after"] / 1e6, "MB"),
        ("JS heap growth", 100 * soaked["heap_growth"], "%"),
        ("mean frame", soaked["frame_ms"]),
    ])
    print_rows(f"segment & stylize, {style['width']}×{style['height']}, style at {style['style_side']} px, "
               f"{style['segmenter']} + {style['style']}, {style['frames']} frames", [
        ("the two models alone: predict + wait", style["models_ms"]),
        ("whole pipeline, capture to drawn", style["pipeline_ms"]),
        *((f"  stage: {name}", ms) for name, ms in style["stages_ms"].items()),
        ("overhead beyond the models", 100 * style["overhead"], "%"),
    ])
    print_models(figures["models"])


def print_models(models: dict) -> None:
    """Each model alone on each backend: a row per model, a column per backend, "(tf.js)" where a
    model ran on tf.js under ONNX Runtime's backend."""
    backends = list(models)
    print(f"each model alone, run on zeros and read back (ms): {' | '.join(backends)}")
    for card_id in models[backends[0]]:
        cells = [f"{models[b][card_id]['ms']:8.2f}" + (" (tf.js)" if b.startswith("ort-") and
                                                       models[b][card_id]["engine"] == "tfjs" else "")
                 for b in backends]
        print(f"  {card_id:<24} {' | '.join(cells)}")


def bench_chart(figures: dict, out: Path) -> None:
    """The bench figures as one PNG: face-mask frame times, start-up phases on a timeline, segment &
    stylize by stage."""
    import matplotlib  # noqa: PLC0415 — installed by ensure_dev_env

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    mask, style = figures["face_mask"], figures["segment_style"]
    fig, (frame_ax, start_ax, style_ax) = plt.subplots(3, 1, figsize=(11, 15), layout="constrained",
                                                       height_ratios=(1, 4, 1))
    fig.suptitle(f"PyLens bench: {figures['browser']}, {figures['backend']} backend\n{figures['machine']}",
                 fontsize=10)

    names = ["model: predict + readback", "Python pipeline (the app)", "plain JavaScript pipeline"]
    values = [mask["predict_ms"], mask["python_pipeline_ms"], mask["js_pipeline_ms"]]
    bars = frame_ax.barh(names, values, color=["#999999", "#3776ab", "#f0db4f"])
    frame_ax.bar_label(bars, fmt="%.1f ms", padding=3)
    frame_ax.invert_yaxis()
    frame_ax.set_title(f"face-mask detection, one frame (median of {mask['frames']})", fontsize=10)
    frame_ax.set_xlabel("ms")

    def stacked(ax, rows: list[tuple[str, dict]]) -> None:
        """One bar per row, split into its parts; a part of the same name has the same colour."""
        palette, colors = iter(plt.get_cmap("tab20").colors), {}
        for row, (label, parts) in enumerate(rows):
            left = 0.0
            for name, ms in parts.items():
                new = name not in colors
                if new:
                    colors[name] = next(palette)
                ax.barh(label, ms, left=left, color=colors[name], label=name if new else None)
                left += ms
            ax.text(left, row, f" {left:.0f} ms", va="center", fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("ms")
        ax.margins(x=0.12)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))

    def timeline(ax, runs: list[tuple[str, dict]]) -> None:
        """Each run's phases as bars from their start to their end, one row each (phases overlap),
        and a line at the run's first result."""
        palette, colors, labels = iter(plt.get_cmap("tab20").colors), {}, []
        for run_label, run in runs:
            first_row = len(labels)
            for name, (start, end) in run["phases"].items():
                if name not in colors:
                    colors[name] = next(palette)
                ax.barh(len(labels), end - start, left=start, color=colors[name])
                labels.append(f"{run_label}: {name}")
            ax.vlines(run["ms"], first_row - 0.4, len(labels) - 0.6, colors="black", linestyles="dashed", lw=0.8)
            ax.text(run["ms"], first_row, f" {run['ms']:.0f} ms", va="center", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("ms after navigation")
        ax.margins(x=0.08)

    floor = figures["startup"]["runtime_floor_ms"]
    timeline(start_ax, [("app, first visit", mask["cold_start"]),
                        ("built site, second visit", mask["cached_start"]),
                        ("built site, third visit", mask["cached_third_start"]),
                        ("plain JavaScript", mask["js_cold_start"]),
                        ("runtime floor", {"ms": floor, "phases": {"Pyodide, numpy and Pillow alone": [0.0, floor]}})])
    start_ax.set_title(f"start-up: navigation to the first result (median of {mask['cold_runs']}); "
                       f"a photo given to the page is on screen after {figures['startup']['interactive_ms']:.0f} ms",
                       fontsize=10)
    stacked(style_ax, [("whole pipeline", style["stages_ms"]),
                       ("the two models alone", {"segmentation + style models": style["models_ms"]})])
    style_ax.set_title(f"segment & stylize, {style['width']}×{style['height']}, style at {style['style_side']} px "
                       f"(median of {style['frames']})", fontsize=10)
    fig.savefig(out, dpi=100)
    plt.close(fig)



def print_batch(figures: dict) -> None:
    """build.py detect's images per second: pages of the app, and CPython on onnxruntime."""
    batch, cpython = figures["batch"], figures["batch_cpython"]
    print_rows(f"a batch of {batch['images']} photos through build.py detect, images per second", [
        *((f"browser ({batch['backend']}), --jobs {jobs} (the pages already started)", per_second, "img/s")
          for jobs, per_second in batch["images_per_s"].items()),
        *((f"CPython, {how}", per_second, "img/s") for how, per_second in cpython["images_per_s"].items()),
        ("  Ray's start, apart", cpython["ray_start_s"] * 1000),
        ("  then its workers' start, to the first rows", cpython["ray_first_rows_s"] * 1000),
        ("ort-cpu, one process / browser --jobs 2",
         cpython["images_per_s"]["ort-cpu"] / batch["images_per_s"]["2"], "×"),
        ("Ray --jobs 2 / ort-cpu, one process",
         cpython["images_per_s"]["ray --jobs 2"] / cpython["images_per_s"]["ort-cpu"], "×"),
    ])
    style = figures["style_cpython"]
    rows = [("CPython, ort-cpu (decoding included)", style["ms"])]
    if "style_browser" in figures:
        browser = figures["style_browser"]
        rows.insert(0, (f"browser ({browser['backend']}, drawing included)", browser["ms"]))
    print_rows(f"a 640×480 frame's person stylized ({style['segmenter']}, {style['style']} at {style['side']} px, "
               f"median of {style['frames']})", rows)


def print_network(network: dict) -> None:
    for profile, run in network.items():
        link = "no limit" if run["down_mbit"] is None else f"{run['down_mbit']} Mbit/s, {run['rtt_ms']} ms round trip"
        app, plain = run["app"], run["plain"]

        def visit(label: str, figures: dict) -> list[tuple]:
            requests = figures["requests"]
            return [(label, figures["ms"]),
                    (f"  bytes over the wire before the result ({requests} requests)", figures["bytes"] / 1e6, "MB")]

        print_rows(f"start-up as a visitor gets it, {profile} ({link}): the built site from a static host (gzip, "
                   "no COOP/COEP), automatic backend, wall clock from navigation to the demo's boxes listed", [
            *visit("app, first visit (the service worker's reload included)", app["first"]),
            *visit(f"app, second visit (after a first visit of {FIRST_VISIT_S} s)", app["second"]),
            *visit("app, third visit", app["third"]),
            *visit("plain tf.js page, first visit", plain),
            *visit("runtime floor: Pyodide, numpy and Pillow as published, nothing else", run["runtime_floor"]),
            ("app, first visit / plain tf.js page", run["first_visit_ratio"], "×"),
            ("app / plain tf.js page, bytes before the first result", run["bytes_ratio"], "×"),
        ])
    profile, run = next(iter(network.items()))
    files = sorted(run["app"]["first"]["responses"], key=lambda response: -response[4])
    print_rows(f"the app's first visit over {profile}, bytes over the wire by file (the files of 50 kB and more)", [
        (path.split("/", 2)[-1], size / 1e6, "MB") for path, *_, size in files if size >= 50_000])


def network_chart(network: dict, out: Path) -> None:
    """The first visit's responses over the first profile's link, each from when it was asked for
    to its first byte (waiting) and to its last (transfer), with the page's marks: what waited on
    what; and each profile's visits beside the plain tf.js page's."""
    import matplotlib  # noqa: PLC0415 — installed by ensure_dev_env

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    profile, run = next(iter(network.items()))
    first = run["app"]["first"]
    responses = sorted(first["responses"], key=lambda response: response[1])
    fig, (visits_ax, path_ax) = plt.subplots(2, 1, figsize=(12, 4 + 0.16 * len(responses)), layout="constrained",
                                             height_ratios=(1, 0.16 * len(responses) + 1))
    rows = [(f"{name}: {label}", figures["ms"]) for name, each in network.items()
            for label, figures in (("app, first visit", each["app"]["first"]), ("second", each["app"]["second"]),
                                   ("third", each["app"]["third"]), ("plain tf.js page", each["plain"]))]
    bars = visits_ax.barh([label for label, _ in rows], [ms for _, ms in rows],
                          color=["#f0db4f" if "plain" in label else "#3776ab" for label, _ in rows])
    visits_ax.bar_label(bars, fmt="%.0f ms", padding=3, fontsize=8)
    visits_ax.invert_yaxis()
    visits_ax.tick_params(labelsize=8)
    visits_ax.set_title("navigation to the demo's boxes listed, wall clock, by link", fontsize=10)
    visits_ax.set_xlabel("ms")
    visits_ax.margins(x=0.1)
    for row, (_, asked, first_byte, last_byte, size) in enumerate(responses):
        path_ax.barh(row, first_byte - asked, left=asked, color="#cccccc", height=0.7)
        path_ax.barh(row, max(last_byte - first_byte, 1), left=first_byte, color="#3776ab", height=0.7)
        if size >= 100_000:
            path_ax.text(last_byte, row, f" {size / 1e6:.2f} MB", va="center", fontsize=6)
    path_ax.set_yticks(range(len(responses)), [path.rsplit("/", 1)[-1] or path for path, *_ in responses], fontsize=6)
    marked = [(name, first["marks"][name]) for name in (PICTURE_SHOWN, PYSCRIPT_LOADING_PYODIDE, READY)
              if name in first["marks"]] + [(f"boxes listed, {first['ms']:.0f} ms", first["ms"])]
    for step, (name, at) in enumerate(marked):  # each label on a line of its own, above the requests
        path_ax.axvline(at, color="black" if step == len(marked) - 1 else "#888888", lw=0.8, ls="--")
        path_ax.text(at, -1.5 - 1.5 * step, f" {name}", fontsize=7, va="center")
    path_ax.set_ylim(len(responses), -1.5 * len(marked) - 1)
    path_ax.set_xlabel("ms after navigation (grey: waiting for the first byte; blue: transfer)")
    path_ax.set_title(f"app, first visit over {profile}: every response before the result, in the order asked "
                      f"({first['requests']} requests, {first['bytes'] / 1e6:.1f} MB)", fontsize=10)
    fig.savefig(out, dpi=100)
    plt.close(fig)
