"""The real page in headless Chromium, driven through its headless API (`window.pylens`)."""

from __future__ import annotations

import atexit
import base64
import json
import os
import threading
import time

import names

from .project import SetupError
from .runtimes import find_chromium
from .site_runtime import RECORD_IMPORTS

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# What a backend needs of headless Chromium: WebGPU gives no adapter without this flag on Linux.
BACKEND_FLAGS = {"webgpu": ("--enable-unsafe-webgpu",), "ort-webgpu": ("--enable-unsafe-webgpu",)}
# The runtime each of ONNX Runtime Web's backends loads, under the site's vendor/ort/
ONNX_RUNTIMES = {"ort-wasm": "ort-wasm-simd-threaded.wasm", "ort-webgpu": "ort-wasm-simd-threaded.asyncify.wasm"}
# WebGL and WebGPU rendered in software by SwiftShader whatever GPU the machine has: for what must
# hold of a software GPU (the automatic choice passing over it) on a machine with a real one too.
SOFTWARE_GPU_FLAGS = ("--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--use-webgpu-adapter=swiftshader")


def launch_chromium(extra_args: tuple[str, ...] = ()):
    """A headless Chromium with the project's flags, from the process's Playwright driver."""
    return playwright().chromium.launch(executable_path=find_chromium(), headless=True,
                                        args=[*CHROMIUM_FLAGS, *extra_args])


_drivers = threading.local()


def playwright():
    """This thread's Playwright driver (its sync API drives pages from the thread that started it);
    the main thread's is stopped at exit, another thread's by `stop_playwright`."""
    driver = getattr(_drivers, "driver", None)
    if driver is None:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 — installed by ensure_dev_env

        driver = _drivers.driver = sync_playwright().start()
        if threading.current_thread() is threading.main_thread():
            atexit.register(driver.stop)
    return driver


def stop_playwright() -> None:
    """Stop this thread's Playwright driver, if it started one: for a thread about to end."""
    driver = getattr(_drivers, "driver", None)
    if driver is not None:
        _drivers.driver = None
        driver.stop()


def wait_until(page, expression: str, timeout_ms: float = 60_000) -> None:
    """Poll a JS expression (or promise) until it is truthy, across navigations. Unlike page.wait_for_function,
    this works under the page's Content Security Policy, which forbids evaluating strings."""
    from playwright.sync_api import Error  # noqa: PLC0415

    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            if page.evaluate(f"async () => Boolean(await ({expression}))"):
                return
        except Error as exc:  # the page is navigating: ask the new one
            if "context was destroyed" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_ms / 1000:.0f} s for {expression}")
        page.wait_for_timeout(50)


