"""Converted models compute what their sources compute.

- The face-mask frozen graph, converted to a tf.js graph model, gives the original layers model's
  outputs (max absolute difference ≤ 1e-4 on both tensors) on every test photo, in the browser; the
  layers model served with float16 weights gives them within 0.05 (box offsets) and 0.01 (scores).
- The fast-style network rebuilt in TensorFlow agrees with a direct numpy evaluation of its
  formulas (CPython), and the converted tf.js model agrees with TensorFlow at PSNR ≥ 40 dB
  on real photos, in the browser.
- The ONNX models, run by onnxruntime in CPython, give TensorFlow's outputs: the face-mask graph's
  and layers model's within 1e-4 (max absolute difference, both tensors) on every test photo, the
  style networks' at PSNR ≥ 60 dB on real photos. The segmenters' ONNX models (from the tf.js graph
  models as published) give their tf.js models' outputs in the browser within 0.01 on every test photo.
"""

from __future__ import annotations

import base64
import subprocess

import numpy as np
import pytest

import fast_style_numpy
import samples
from cards import ONNX_ENTRY
from pylens_build.models import CONVERTER, ensure_convert_env, ensure_models, model_cards, original_model
from pylens_build.project import BUILD

STYLES = ("la_muse", "rain_princess", "scream", "udnie", "wave", "wreck")
STYLE_SIZE = (320, 240)  # photos are resized to this (width, height) for the style checks


def style_card(style: str):
    return next(c for c in model_cards() if c.id == "style-" + style.replace("_", "-"))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


@pytest.fixture(scope="session")
def style_inputs() -> dict[str, np.ndarray]:
    """A real photo per style (the two style-transfer test photos in turn), RGB float32 0…255."""
    photos = ("fst_face.jpg", "fst_stata.jpg")
    return {style: np.asarray(samples.photo(photos[i % 2]).convert("RGB").resize(STYLE_SIZE), np.float32)
            for i, style in enumerate(STYLES)}


@pytest.fixture(scope="session")
def tensorflow_outputs(style_inputs, tmp_path_factory) -> dict[str, np.ndarray]:
    """Each style's TensorFlow output on its photo, from the conversion environment (one process)."""
    ensure_models()
    folder = tmp_path_factory.mktemp("tf")
    args = []
    for style, image in style_inputs.items():
        np.save(folder / f"{style}-in.npy", image)
        card = style_card(style)
        args += [str(BUILD / "sources" / card.sources.mirror), str(folder / f"{style}-in.npy"),
                 str(folder / f"{style}-out.npy")]
    subprocess.run([str(ensure_convert_env()), str(CONVERTER), "stylize", *args],
                   check=True, capture_output=True)
    return {style: np.load(folder / f"{style}-out.npy") for style in STYLES}


@pytest.mark.slow
@pytest.mark.parametrize("style", STYLES)
def test_tensorflow_rebuild_matches_numpy_formulas(style, style_inputs, tensorflow_outputs):
    variables = fast_style_numpy.load_variables(BUILD / "sources" / style_card(style).sources.mirror)
    expected = fast_style_numpy.stylize(variables, style_inputs[style])
    got = tensorflow_outputs[style]
    assert got.shape == expected.shape == (*STYLE_SIZE[::-1], 3)
    assert np.abs(got - expected).max() < 0.05  # on the 0…255 scale
    assert got.std() > 20  # a real stylized picture, not a flat one


