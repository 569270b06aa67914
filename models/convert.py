"""Model conversion with the tensorflowjs converter and tf2onnx. Runs in the conversion environment
(TensorFlow, tensorflowjs and tf2onnx, pinned in models/convert-requirements.txt), which
`build.py models` sets up and calls; the app and its tests never import this module.

    python models/convert.py build JOBS.json            run the conversions listed in JOBS.json
    python models/convert.py stylize SOURCES IN OUT [SOURCES IN OUT ...]
                                                        run fast-style checkpoints in TensorFlow:
                                                        IN and OUT are .npy, [height, width, 3] float32
    python models/convert.py graph GRAPH INPUT OUTPUTS IN OUT
                                                        run a frozen graph in TensorFlow: IN is .npy,
                                                        OUT an .npz of the OUTPUTS (comma-separated),
                                                        in their order (arr_0, arr_1, …)
    python models/convert.py layers MODEL IN OUT        run a tf.js layers model (MODEL: its
                                                        model.json) in Keras: IN and OUT as for graph

`build` turns a TensorFlow frozen graph, or a fast-style-transfer checkpoint rebuilt here as a
TensorFlow graph, into a tf.js graph model (model.json and weight shards), stores a tf.js
layers model's weights anew (quantized), or copies a tf.js graph model as published. Each job is
a card's [convert] section ("from", "graph", "model", "inputs", "outputs", "quantize", "onnx")
with the folder of its verified sources ("sources") and the folder to write ("out"); a fast-style
job may also name a JPEG ("thumbnail") to stylize into the style's picker thumbnail, thumbnail.png.
With "onnx", the same TensorFlow graph (or, for a layers model, the Keras model its source files
describe) is also written as an ONNX model, model.onnx, with the same inputs and outputs and
float32 weights; a tf.js graph model goes to ONNX through tf2onnx's own tf.js reader.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import onnx

np.product = np.prod  # tf2onnx 1.17's tf.js reader still calls np.product, which numpy 2 removed
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2  # noqa: E402
from tensorflowjs.converters import converter as tfjs_converter  # noqa: E402
from tensorflowjs.converters import keras_tfjs_loader  # noqa: E402
from tensorflowjs.converters import tf_saved_model_conversion_v2 as tfjs_convert  # noqa: E402

INSTANCE_NORM_EPSILON = 1e-3
ONNX_OPSET = 17  # what onnxruntime-web's WebAssembly and WebGPU backends run
THUMBNAIL_SIDE = 96
RESIDUAL_BLOCKS = (9, 15, 21, 27, 33)


# ---------------------------------------------------------------- fast style transfer

def load_checkpoint(folder: Path) -> list[np.ndarray]:
    """The variables of a fast-style checkpoint, by index k (`Variable` is 0, then `Variable_k`)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    variables = []
    for k in range(len(manifest)):
        name = "Variable" if k == 0 else f"Variable_{k}"
        if name not in manifest:
            raise ValueError(f"{folder}/manifest.json: no entry for {name}")
        entry = manifest[name]
        data = np.fromfile(folder / entry["filename"], dtype="<f4")
        if data.size != np.prod(entry["shape"]):
            raise ValueError(f"{folder}/{entry['filename']}: {data.size} numbers, "
                             f"but the manifest gives the shape {entry['shape']}")
        variables.append(data.reshape(entry["shape"]))
    return variables


def subpixel_kernel(weights: np.ndarray) -> np.ndarray:
    """A 3×3 stride-2 SAME transposed convolution as a 2×2 convolution to 4 phases.

    `weights` are the transposed convolution's [3, 3, out, in]. Output row 2m takes input rows
    m-1 and m with kernel rows 2 and 0; output row 2m+1 takes input row m with kernel row 1
    (columns likewise). The result is [2, 2, in, 4·out] for a VALID convolution of the input
    padded by one row and column at the top and left, followed by depth_to_space(2), whose
    channel (2·row_phase + column_phase)·out + c is output channel c at that phase.
    """
    if weights.shape[:2] != (3, 3):
        raise ValueError(f"expected a 3×3 transposed convolution, got {weights.shape}")
    taps = {0: ((0, 2), (1, 0)), 1: ((1, 1),)}  # phase -> (tap, kernel index) pairs
    w = weights.transpose(0, 1, 3, 2)  # [3, 3, in, out]
    n_in, n_out = w.shape[2], w.shape[3]
    kernel = np.zeros((2, 2, n_in, 4 * n_out), np.float32)
    for row_phase in (0, 1):
        for col_phase in (0, 1):
            phase = 2 * row_phase + col_phase
            for a, ky in taps[row_phase]:
                for b, kx in taps[col_phase]:
                    kernel[a, b, :, phase * n_out:(phase + 1) * n_out] = w[ky, kx]
    return kernel


