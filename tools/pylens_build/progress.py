"""A headless run's progress on stderr: tqdm's bar (done / total, img/s, time left) on a terminal;
elsewhere (a log, CI) the same figures as a line now and then."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

QUIET_EVERY_S = 10.0


class Progress:
    def __init__(self, total: int, done: int = 0) -> None:
        self.total, self.done, self.start = total, done, time.monotonic()
        self._first = done
        self._bar = tqdm(total=total, initial=done, unit="img", file=sys.stderr, dynamic_ncols=True,
                         smoothing=0.1) if sys.stderr.isatty() else None
        self._said = self.start

    def advance(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        elif time.monotonic() - self._said >= QUIET_EVERY_S:
            self._say()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        else:
            self._say()

    def _say(self) -> None:
        self._said = time.monotonic()
        # tqdm's own figures, the rate of this run's images alone (not those a resume skipped)
        line = tqdm.format_meter(self.done, self.total, self._said - self.start, unit="img", initial=self._first,
                                 ascii=True)
        print(line, file=sys.stderr, flush=True)
