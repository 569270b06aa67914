"""A headless face-mask run over many inputs in CPython: in this process (`jobs` 1), or sharded over
Ray Data workers on this machine or a cluster, each worker one stateful pipeline (its onnxruntime
session built once). The driver alone writes rows, keyed by input, so a task that Ray retries after
a lost worker writes nothing twice, and a run stopped midway is finished by --resume."""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cards import DetectorCard

from ..inputs import read_input
from ..project import ROOT, log
from .engine import OnnxNetwork
from .face_mask import FaceMaskPipeline

ROWS_PER_BLOCK = 32  # what a worker lost mid-block does again
ROWS_PER_BATCH = 8


@dataclass(frozen=True)
class DetectJob:
    """What every worker runs: the detector, its backend and the thresholds (None: the card's)."""

    card: DetectorCard
    backend: str
    model: bytes  # the ONNX model, handed to each worker (a cluster's nodes need not have build/)
    score_threshold: float | None = None
    iou_threshold: float | None = None


class DetectWorker:
    """One worker's pipeline; called on a batch of inputs (an "image" column), as Ray Data's
    map_batches calls a class, it gives their rows as JSON (a "row" column)."""

    def __init__(self, job: DetectJob, threads: int = 0) -> None:
        self.job = job
        self.pipeline = FaceMaskPipeline(job.card, OnnxNetwork(job.card, job.model, job.backend, threads))

    def row(self, image: str) -> dict:
        """An input's row: what `build.py detect` prints for it, or why it has no result."""
        try:
            data = read_input(image)
        except OSError as exc:
            return {"image": image, "error": f"{image} cannot be read: {exc.strerror or exc}."}
        result = self.pipeline.detect(data, Path(image).name, self.job.score_threshold, self.job.iou_threshold)
        return {"image": image, "backend": self.job.backend, **result}

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = [json.dumps(self.row(str(image))) for image in batch["image"]]
        return {"row": np.array(rows, dtype=object)}


Batches = Iterator[list[dict]]  # rows, a batch at a time


def in_process(inputs: list[str], job: DetectJob) -> Batches:
    worker = DetectWorker(job)
    for image in inputs:
        yield [worker.row(image)]


def on_ray(inputs: list[str], job: DetectJob, jobs: int, cluster: str | None, ordered: bool) -> Batches:
    """The inputs through `jobs` workers of Ray Data: on Ray's local cluster (started here, stopped
    after), or on the cluster at `cluster`. Rows come as workers finish blocks (in input order when
    `ordered`)."""
    import ray  # noqa: PLC0415 — here: importing Ray takes a second, which a run in one process does not pay

    started_here = not ray.is_initialized()  # else the caller's (the bench times Ray's start apart)
    if started_here:
        start_ray(cluster)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.execution_options.preserve_order = ordered
        cpus = int(ray.cluster_resources().get("CPU", 1))
        threads = max(1, cpus // jobs)
        blocks = min(len(inputs), max(2 * jobs, math.ceil(len(inputs) / ROWS_PER_BLOCK)))
        dataset = ray.data.from_items([{"image": image} for image in inputs], override_num_blocks=blocks)
        # A worker reserves less than the CPUs its session uses, so that Ray's own tasks still get a
        # place on a small machine (a worker holding a whole CPU of two starves them, and the run hangs).
        # Ray Data restarts a lost worker and retries its tasks.
        rows = dataset.map_batches(DetectWorker, fn_constructor_args=(job, threads), batch_size=ROWS_PER_BATCH,
                                   compute=ray.data.ActorPoolStrategy(size=jobs), num_cpus=0.75 * threads,
                                   batch_format="numpy")
        for batch in rows.iter_batches(batch_size=None, batch_format="numpy"):
            yield [json.loads(row) for row in batch["row"]]
    finally:
        if started_here:
            ray.shutdown()


def start_ray(cluster: str | None) -> None:
    """Connect to the cluster at `cluster`, else start Ray's local one on this machine's cores. The
    workers import py/ and tools/: from this tree on this machine, from an upload of it on a cluster."""
    import ray  # noqa: PLC0415

    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if cluster is None:
        paths = os.pathsep.join(str(ROOT / folder) for folder in ("py", "tools"))
        ray.init(num_cpus=os.cpu_count(), runtime_env={"env_vars": {"PYTHONPATH": paths}},
                 _node_ip_address="127.0.0.1", **quiet)  # a cluster of this machine alone, on loopback
    else:
        log(f"connecting to the Ray cluster at {cluster}…")
        ray.init(address=cluster, runtime_env={
            "working_dir": str(ROOT), "env_vars": {"PYTHONPATH": os.pathsep.join(("py", "tools"))},
            "excludes": [".git", ".venv", ".venv-convert", "node_modules", "build", "dist", "results"]},
            **{k: v for k, v in quiet.items() if k != "include_dashboard"})
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def run(inputs: list[str], job: DetectJob, jobs: int, cluster: str | None, ordered: bool) -> Batches:
    """The inputs through this process (one job, no cluster) or Ray."""
    if jobs == 1 and cluster is None:
        return in_process(inputs, job)
    return on_ray(inputs, job, min(jobs, len(inputs)), cluster, ordered)