def transform_net(variables: list[np.ndarray]):
    """The transform network of lengstrom/fast-style-transfer as a tf.function on [1, H, W, 3] RGB 0…255."""
    v = [tf.constant(x) for x in variables]
    upsample = {k: tf.constant(subpixel_kernel(variables[k])) for k in (39, 42)}

    def instance_norm(x, k, relu):
        mean, var = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        y = v[k + 2] * (x - mean) / tf.sqrt(var + INSTANCE_NORM_EPSILON) + v[k + 1]
        return tf.nn.relu(y) if relu else y

    def conv(x, k, stride, relu=True):
        return instance_norm(tf.nn.conv2d(x, v[k], stride, "SAME"), k, relu)

    def conv_transpose(x, k):
        padded = tf.pad(x, [[0, 0], [1, 0], [1, 0], [0, 0]])
        phases = tf.nn.conv2d(padded, upsample[k], 1, "VALID")
        return instance_norm(tf.nn.depth_to_space(phases, 2), k, relu=True)

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="image")])
    def net(image):
        x = conv(image, 0, 1)
        x = conv(x, 3, 2)
        x = conv(x, 6, 2)
        for k in RESIDUAL_BLOCKS:
            x = x + conv(conv(x, k, 1), k + 3, 1, relu=False)
        x = conv_transpose(x, 39)
        x = conv_transpose(x, 42)
        y = conv(x, 45, 1, relu=False)
        return tf.clip_by_value(tf.tanh(y) * 150.0 + 127.5, 0.0, 255.0, name="stylized")

    return net


def frozen_style_graph(sources: Path, dest: Path) -> tuple[str, str]:
    """Write the fast-style network with its weights folded in as a frozen GraphDef; returns its
    input and output nodes."""
    concrete = transform_net(load_checkpoint(sources)).get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete)
    dest.write_bytes(frozen.graph.as_graph_def().SerializeToString(deterministic=True))
    return frozen.inputs[0].name.split(":")[0], frozen.outputs[0].name.split(":")[0]


def read_graph(graph: Path):
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph.read_bytes())
    return graph_def


def save_onnx(model: onnx.ModelProto, dest: Path) -> None:
    """An ONNX model written with its subnormal float32 weights made 0: folding batch norms into
    convolutions leaves some (27 in the face-mask detector's first one), a CPU multiplies by them
    many times slower (the face-mask detector ran 7× slower in onnxruntime), and they change no output."""
    for tensor in model.graph.initializer:
        if tensor.data_type == onnx.TensorProto.FLOAT:
            values = onnx.numpy_helper.to_array(tensor)
            subnormal = (values != 0) & (np.abs(values) < np.finfo(np.float32).tiny)
            if subnormal.any():
                tensor.CopyFrom(onnx.numpy_helper.from_array(np.where(subnormal, np.float32(0), values), tensor.name))
    dest.write_bytes(model.SerializeToString(deterministic=True))


def write_onnx(graph: Path, inputs: list[str], outputs: list[str], dest: Path) -> None:
    """A frozen graph as an ONNX model (tf2onnx), its inputs and outputs in the same order."""
    model, _ = tf2onnx.convert.from_graph_def(read_graph(graph), input_names=[f"{name}:0" for name in inputs],
                                              output_names=[f"{name}:0" for name in outputs], opset=ONNX_OPSET)
    save_onnx(model, dest)


def write_layers_onnx(model_json: Path, dest: Path) -> None:
    """A tf.js layers model (its float32 source) as an ONNX model, through Keras, its outputs in the
    model's order."""
    model = keras_tfjs_loader.load_keras_model(str(model_json))
    spec = [tf.TensorSpec(tensor.shape, tf.float32, name=tensor.name.split(":")[0]) for tensor in model.inputs]
    onnx_model, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=ONNX_OPSET)
    save_onnx(onnx_model, dest)


def write_tfjs_graph_onnx(model_json: Path, dest: Path) -> None:
    """A tf.js graph model as an ONNX model, read by tf2onnx's tf.js reader (what its command line's
    --tfjs runs; tf2onnx.convert.from_tflite takes the same road for TFLite files)."""
    onnx_model, _ = tf2onnx.convert._convert_common(None, name=str(model_json), tfjs_path=str(model_json),
                                                    opset=ONNX_OPSET)
    save_onnx(onnx_model, dest)