class HeadlessApp:
    """The real page, in headless Chromium, under its own Content Security Policy, driven through the
    API the Python app offers on `window.pylens`.

    Chromium gets the flags the backend asked for needs (backend_flags=False: to see how the page
    copes without). With fail_on_error, a page that did not start, or not on that backend, is a
    SetupError saying why."""

    READY_TIMEOUT_MS = 180_000

    def __init__(self, base_url: str, backend: str | None = None, chromium_args: tuple[str, ...] = (),
                 permissions: tuple[str, ...] = (), fail_on_error: bool = True, init_script: str | None = None,
                 prepare=None, block_service_workers: bool = False, backend_flags: bool = True):
        self.browser = launch_chromium((*BACKEND_FLAGS.get(backend, ()), *chromium_args) if backend_flags
                                       else chromium_args)
        # The page's own Content Security Policy stays in force: what the tests and the bench run in
        # the page goes through Playwright (evaluate, init scripts), which the policy does not govern.
        self.context = self.browser.new_context(permissions=list(permissions), accept_downloads=True,
                                                service_workers="block" if block_service_workers else "allow")
        if init_script:
            self.context.add_init_script(init_script)
        if prepare:  # e.g. to watch or route requests, before the page loads
            prepare(self.context)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda msg: self.console.append(msg.text))
        self.page.on("pageerror", lambda exc: self.console.append(str(exc)))
        self.url = base_url + (f"?backend={backend}" if backend else "")
        try:
            self.visit()
        except Exception:
            self.close()  # a page that never became ready must not leave its browser running
            raise
        self.error = self.page.evaluate("window.pylens.error || null")
        if self.error and fail_on_error:
            self.close()
            raise SetupError(f"the app did not start: {self.error}")
        if backend and fail_on_error and self.running_backend() != backend:
            note = self.page.locator("#error-text").text_content()
            self.close()
            raise SetupError(f"the {backend} backend cannot run in this browser: {note}")

    def visit(self) -> None:
        """Navigate to the app and wait until it is ready (or has said why it cannot start)."""
        self.page.goto(self.url)
        self.wait_until("window.pylens && (window.pylens.ready || window.pylens.error)", self.READY_TIMEOUT_MS)

    def wait_until(self, expression: str, timeout_ms: float = 60_000) -> None:
        """Poll a JS expression (or promise) in the page until it is truthy: see `wait_until`."""
        wait_until(self.page, expression, timeout_ms)

    def call(self, method: str, *args):
        """window.pylens[method](*args), awaited: its answer (names.py lists the methods)."""
        return self.page.evaluate("([method, args]) => window.pylens[method](...args)", [method, list(args)])

    def on_image(self, method: str, data: bytes, name: str, *args) -> dict:
        """Call window.pylens[method](image bytes, name, *args); its JSON answer, or {'error': ...}."""
        return json.loads(self.page.evaluate(
            """async ([method, b64, name, args]) => {
                const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                return await window.pylens[method](bytes, name, ...args);
            }""",
            [method, base64.b64encode(data).decode(), name, list(args)]))

    def detect(self, data: bytes, name: str) -> dict:
        """Run the page's face-mask pipeline on image bytes; returns the result or {'error': ...}."""
        return self.on_image(names.DETECT_IMAGE, data, name)

    def stats(self) -> dict:
        return json.loads(self.page.evaluate("window.pylens.stats()"))

    def tf_backend(self) -> str:
        """The backend tf.js itself says it runs, asked where the app's Python runs (its worker, or the
        page when that is not cross-origin isolated), not the app's own report of it."""
        for realm in (self.page, *self.page.workers):  # Python's worker first among them
            backend = realm.evaluate("async () => globalThis.pylensStart ? "
                                     "(await globalThis.pylensStart.tfjs).tf.getBackend() : null")
            if backend:
                return backend
        raise SetupError("no realm of the page runs the app's tf.js")

    def running_backend(self) -> str:
        """The backend that runs the networks, as the engines show it: tf.js's, unless ONNX Runtime
        Web's runtime was loaded for the backend the app reports (tf.js then on wasm or cpu)."""
        backend, reported = self.tf_backend(), self.stats()["backend"]
        if reported in ONNX_RUNTIMES and backend in ("wasm", "cpu"):
            for realm in (self.page, *self.page.workers):
                if realm.evaluate("(file) => performance.getEntriesByType('resource')"
                                  ".some((entry) => entry.name.endsWith('/vendor/ort/' + file))",
                                  ONNX_RUNTIMES[reported]):
                    return reported
        return backend

    def close(self) -> None:
        record_imports(self.page)
        self.browser.close()

    def __enter__(self) -> HeadlessApp:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def record_imports(page) -> None:
    """With RECORD_IMPORTS set, the modules the page's Python has imported, added to that file as a
    JSON line, as the page closes."""
    into = os.environ.get(RECORD_IMPORTS)
    if not into or page.is_closed():
        return
    from playwright.sync_api import Error  # noqa: PLC0415

    try:
        if not page.evaluate(f"Boolean(window.pylens?.ready && window.pylens.{names.PYTHON_MODULES})"):
            return
        modules = page.evaluate(f"window.pylens.{names.PYTHON_MODULES}()")
    except Error:  # the page went away: what it imported is not known
        return
    with open(into, "a") as file:
        file.write(modules + "\n")


def run_script(page, path) -> None:
    """A script file run in the page's global scope through Playwright, which the page's policy (no
    inline scripts) does not govern, as a <script> tag with the file's text would run it."""
    page.evaluate(f"{path.read_text()}\n;undefined")  # undefined: the script's last value is not sent back


def give_file(page, event: str, data: bytes, name: str, mime: str, target: str = "#stage") -> None:
    """Drop on `target`, or paste into the page, a File made of `data`, as a browser delivers one."""
    page.evaluate(
        """([event, b64, name, type, target]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type}));
            if (event === 'drop') {
                const at = document.querySelector(target);
                for (const kind of ['dragover', 'drop'])
                    at.dispatchEvent(new DragEvent(kind, {dataTransfer: transfer, bubbles: true, cancelable: true}));
            } else {
                document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true}));
            }
        }""",
        [event, base64.b64encode(data).decode(), name, mime, target])
