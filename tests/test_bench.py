"""`build.py bench` on a short setting, as a subprocess: its table, its JSON line and its results folder."""

import json
import subprocess
import sys

import pytest
from PIL import Image

import names
from pylens_build.bench.startup import APP_PHASES, JS_PHASES
from pylens_build.models import model_cards, original_model
from pylens_build.project import BUILD, ROOT


@pytest.mark.browser
def test_bench_prints_and_writes_every_figure(tmp_path, loopback_only):
    bench = loopback_only(sys.executable, str(ROOT / "build.py"), "bench", "--frames", "3", "--style-frames", "1",
                          "--model-frames", "1", "--soak", "30", "--cold-runs", "1", "--loop-seconds", "2",
                          "--batch-images", "24", "--network", "broadband", "--results", str(tmp_path), "--json",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = bench.communicate(timeout=900)
    assert bench.returncode == 0, stderr[-3000:]
    figures = json.loads(stdout.strip().splitlines()[-1])
    cpython = figures["batch_cpython"]
    assert cpython["images"] == 24 and cpython["ray_start_s"] > 0
    assert set(cpython["images_per_s"]) == {"ort-cpu", "ray --jobs 2"} and min(cpython["images_per_s"].values()) > 0
    assert figures["style_cpython"]["ms"] > 0 and figures["style_cpython"]["frames"] == 1
    assert figures["style_browser"]["ms"] > 0 and figures["style_browser"]["backend"] == "ort-wasm"
    assert figures["backend"] == "wasm" and figures["browser"].startswith("Chromium ")
    mask = figures["face_mask"]
    for key in ("predict_ms", "python_pipeline_ms", "js_pipeline_ms", "cold_start_ms", "js_cold_start_ms",
                "warm_start_ms", "cached_start_ms", "cached_third_start_ms"):
        assert mask[key] > 0, key
    assert mask["wasm_threads"] is True and mask["not_isolated"]["predict_ms"] > 0
    # Each start-up phase runs from its own start mark (or navigation) to its own end mark (or the
    # first result), as the browser recorded them, and lies between navigation and the first result.
    for run, phases in (("cold_start", APP_PHASES), ("js_cold_start", JS_PHASES),
                        ("warm_start", APP_PHASES), ("cached_start", APP_PHASES),
                        ("cached_third_start", APP_PHASES)):
        marks, ms = mask[run]["marks"], mask[run]["ms"]
        for name, start_mark, end_mark in phases:
            start, end = mask[run]["phases"][name]
            assert (start, end) == (marks[start_mark] if start_mark else 0, marks[end_mark] if end_mark else ms)
            assert 0 <= start < end <= ms, (run, name, start, end)
            assert mask[run]["phases_ms"][name] == pytest.approx(end - start)
        if phases is APP_PHASES:  # what must come before what
            order = [names.PYSCRIPT_LOADING_PYODIDE, names.PYSCRIPT_LOADING_FILES, names.PYSCRIPT_LOADED_PYODIDE,
                     names.APP_STARTED, names.MODEL_READY, names.READY]
            assert [marks[name] for name in order] == sorted(marks[name] for name in order), (run, marks)
            assert marks[names.START_TFJS] < marks[names.START_BACKEND_READY] <= marks[names.BACKEND_READY]
            assert marks[names.START_DETECTOR_DOWNLOAD] < marks[names.START_DETECTOR_DOWNLOADED] < marks[names.READY]
    cold = mask["cold_start"]["phases"]
    assert cold["tf.js and its backend"][0] < cold["Python runtime and numpy"][1]  # overlapped
    # The whole run is covered, from navigation to the first result, with no moment outside a phase.
    for run in ("cold_start", "js_cold_start", "warm_start", "cached_start", "cached_third_start"):
        covered = 0.0
        for start, end in sorted(mask[run]["phases"].values()):
            assert start <= covered, (run, "nothing measured from", covered, "to", start)
            covered = max(covered, end)
        assert covered == mask[run]["ms"], run
    assert all(size > 0 for size in mask["cold_start"]["bytes"].values())
    assert mask["first_load_bytes"] == sum(mask["cold_start"]["bytes"].values())
    soak = mask["soak"]
    assert soak["frames"] == 30 and soak["tensors_after"] == soak["tensors_before"]
    # The start-up and main-thread figures, each measured.
    assert set(figures["startup"]) == {"app_cold_ms", "app_warm_ms", "js_cold_ms", "runtime_floor_ms",
                                       "interactive_ms", "longest_task_ms", "total_blocking_ms"}
    for key in ("app_cold_ms", "app_warm_ms", "js_cold_ms", "runtime_floor_ms", "interactive_ms", "longest_task_ms"):
        assert figures["startup"][key] > 0, key
    assert figures["startup"]["total_blocking_ms"] >= 0
    loops = figures["loops"]
    assert loops["mask_longest_task_ms"] > 0 and loops["style_longest_task_ms"] > 0
    assert loops["mask_frames"] > 0 and loops["style_frames"] > 0
    batch = figures["batch"]
    assert batch["images"] == 24 and set(batch["images_per_s"]) == {"1", "2"}
    assert all(per_second > 0 for per_second in batch["images_per_s"].values())
    assert "img/s" in stdout and "Ray's start, apart" in stdout
    style = figures["segment_style"]
    assert (style["width"], style["height"], style["style_side"]) == (640, 480, 256)
    assert style["pipeline_ms"] > 0 and style["models_ms"] > 0
    # Every stage of a frame measured, the networks' included: none is a still picture's kept output.
    assert set(style["stages_ms"]) == {"capture", "segmentation", "style_transfer", "blend", "draw"}
    assert style["pipeline_ms"] >= style["stages_ms"]["style_transfer"] > 0
    # Each model alone on each engine's wasm: ONNX Runtime runs every model that has an ONNX model.
    models = figures["models"]
    assert list(models) == ["wasm", "ort-wasm"]
    cards = {card.id: card for card in model_cards()}
    for backend, engine in (("wasm", "tfjs"), ("ort-wasm", "onnx")):
        assert set(models[backend]) == set(cards)
        for card_id, run in models[backend].items():
            assert run["engine"] == (engine if "onnx" in cards[card_id].engines else "tfjs") and run["ms"] > 0
    assert "each model alone" in stdout
    # The start as a visitor gets it, over the broadband link: every visit reaches the demo's boxes, the
    # first over the wire with the whole site, the later ones from the service worker's cache; each
    # response before the result between the navigation and the result.
    network = figures["startup_network"]
    assert list(network) == ["broadband"]
    broadband = network["broadband"]
    assert (broadband["down_mbit"], broadband["rtt_ms"]) == (20, 40)
    first, second, third, plain = (*(broadband["app"][visit] for visit in ("first", "second", "third")),
                                   broadband["plain"])
    for visit in (first, second, third, plain):
        assert visit["ms"] > 0 and visit["requests"] == len(visit["responses"])
        assert visit["bytes"] == sum(size for *_, size in visit["responses"])
        for _, asked, first_byte, last_byte, _ in visit["responses"]:
            assert 0 <= asked <= first_byte <= last_byte and asked <= visit["ms"]
    assert first["bytes"] > 10 * second["bytes"] and first["bytes"] > plain["bytes"]
    paths = [path for path, *_ in first["responses"]]
    assert "/pylens/pyodide/pyodide.asm.wasm" in paths and "/pylens/models/aizoo-face-mask/model.json" in paths
    # The app's detector weights as served (float16); the plain page's as published (float32), as the original demo's.
    weights = "aizoo-face-mask/group1-shard1of1.bin"
    sizes = {path: size for path, *_, size in first["responses"] + plain["responses"]}
    assert sizes["/pylens/models/" + weights] == (BUILD / "models" / weights).stat().st_size
    detector = next(card for card in model_cards() if card.id == "aizoo-face-mask")
    assert sizes["/originals/" + weights] == (original_model(detector) / "group1-shard1of1.bin").stat().st_size
    assert sizes["/pylens/models/" + weights] < sizes["/originals/" + weights]
    assert first["marks"][names.READY] < first["ms"]
    assert broadband["first_visit_ratio"] == pytest.approx(first["ms"] / plain["ms"])
    assert "start-up as a visitor gets it, broadband" in stdout
    assert json.loads((tmp_path / "bench-network.json").read_text()) == {"startup_network": network}
    with Image.open(tmp_path / "bench-network.png") as chart:
        assert chart.format == "PNG"
    # The readable table, and the results folder holding the same figures and the chart.
    assert "plain JavaScript pipeline" in stdout and "JS heap growth" in stdout
    assert json.loads((tmp_path / "bench.json").read_text()) == figures
    with Image.open(tmp_path / "bench.png") as chart:
        assert chart.format == "PNG" and chart.width >= 800
