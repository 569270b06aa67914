"""Images per second through `build.py detect`'s pool of pages, for one page and for two."""

from __future__ import annotations

import itertools
import time

from ..batch import DetectPool
from ..project import BUILD, SetupError

JOBS = (1, 2)


def batch_throughput(url: str, backend: str, images: int) -> dict:
    """The demo photos, taken in turn until there are `images`, detected by 1 and by 2 pages; timed
    from the first image given to the last result, the pages already started."""
    demos = sorted((BUILD / "demos").glob("*.jpg"))
    paths = list(itertools.islice(itertools.cycle(demos), images))
    per_second = {}
    for jobs in JOBS:
        with DetectPool(url, backend, jobs) as pool:
            start = time.perf_counter()
            lines = list(pool.detect(paths))
            per_second[str(jobs)] = len(paths) / (time.perf_counter() - start)
        failed = [line for line in lines if "error" in line]
        if failed:
            raise SetupError(f"the batch bench could not detect {failed[0]['image']}: {failed[0]['error']}")
    return {"images": len(paths), "images_per_s": per_second}
