"""Many images through the page: pages of the app in parallel, each in its own headless Chromium,
with the results given back in input order."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path

from .headless import HeadlessApp, stop_playwright


def detect_file(app: HeadlessApp, path: Path, backend: str) -> dict:
    """The line `build.py detect` prints for one image: its result, or why it has none."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return {"image": str(path), "error": f"{path} cannot be read: {exc.strerror}."}
    return {"image": str(path), "backend": backend, **app.detect(data, path.name)}


class DetectPool:
    """`jobs` pages of the app detecting in parallel, each in its own Chromium, driven from its own
    thread (Playwright's sync API drives pages from the thread that started it). Raises the first
    page's start-up error."""

    def __init__(self, url: str, backend: str | None, jobs: int) -> None:
        self._tasks: queue.Queue = queue.Queue()
        started = [Future() for _ in range(jobs)]
        self._threads = [threading.Thread(target=self._work, args=(url, backend, ready), daemon=True)
                         for ready in started]
        for thread in self._threads:
            thread.start()
        try:
            self.backends = [ready.result() for ready in started]
        except BaseException:
            self.close()
            raise

    def _work(self, url: str, backend: str | None, started: Future) -> None:
        try:
            try:
                app = HeadlessApp(url, backend)
                started.set_result(app.stats()["backend"])
            except BaseException as exc:  # noqa: BLE001 — handed to the thread that made the pool
                started.set_exception(exc)
                return
            with app:
                while (task := self._tasks.get()) is not None:
                    path, result = task
                    try:
                        result.set_result(detect_file(app, path, started.result()))
                    except BaseException as exc:  # noqa: BLE001 — as above
                        result.set_exception(exc)
        finally:
            stop_playwright()

    def detect(self, paths: Iterable[Path]) -> Iterator[dict]:
        """Each image's line, in the order of `paths`, as soon as it and those before it are done."""
        results = []
        for path in paths:
            results.append(Future())
            self._tasks.put((path, results[-1]))
        for result in results:
            yield result.result()

    def close(self) -> None:
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> DetectPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
