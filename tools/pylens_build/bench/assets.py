"""What the bench runs on: its photo and detector, the fake camera, and its own pages and scripts."""

from pathlib import Path

from ..project import BUILD

HERE = Path(__file__).parent
LONG_TASKS = HERE / "long-tasks.js"  # an init script that records the page's long tasks
RUNTIME_FLOOR_PAGE = HERE / "runtime-floor.html"
PLAIN_JS_PAGE = HERE / "plain-js.html"
FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
BENCH_IMAGE = BUILD / "demos" / "aizoo_demo.jpg"
BENCH_DETECTOR = "aizoo-face-mask"
