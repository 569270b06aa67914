"""Frame-time measurements of the face-mask pipeline on the running page, driven by `build.py bench`."""

from __future__ import annotations

import statistics

import js

import tfbridge
from detector import FaceMaskDetector, now_ms
from results import select_detections

# What a plain tf.js page does after predict: read every output back at once.
_read_all = js.Function.new("outputs", "return Promise.all(outputs.map(t => t.data()))")


async def predict_and_read_ms(detector: FaceMaskDetector, batch) -> float:
    """The model's own time: predict on a ready input batch and read its outputs back."""
    start = now_ms()
    outputs = tfbridge.model_outputs(detector.model, batch, detector.card)
    await _read_all(tfbridge.js_value(outputs))
    elapsed = now_ms() - start
    tfbridge.tf().dispose(outputs)
    return elapsed


async def pipeline_ms(detector: FaceMaskDetector, source, width: int, height: int, stages: dict) -> float:
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


async def face_mask(detector: FaceMaskDetector, source, width: int, height: int, frames: int,
                    warm_up: int = 5) -> dict:
    """Medians over `frames` frames, alternating the two measurements so that both see the same machine."""
    card = detector.card
    with tfbridge.tensor_scope():
        batch = tfbridge.tf().keep(tfbridge.preprocess(source, card))
    model, pipeline, stages = [], [], {}
    for i in range(warm_up + frames):
        m = await predict_and_read_ms(detector, batch)
        p = await pipeline_ms(detector, source, width, height, stages if i >= warm_up else {})
        if i >= warm_up:
            model.append(m)
            pipeline.append(p)
    batch.dispose()
    medians = {key: statistics.median(values) for key, values in stages.items()}
    return {
        "frames": frames,
        "predict_ms": statistics.median(model),
        "python_pipeline_ms": statistics.median(pipeline),
        "postprocess_ms": statistics.median(
            [sum(v) for v in zip(stages["readback"], stages["box_decode"], stages["nms"], strict=True)]),
        "stages_ms": medians,
    }
