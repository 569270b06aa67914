"""The clock that the stage times of a frame, and every other time the app shows, are read from."""

import time


def now_ms() -> float:
    return time.perf_counter() * 1000.0
