"""The names that the page and its tools (build.py's commands, the bench, the tests) share, defined
once: the headless API's methods, the performance marks of start-up, and the stages of a frame.

Pure Python: the page imports it, and so do tools/pylens_build and tests/ under CPython. The marks
that the page's shell (site/shell/) and site/start.mjs set are spelt there too; tests/test_build.py
checks each appears there as it does here. The messages between the shell and Python are defined
here, their kinds and fields; tests/test_protocol.py checks both sides send and take just these.
"""

# ---- the backends that run the networks, as the Backend menu, `?backend=` and `--backend` name them
# (site/start.mjs spells them too): tf.js's, in the order the automatic choice tries them, then
# ONNX Runtime Web's, which it takes once timed here
BACKEND_NAMES = {"webgpu": "WebGPU", "webgl": "WebGL", "wasm": "WebAssembly", "cpu": "CPU",
                 "ort-webgpu": "ONNX Runtime WebGPU", "ort-wasm": "ONNX Runtime WebAssembly"}
BACKENDS = tuple(BACKEND_NAMES)
ONNX_BACKENDS = ("ort-webgpu", "ort-wasm")
ENGINE_NAMES = {"tfjs": "TensorFlow.js", "onnx": "ONNX Runtime Web"}  # as model cards name them
# The headless commands' backends that run in CPython on onnxruntime, with no browser
# (tools/pylens_build/cpython/engine.py gives each its execution providers)
CPYTHON_BACKENDS = ("ort-cpu", "ort-cuda")
# The segmenter card that a person mask comes from until one is chosen (the page's menu, build.py stylize)
DEFAULT_SEGMENTER = "selfie"

# ---- window.pylens: what the headless commands and the tests call (py/api.py answers each)
DETECT_IMAGE = "detectImage"  # (image bytes, name) -> the result as JSON
SEGMENT_IMAGE = "segmentImage"  # (image bytes, name, segmenter) -> {"png": base64 of the mask} as JSON
STYLIZE_IMAGE = "stylizeImage"  # (image bytes, name, style, mask, max side) -> {"png": …} as JSON
START_WEBCAM = "startWebcam"  # () -> whether frames come
STOP_WEBCAM = "stopWebcam"
SHOW_VIEW = "showView"  # (a view's name)
BENCH_FACE_MASK = "benchFaceMask"  # (frames) -> figures as JSON
BENCH_SEGMENT_STYLE = "benchSegmentStyle"  # (frames) -> figures as JSON
BENCH_MODELS = "benchModels"  # (backends, frames) -> each model's time on each backend, as JSON
SOAK = "soak"  # (frames) -> tensors before and after, as JSON
BATCH_RESULTS = "batchResults"  # () -> the Batch view's results, in the order given, as JSON
PYTHON_MODULES = "pythonModules"  # () -> the modules Python has imported, as JSON (build.py measure-imports)
API_METHODS = (DETECT_IMAGE, SEGMENT_IMAGE, STYLIZE_IMAGE, START_WEBCAM, STOP_WEBCAM, SHOW_VIEW,
               BENCH_FACE_MASK, BENCH_SEGMENT_STYLE, BENCH_MODELS, SOAK, BATCH_RESULTS, PYTHON_MODULES)
# The shell (site/shell/api.mjs) answers these itself: `stats()` the app's state as JSON (what the app
# published last), `ready` and `error` its start.

