"""`build.py detect` sharded by Ray Data, as its users run it: on Ray's local cluster (--jobs 2), and
on a real two-node cluster (ray start --head, then a second node; --cluster), each losing a worker
or a node midway and still writing every input's row exactly once, the same rows as one process
gives. Every Ray process runs in a network namespace of its own, with loopback alone."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RAY, ROOT
from test_cli import detect
from test_cpython import many_photos, rows_of, wait_for_rows

pytestmark = pytest.mark.slow


def detect_inside(inside, *args: str) -> subprocess.Popen:
    return inside(sys.executable, str(ROOT / "build.py"), "detect", *args, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)


def ray_pids(pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    return sorted(int(pid) for pid in found)


def whole_run(tmp_path) -> list[dict]:
    whole = tmp_path / "whole.jsonl"
    run = detect("--out", str(whole), str(tmp_path / "photos"))
    assert run.returncode == 0, run.stderr
    return rows_of(whole)


def test_jobs_on_ray_s_local_cluster_survive_a_killed_worker(tmp_path, loopback_only):
    images = many_photos(tmp_path / "photos", 80)
    out, journal = tmp_path / "out.jsonl", tmp_path / "out.jsonl.journal.jsonl"
    process = detect_inside(loopback_only, "--jobs", "2", "--out", str(out), str(tmp_path / "photos"))
    wait_for_rows(journal, 40, process)
    workers = ray_pids("^ray::MapWorker")
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    assert journal.read_text().count("\n") < len(images)  # killed midway
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    rows = rows_of(out)
    assert [row["image"] for row in rows] == images  # each once, in input order
    assert rows == whole_run(tmp_path)


def test_a_two_node_cluster_survives_a_lost_node(tmp_path, loopback_only):
    images = many_photos(tmp_path / "photos", 80)
    node = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    head = loopback_only(RAY, "start", "--head", "--port=6379", "--include-dashboard=false", *node,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert head.wait(timeout=120) == 0, head.stdout.read()
    raylets = ray_pids("raylet/raylet ")
    second = loopback_only(RAY, "start", "--address=127.0.0.1:6379", *node, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
    assert second.wait(timeout=120) == 0, second.stdout.read()
    (second_raylet,) = set(ray_pids("raylet/raylet ")) - set(raylets)
    out, journal = tmp_path / "out.jsonl", tmp_path / "out.jsonl.journal.jsonl"
    process = detect_inside(loopback_only, "--cluster", "127.0.0.1:6379", "--jobs", "2", "--out", str(out),
                            str(tmp_path / "photos"))
    wait_for_rows(journal, 40, process)
    on_second = [pid for pid in ray_pids("^ray::MapWorker")
                 if Path(f"/proc/{pid}/stat").read_text().split()[3] == str(second_raylet)]
    assert len(on_second) == 1  # one worker on each node
    for pid in (second_raylet, *on_second):  # the node goes, with its worker
        os.kill(pid, signal.SIGKILL)
    assert journal.read_text().count("\n") < len(images)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    rows = rows_of(out)
    assert [row["image"] for row in rows] == images
    assert rows == whole_run(tmp_path)