def test_numpy_transposed_convolution_is_the_gradient_of_convolution():
    """The numpy reference's transposed convolution is the adjoint of its SAME stride-2 convolution:
    <conv(y), x> == <y, conv_transpose(x)> for any x and y."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 3, 4, 5))  # conv: 4 -> 5 channels; its transpose: 5 -> 4, weights [h, w, 4, 5]
    for height, width in ((8, 6), (7, 9)):
        y = rng.normal(size=(2 * height, 2 * width, 4))
        x = rng.normal(size=(height, width, 5))
        lhs = np.sum(fast_style_numpy.conv2d(y, w, 2) * x)
        rhs = np.sum(y * fast_style_numpy.conv2d_transpose(x, w, 2))
        assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))


# A tf.js graph model's output for a float32 batch, both as base64 of little-endian float32.
GRAPH_MODEL_IN_PAGE = """async ([url, b64, shape]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const model = await tf.loadGraphModel(url);
    const out = tf.tidy(() => model.predict(tf.tensor4d(new Float32Array(bytes.buffer), shape)));
    const data = new Uint8Array((await out.data()).buffer);
    const outShape = out.shape;
    out.dispose();
    model.dispose();
    let text = '';
    for (let i = 0; i < data.length; i += 0x8000) text += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return {shape: outShape, b64: btoa(text)};
}"""


def graph_model_output(page, url: str, batch: np.ndarray) -> np.ndarray:
    """A tf.js graph model's output in `page` (plain tf.js) for a float32 batch."""
    out = page.evaluate(GRAPH_MODEL_IN_PAGE, [url, base64.b64encode(batch.astype("<f4").tobytes()).decode(),
                                              list(batch.shape)])
    return np.frombuffer(base64.b64decode(out["b64"]), "<f4").reshape(out["shape"])


@pytest.mark.parametrize("style", STYLES)
def test_converted_style_model_matches_tensorflow(tfjs_page, style, style_inputs, tensorflow_outputs):
    image = style_inputs[style]
    got = graph_model_output(tfjs_page, f"./models/{style_card(style).id}/model.json", image[None])
    assert psnr(got[0, :image.shape[0], :image.shape[1]], tensorflow_outputs[style]) >= 40


# Both face-mask models' outputs on one photo, and the largest absolute difference of each.
FACE_MASK_TWO = """async ([b64, h, w, models]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const input = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(bytes, [h, w, 3], 'int32'), [260, 260])
                                  .div(255).expandDims(0));
    const outputs = [];
    for (const {url, graph} of models) {
        const model = await (graph ? tf.loadGraphModel(url) : tf.loadLayersModel(url));
        outputs.push(graph ? model.execute(input, ['loc_branch_concat_1/concat', 'cls_branch_concat_1/concat'])
                           : model.predict(input));
        model.dispose();
    }
    const [a, b] = outputs;
    const diff = [];
    for (let i = 0; i < 2; i++) {
        const largest = tf.tidy(() => tf.max(tf.abs(tf.sub(a[i], b[i]))));
        diff.push({shape: [a[i].shape, b[i].shape], max: (await largest.data())[0]});
        largest.dispose();
    }
    tf.dispose([input, ...a, ...b]);
    return diff;
}"""
ORIGINAL = {"url": "./original/aizoo-face-mask/model.json", "graph": False}


@pytest.fixture(scope="module")
def face_mask_page(tfjs_page, site_url):
    """tfjs_page, with the face-mask layers model as its authors publish it (float32) at ORIGINAL."""
    ensure_models()
    folder = original_model(next(c for c in model_cards() if c.id == "aizoo-face-mask"))
    tfjs_page.route(site_url + "original/aizoo-face-mask/*",
                    lambda route: route.fulfill(path=folder / route.request.url.rsplit("/", 1)[1]))
    return tfjs_page


def face_mask_differences(page, photo: str, model: dict) -> list[dict]:
    rgb = np.asarray(samples.photo(photo).convert("RGB"))
    diffs = page.evaluate(FACE_MASK_TWO, [base64.b64encode(rgb.tobytes()).decode(), *rgb.shape[:2], [ORIGINAL, model]])
    assert [d["shape"] for d in diffs] == [[[1, 5972, 4]] * 2, [[1, 5972, 2]] * 2]
    return diffs


@pytest.mark.parametrize("photo", samples.PHOTOS)
def test_face_mask_graph_model_matches_the_original_layers_model(face_mask_page, photo):
    graph = {"url": "./models/aizoo-face-mask-graph/model.json", "graph": True}
    diffs = face_mask_differences(face_mask_page, photo, graph)
    assert all(d["max"] <= 1e-4 for d in diffs), diffs


@pytest.mark.parametrize("photo", samples.PHOTOS)
def test_face_mask_float16_weights_give_the_original_s_outputs_within_tolerance(face_mask_page, photo):
    served = {"url": "./models/aizoo-face-mask/model.json", "graph": False}
    offsets, scores = face_mask_differences(face_mask_page, photo, served)
    # Box offsets are in units of the variances (0.1 of the anchor's size for its centre): 0.05 moves
    # a box by at most 0.5 % of its anchor. Scores within 0.01, half the reference results' tolerance.
    assert offsets["max"] <= 0.05 and scores["max"] <= 0.01, (offsets, scores)