# ---- performance marks, in the order start-up sets them (phases overlap: see the bench)
PYSCRIPT_LOADING_PYODIDE = "pyscript: Loading Pyodide"  # site/shell/boot.mjs, from PyScript's progress
PYSCRIPT_LOADING_FILES = "pyscript: Loading files"
PYSCRIPT_LOADED_PYODIDE = "pyscript: Loaded Pyodide"
START_TFJS = "start: tf.js"  # site/start.mjs, while Pyodide starts
START_BACKEND_READY = "start: backend ready"
START_DETECTOR_DOWNLOAD = "start: detector download"
START_DETECTOR_DOWNLOADED = "start: detector downloaded"
APP_STARTED = "pylens: app started"  # py/main.py
BACKEND_READY = "pylens: backend ready"
MODEL_READY = "pylens: model ready"
READY = "pylens: ready"  # site/shell/boot.mjs: the app takes pictures and calls
PICTURE_SHOWN = "pylens: picture shown"  # site/shell/stage.mjs: the first picture on screen
FIRST_RESULT = "pylens: first result"  # site/shell/stage.mjs: the first result drawn
MARKS_IN_JS = {
    "site/shell/boot.mjs": (READY,),
    "site/shell/stage.mjs": (PICTURE_SHOWN, FIRST_RESULT),
    "site/start.mjs": (START_TFJS, START_BACKEND_READY, START_DETECTOR_DOWNLOAD, START_DETECTOR_DOWNLOADED),
}

# ---- messages across the thread line, over one MessagePort (site/shell.js <-> py/shell.py): each
# kind and its fields. tests/test_protocol.py checks both sides send and take exactly these.
TO_PYTHON = {
    "image": ("file", "name"),  # a File from the picker, a drop or a paste
    "batch": ("files",),  # several files, or a folder's images: [{file, name, error?}]
    "empty-folder": (),
    "nothing-dropped": (),
    "nothing-pasted": (),
    "demo": ("file", "bitmap", "error"),  # a demo photo decoded by the browser, or why it could not be
    "view": ("name",),  # a view chosen while Python started
    # the camera or a video file in the page: opening, on, off, or error (the error's name or the
    # file's, and the browser's message)
    "feed": ("source", "state", "name", "message"),
    "frame": ("bitmap",),  # the newest frame, as asked for (null: none came)
    "call": ("id", "method", "args"),  # a window.pylens call
    "code-open": (),  # the code panel opened: send the app's modules
    # a module's new text, from the code panel or (saved: true) a kept edit applied as the app is ready
    "code-edit": ("path", "source", "saved"),
    "code-diff": ("edits",),  # the kept edits, [{path, base, text}], to download as one unified diff
    "code-share": ("edits",),  # the kept edits, to give as a link's fragment
    "code-link": ("fragment",),  # the page opened with edits in its address's fragment (without '#')
}
TO_SHELL = {
    "present": ("picture", "overlay", "caption"),  # ImageBitmaps to show together, and the caption
    "blank": ("text",),  # no picture: the placeholder's text (null: the page's own)
    "stats": ("json",),  # the app's state, which window.pylens.stats() answers
    "reply": ("id", "value", "error"),  # a window.pylens call's answer
    "ready": ("methods",),  # the app takes pictures and calls: window.pylens's methods
    "failed": ("error", "shown"),  # the app cannot start (shown: false when the page must say it)
    "open-camera": (),  # as the Start webcam button does
    "stop-feed": (),  # stop whatever gives frames (the camera, or a video file), or its opening
    "next-frame": (),  # send the newest frame
    "code-sources": ("sources",),  # the app's modules as it runs them: {path under py/: text}
    # how a module's text was taken: the modules reloaded (null: refused), else why, at which line
    "code-taken": ("path", "reloaded", "error", "line", "trace"),
    "code-shared": ("fragment", "error"),  # the kept edits as a link's fragment, or why they cannot be
    "code-linked": ("edits",),  # a link's edits, confirmed and applied: to keep, [{path, base, text}]
}

# ---- the stages of a frame: key in a result's `timings_ms` -> the name the timings table shows
STAGE_NAMES = {
    "image_decode": "Image decode",
    "capture": "Capture",
    "preprocess": "Preprocess",
    "inference": "Inference",
    "readback": "Readback",
    "box_decode": "Box decode",
    "nms": "NMS",
    "segmentation": "Segmentation",
    "style_transfer": "Style transfer",
    "blend": "Blend",
    "draw": "Draw",
}