def copy_tfjs_model(sources: Path, model_json: str, out: Path) -> None:
    """A tf.js model's JSON file and the weight files it names, as published."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sources / model_json, out / model_json)
    for group in json.loads((sources / model_json).read_text())["weightsManifest"]:
        for path in group["paths"]:
            shutil.copyfile(sources / path, out / path)


def run_layers(model_json: Path, image: np.ndarray) -> list[np.ndarray]:
    """A tf.js layers model's outputs in Keras (float32, as its source files hold it), in its order."""
    model = keras_tfjs_loader.load_keras_model(str(model_json))
    return [output.numpy() for output in model(tf.constant(image), training=False)]


def run_graph(graph: Path, input_name: str, output_names: list[str], image: np.ndarray) -> list[np.ndarray]:
    """A frozen graph's outputs in TensorFlow, in the order named."""
    with tf.Graph().as_default() as loaded:
        tf.import_graph_def(read_graph(graph), name="")
        with tf.compat.v1.Session(graph=loaded) as session:
            return session.run([f"{name}:0" for name in output_names], {f"{input_name}:0": image})


# ---------------------------------------------------------------- conversion

def convert(job: dict) -> None:
    sources, out = Path(job["sources"]), Path(job["out"])
    quantization = {job["quantize"]: "*"} if job["quantize"] else None
    if job["from"] == "tfjs-graph-model":
        copy_tfjs_model(sources, job["model"], out)
        if job["onnx"]:
            write_tfjs_graph_onnx(sources / job["model"], out / "model.onnx")
        return
    if job["from"] == "tfjs-layers-model":
        tfjs_converter.dispatch_tensorflowjs_to_tensorflowjs_conversion(
            str(sources / job["model"]), str(out), quantization_dtype_map=quantization)
        if job["onnx"]:
            write_layers_onnx(sources / job["model"], out / "model.onnx")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            if job["from"] == "tf-frozen-graph":
                graph, inputs, outputs = sources / job["graph"], list(job["inputs"]), list(job["outputs"])
            elif job["from"] == "fast-style-checkpoint":
                graph = Path(tmp, "fast_style.pb")
                input_name, output_name = frozen_style_graph(sources, graph)
                inputs, outputs = [input_name], [output_name]
            else:
                raise ValueError(f"unknown conversion: {job['from']}")
            tfjs_convert.convert_tf_frozen_model(str(graph), ",".join(outputs), str(out),
                                                 quantization_dtype_map=quantization)
            if job["onnx"]:
                write_onnx(graph, inputs, outputs, out / "model.onnx")
    if job.get("thumbnail"):
        write_thumbnail(sources, Path(job["thumbnail"]), out / "thumbnail.png")
    # The converter writes protobuf maps in no fixed order; sorted keys make the same inputs the same bytes.
    manifest = out / "model.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()), sort_keys=True, separators=(",", ":")))


def write_thumbnail(sources: Path, photo: Path, dest: Path) -> None:
    """The photo's central square, stylized at THUMBNAIL_SIDE pixels, as a PNG."""
    image = tf.io.decode_jpeg(photo.read_bytes(), channels=3)
    side = min(image.shape[0], image.shape[1])
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    square = tf.image.resize(image[top:top + side, left:left + side], [THUMBNAIL_SIDE] * 2, antialias=True)
    styled = stylize(sources, square.numpy())
    dest.write_bytes(tf.io.encode_png(tf.cast(tf.round(styled), tf.uint8)).numpy())


def stylize(sources: Path, image: np.ndarray) -> np.ndarray:
    """The TensorFlow output of a fast-style checkpoint on one [H, W, 3] image, RGB 0…255."""
    net = transform_net(load_checkpoint(sources))
    return net(tf.constant(image[None].astype(np.float32)))[0].numpy()


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "build":
        for job in json.loads(Path(argv[1]).read_text()):
            convert(job)
    elif len(argv) == 6 and argv[0] == "graph":
        graph, input_name, output_names, image, out = argv[1:]
        np.savez(out, *run_graph(Path(graph), input_name, output_names.split(","), np.load(image)))
    elif len(argv) == 4 and argv[0] == "layers":
        model_json, image, out = argv[1:]
        np.savez(out, *run_layers(Path(model_json), np.load(image)))
    elif len(argv) >= 4 and len(argv) % 3 == 1 and argv[0] == "stylize":
        for sources, image, out in zip(argv[1::3], argv[2::3], argv[3::3], strict=True):
            np.save(out, stylize(Path(sources), np.load(image)))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