# ---- the ONNX models, run by onnxruntime in CPython against TensorFlow in the conversion environment

def onnx_outputs(card, image: np.ndarray) -> list[np.ndarray]:
    import onnxruntime  # noqa: PLC0415 — the tests' environment has it; the page has onnxruntime-web

    session = onnxruntime.InferenceSession(str(BUILD / "models" / card.id / ONNX_ENTRY),
                                           providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: image})


@pytest.mark.slow
@pytest.mark.parametrize("style", STYLES)
def test_onnx_style_model_matches_tensorflow(style, style_inputs, tensorflow_outputs):
    card = style_card(style)
    assert card.engines == ("tfjs", "onnx")
    (got,) = onnx_outputs(card, style_inputs[style][None])
    assert psnr(got[0], tensorflow_outputs[style]) >= 60


@pytest.fixture(scope="module")
def face_mask_tensorflow_outputs(tmp_path_factory) -> dict[tuple[str, str], list[np.ndarray]]:
    """Each face-mask model's outputs in TensorFlow on each test photo, 260×260 /255: the frozen graph,
    and the layers model's float32 source in Keras. By (card id, photo): [input, outputs…]."""
    ensure_models()
    folder = tmp_path_factory.mktemp("face-mask")
    outputs = {}
    for card in (c for c in model_cards() if c.id in FACE_MASK_ONNX):
        sources = BUILD / "sources" / card.sources.mirror
        if card.conversion.kind == "tf-frozen-graph":
            run = ["graph", str(sources / card.conversion.graph), card.conversion.inputs[0],
                   ",".join(card.conversion.outputs)]
        else:
            run = ["layers", str(original_model(card) / card.conversion.model)]
        for photo in samples.PHOTOS:
            image = np.asarray(samples.photo(photo).convert("RGB").resize((260, 260)), np.float32)[None] / 255
            np.save(folder / "in.npy", image)
            subprocess.run([str(ensure_convert_env()), str(CONVERTER), *run, str(folder / "in.npy"),
                            str(folder / "out.npz")], check=True, capture_output=True)
            with np.load(folder / "out.npz") as found:
                outputs[card.id, photo] = [image, found["arr_0"], found["arr_1"]]
    return outputs


FACE_MASK_ONNX = ("aizoo-face-mask", "aizoo-face-mask-graph")


@pytest.mark.slow
@pytest.mark.parametrize("card_id", FACE_MASK_ONNX)
@pytest.mark.parametrize("photo", samples.PHOTOS)
def test_onnx_face_mask_model_matches_tensorflow(card_id, photo, face_mask_tensorflow_outputs):
    card = next(c for c in model_cards() if c.id == card_id)
    assert card.engines == ("tfjs", "onnx")
    image, *wanted = face_mask_tensorflow_outputs[card_id, photo]
    got = onnx_outputs(card, image)
    assert [a.shape for a in got] == [(1, 5972, 4), (1, 5972, 2)]
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(got, wanted, strict=True)) <= 1e-4


# ---- the segmenters' ONNX models, run by onnxruntime in CPython against their tf.js graph models in tf.js


@pytest.mark.parametrize("card_id", ["selfie", "meet"])
@pytest.mark.parametrize("photo", samples.PHOTOS)
def test_onnx_segmenter_model_matches_tfjs(tfjs_page, card_id, photo):
    from masks import input_batch  # noqa: PLC0415

    card = next(c for c in model_cards() if c.id == card_id)
    assert card.engines == ("tfjs", "onnx")
    batch = input_batch(np.asarray(samples.photo(photo).convert("RGB")), card)
    (got,) = onnx_outputs(card, batch)
    wanted = graph_model_output(tfjs_page, f"./models/{card.id}/{card.entry}", batch)
    assert got.shape == wanted.shape
    assert float(np.abs(got - wanted).max()) <= 0.01  # probabilities (selfie), or scores before softmax (meet)
