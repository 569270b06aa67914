"""Frame-time measurements of both pipelines, and of each model on each engine, on the running page,
driven by `build.py bench`."""

from __future__ import annotations

import statistics

import js
from pyscript.ffi import to_js

import ortbridge
import tfbridge
from cards import StyleCard
from clock import now_ms
from detector import SsdDetector
from model import CardModel
from results import select_detections

# What a plain tf.js page does after predict: read every output back at once.
_read_all = js.Function.new("outputs", "return Promise.all(outputs.map(t => t.data()))")


async def predict_and_read_ms(model: CardModel, batch) -> float:
    """A model's own time: run on a ready input batch and read its outputs back (then disposed)."""
    start = now_ms()
    outputs = await model.run(batch)
    await _read_all(to_js(outputs))
    elapsed = now_ms() - start
    tfbridge.dispose(outputs)
    return elapsed


async def pipeline_ms(detector: SsdDetector, source, width: int, height: int, stages: dict) -> float:
    """The app's whole pipeline: pixels on a canvas to detections ready to draw."""
    timings: dict[str, float] = {}
    start = now_ms()
    frame = await detector.infer(source, timings)
    mark = now_ms()
    select_detections(frame, detector.card, width, height, detector.card.score_threshold,
                      detector.card.iou_threshold)
    end = now_ms()
    timings["nms"] = end - mark
    for key, value in timings.items():
        stages.setdefault(key, []).append(value)
    return end - start


async def js_pipeline_ms(js_pipeline, source, width: int, height: int, card) -> float:
    """The plain JavaScript pipeline (tf.js decoding, tf.image.nonMaxSuppression) on the same pixels."""
    start = now_ms()
    await js_pipeline.detect(source, width, height, card.score_threshold, card.iou_threshold)
    return now_ms() - start


async def face_mask(detector: SsdDetector, source, width: int, height: int, frames: int,
                    js_pipeline, js_source, warm_up: int = 5) -> dict:
    """Medians over `frames` frames of the model alone, the app's pipeline and the plain JavaScript
    one (an object of the page with `detect`, run on js_source: the page's canvas showing the same
    pixels; or None), taken in turn within each frame so that all three see the same machine."""
    card = detector.card
    with tfbridge.tensor_scope():
        batch = tfbridge.tf().keep(tfbridge.preprocess(source, card))
    model, pipeline, plain_js, stages = [], [], [], {}
    for i in range(warm_up + frames):
        m = await predict_and_read_ms(detector, batch)
        p = await pipeline_ms(detector, source, width, height, stages if i >= warm_up else {})
        if i >= warm_up:
            model.append(m)
            pipeline.append(p)
        if js_pipeline is not None:
            j = await js_pipeline_ms(js_pipeline, js_source, width, height, card)
            if i >= warm_up:
                plain_js.append(j)
    batch.dispose()
    medians = {key: statistics.median(values) for key, values in stages.items()}
    return {
        "frames": frames,
        "predict_ms": statistics.median(model),
        "python_pipeline_ms": statistics.median(pipeline),
        "js_pipeline_ms": statistics.median(plain_js) if plain_js else None,
        "postprocess_ms": statistics.median(
            [sum(v) for v in zip(stages["readback"], stages["box_decode"], stages["nms"], strict=True)]),
        "stages_ms": medians,
    }


async def segment_style(view, source, frames: int, warm_up: int = 3) -> dict:
    """Medians over `frames` frames of the segment-and-stylize view's stages on a canvas, drawn and
    shown (none using the outputs kept for a still picture), and of its two models alone (predict on
    a ready input and wait for the result), alternating the two."""
    await view.prepare()
    settings = view.settings
    segmenter, stylizer = view.loaded[view.segmenter_id], view.loaded[view.style_id]
    tfjs = tfbridge.tf()
    with tfbridge.tensor_scope():
        pixels = tfbridge.float_pixels(source)
        height, width = pixels.shape[0], pixels.shape[1]
        seg_input = tfjs.keep(segmenter.input_batch(pixels))
        style_input = tfjs.keep(stylizer.input_batch(pixels, settings.style_side))
    stages: dict[str, list[float]] = {}
    models, totals = [], []
    for i in range(warm_up + frames):
        own = await predict_and_read_ms(segmenter, seg_input) + await predict_and_read_ms(stylizer, style_input)
        timings: dict[str, float] = {}
        view.kept.drop()  # each frame a new picture, as the webcam's: both networks run
        await view.run_frame(source, timings)
        if i >= warm_up:
            models.append(own)
            totals.append(sum(timings.values()))
            for key, value in timings.items():
                stages.setdefault(key, []).append(value)
    seg_input.dispose()
    style_input.dispose()
    return {
        "frames": frames,
        "width": int(width), "height": int(height), "style_side": settings.style_side,
        "segmenter": view.segmenter_id, "style": view.style_id,
        "models_ms": statistics.median(models),
        "pipeline_ms": statistics.median(totals),
        "stages_ms": {key: statistics.median(values) for key, values in stages.items()},
    }


async def soak(run_frame, source, frames: int) -> dict:
    """`frames` runs of the app's whole frame (pipeline and drawing) on one source: the tensor
    count before and after, and the mean frame time."""
    before = tfbridge.tensor_count()
    start = now_ms()
    for _ in range(frames):
        await run_frame(source, {})
    return {"frames": frames, "tensors_before": before, "tensors_after": tfbridge.tensor_count(),
            "frame_ms": (now_ms() - start) / frames}


STYLE_INPUT = (192, 256)  # a style network's input in the segment-and-stylize bench: 640×480 at 256 px


async def models_on_backends(switch, cards, models_url: str, backends: list[str], frames: int,
                             warm_up: int = 3) -> dict:
    """Each card's model alone (run on zeros of its input size, read back) on each backend, switched to
    with `switch`: {backend: {card id: {"engine": what ran it, "ms": median over `frames` runs}}}."""
    figures = {}
    for backend in backends:
        await switch(backend)
        figures[backend] = {}
        for card in cards:
            height, width = STYLE_INPUT if isinstance(card, StyleCard) else (card.input_height, card.input_width)
            model = await CardModel.load(card, models_url, lambda received, total: None)
            batch = tfbridge.kept(lambda h=height, w=width: tfbridge.tf().zeros(to_js([1, h, w, 3])))
            runs = [await predict_and_read_ms(model, batch) for _ in range(warm_up + frames)][warm_up:]
            engine = "onnx" if isinstance(model.network, ortbridge.OnnxNetwork) else "tfjs"
            figures[backend][card.id] = {"engine": engine, "ms": statistics.median(runs)}
            batch.dispose()
            model.dispose()
    return figures
