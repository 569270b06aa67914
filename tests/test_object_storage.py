"""`build.py detect` reading its inputs from object storage: a prefix of a bucket and a missing key,
from a local S3-compatible server (moto's server mode, on 127.0.0.1, stopped with the test)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest

import samples
from conftest import ROOT, assert_same_detections


@pytest.fixture
def s3_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["timeout", "600", str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1",
                               "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "moto's server did not start"
            time.sleep(0.2)
    yield {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}
    server.terminate()
    server.wait(timeout=30)


def test_detect_reads_a_bucket(s3_server, reference):
    bucket = boto3.client("s3", endpoint_url=s3_server["AWS_ENDPOINT_URL"], aws_access_key_id="test",
                          aws_secret_access_key="test", region_name="us-east-1")
    bucket.create_bucket(Bucket="photos")
    for name in samples.PHOTOS:
        bucket.put_object(Bucket="photos", Key=f"event/{name}", Body=samples.photo_bytes(name))
    bucket.put_object(Bucket="photos", Key="event/notes.txt", Body=b"not looked at")
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "detect", "s3://photos/event/",
                          "s3://photos/missing.jpg"], capture_output=True, text=True, timeout=600, cwd=ROOT,
                         env={**os.environ, **s3_server})
    assert run.returncode == 1, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["image"] for line in lines] == [*(f"s3://photos/event/{name}" for name in sorted(samples.PHOTOS)),
                                                 "s3://photos/missing.jpg"]
    for line in lines[:-1]:
        assert_same_detections(line["detections"], reference[line["image"].rsplit("/", 1)[-1]]["detections"])
    assert lines[-1]["error"].startswith("s3://photos/missing.jpg cannot be read: ")
