"""build.py's own pieces: verified fetches, the served tree, MIME types."""

import hashlib
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import names
import samples
from pylens_build.fetch import fetch_verified
from pylens_build.inputs import IMAGE_SUFFIXES
from pylens_build.models import fetch_photos
from pylens_build.project import PYODIDE, ROOT, SetupError
from pylens_build.runtimes import check_lock, ensure_pyodide
from pylens_build.server import pyscript_config


def test_fetch_verified_copies_and_reuses(tmp_path):
    source = tmp_path / "mirror.bin"
    source.write_bytes(b"weights")
    dest = tmp_path / "out" / "model.bin"
    sha = hashlib.sha256(b"weights").hexdigest()
    fetch_verified(dest, sha, "https://example.invalid/model.bin", source)
    assert dest.read_bytes() == b"weights"
    source.unlink()  # present with the right checksum: not fetched again
    fetch_verified(dest, sha, "https://example.invalid/model.bin", source)


def test_checksum_mismatch_names_the_file_and_leaves_nothing(tmp_path):
    source = tmp_path / "mirror.bin"
    source.write_bytes(b"tampered")
    dest = tmp_path / "out" / "model.bin"
    with pytest.raises(SetupError, match=r"model.bin: checksum mismatch .* not installed"):
        fetch_verified(dest, "0" * 64, "https://example.invalid/model.bin", source)
    assert not dest.exists() and not dest.with_name("model.bin.part").exists()


def test_a_wrong_file_in_place_is_replaced(tmp_path):
    source = tmp_path / "mirror.bin"
    source.write_bytes(b"weights")
    dest = tmp_path / "model.bin"
    dest.write_bytes(b"stale")
    fetch_verified(dest, hashlib.sha256(b"weights").hexdigest(), "https://example.invalid/x", source)
    assert dest.read_bytes() == b"weights"


def test_pyodide_dist_is_checked(tmp_path, monkeypatch, pyodide_dist):
    broken = tmp_path / "pyodide"
    broken.mkdir()
    for name in PYODIDE["sha256"]:
        (broken / name).symlink_to(pyodide_dist / name)
    (broken / "pyodide-lock.json").symlink_to(pyodide_dist / "pyodide-lock.json")
    (broken / "pyodide.mjs").unlink()
    (broken / "pyodide.mjs").write_text("// not pyodide")
    monkeypatch.setenv("PYODIDE_DIST", str(broken))
    with pytest.raises(SetupError, match="pyodide.mjs fails its checksum"):
        ensure_pyodide()


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, "", b""


@pytest.mark.parametrize("path, mime", [
    ("", "text/html"),
    ("pyodide/pyodide.mjs", "text/javascript"),
    ("pyodide/pyodide.asm.wasm", "application/wasm"),
    ("vendor/tfjs-backend-wasm/tfjs-backend-wasm-simd.wasm", "application/wasm"),
    ("vendor/pyscript/core.js", "text/javascript"),
    ("vendor/tfjs.mjs", "text/javascript"),
    ("models/aizoo-face-mask/model.json", "application/json"),
    ("models/aizoo-face-mask.toml", "text/plain; charset=utf-8"),
    ("py/boxes.py", "text/x-python; charset=utf-8"),
])
def test_served_tree_and_mime_types(site_url, path, mime):
    status, content_type, _ = get(site_url + path)
    assert status == 200 and content_type == mime


def test_self_hosted_config_points_at_local_pyodide(site_url):
    _, _, body = get(site_url + "pyscript.toml")
    assert body.decode().startswith('interpreter = "./start.mjs?pyodide=./pyodide/pyodide.mjs"\n')
    cdn_config = pyscript_config(self_hosted=False).decode()  # the pinned Pyodide on its CDN
    assert cdn_config.startswith(f'interpreter = "./start.mjs?pyodide={PYODIDE["cdn"]}pyodide.mjs"\n')
    assert "/v0.27.7/" in PYODIDE["cdn"]


def test_paths_outside_the_tree_are_not_served(site_url):
    assert get(site_url + "py/../../build.py")[0] == 404
    assert get(site_url + "py/%2e%2e/%2e%2e/build.py")[0] == 404


def test_every_module_is_in_the_pyscript_config():
    config = (ROOT / "site" / "pyscript.toml").read_text()
    for module in sorted((ROOT / "py").rglob("*.py")):
        name = module.relative_to(ROOT / "py").as_posix()
        if name != "main.py":
            assert f'"./py/{name}" = "./{name}"' in config, name


def test_the_demo_buttons_are_the_demo_photos_fetched():
    """The page's Demo buttons (in its HTML, so that they are there at the first paint) and the photos
    build.py fetches for them (site/demos.json) are the same, in the same order, with their credit."""
    page = (ROOT / "site" / "index.html").read_text()
    buttons = re.findall(r'<button type="button" data-file="([^"]+)" title="Photo from ([^"]+)">Demo: ', page)
    demos = json.loads((ROOT / "site" / "demos.json").read_text())["demos"]
    assert buttons == [(demo["file"], demo["credit"]) for demo in demos]


def test_lock_file_is_checked_by_content(pyodide_dist):
    good = (pyodide_dist / "pyodide-lock.json").read_bytes()
    check_lock(good, "lock")
    lock = json.loads(good)
    lock["packages"]["numpy"]["sha256"] = "0" * 64
    with pytest.raises(SetupError, match="package 'numpy' is missing or not the pinned build"):
        check_lock(json.dumps(lock).encode(), "lock")
    with pytest.raises(SetupError, match="not a Pyodide lock file"):
        check_lock(b"<html>503</html>", "lock")


def test_a_folder_gives_the_same_images_in_the_page_as_to_build_py_detect():
    shell = (ROOT / "site" / "shell" / "intake.mjs").read_text()
    pattern = re.search(r"const IMAGE_NAME = /(.+)/i;", shell).group(1)
    candidates = {*IMAGE_SUFFIXES, ".JPG", ".tif", ".tiff", ".heic", ".svg", ".txt", ".mp4", ".json"}
    taken = {suffix for suffix in candidates if re.search(pattern, "photo" + suffix, re.IGNORECASE)}
    assert {suffix.lower() for suffix in taken} == IMAGE_SUFFIXES


def test_the_marks_set_in_javascript_are_spelt_as_names_py_spells_them():
    for script, marks in names.MARKS_IN_JS.items():
        text = (ROOT / script).read_text()
        for mark in marks:
            assert f'"{mark}"' in text, (script, mark)
    shell = (ROOT / "site" / "shell" / "boot.mjs").read_text()  # PyScript's progress, marked with this prefix
    assert "performance.mark(`pyscript: ${detail}`)" in shell
    assert {names.PYSCRIPT_LOADING_PYODIDE, names.PYSCRIPT_LOADING_FILES, names.PYSCRIPT_LOADED_PYODIDE} <= {
        f"pyscript: {step}" for step in ("Loading Pyodide", "Loading files", "Loaded Pyodide")}



def test_the_tests_and_the_deploy_need_only_the_repository_and_the_network():
    tests = (ROOT / ".github" / "workflows" / "tests.yml").read_text()
    assert "runs-on: ubuntu-latest\n" in tests and "self-hosted" not in tests
    assert "playwright install --with-deps chromium" in tests and '"CHROMIUM=' in tests
    assert tests.rstrip().endswith("- run: CI=true bash .ci/run")
    # No file but .ci/run's optional mirror knows of a data folder beside the clone.
    for path in [*ROOT.glob("tests/*.py"), *ROOT.glob("tools/**/*.py"), *ROOT.glob("py/**/*.py"), ROOT / "build.py"]:
        if path.name != Path(__file__).name:
            assert "SHARED_DIR" not in path.read_text() and "../shared" not in path.read_text(), path
    assert 'if [ -d "$shared" ]; then' in (ROOT / ".ci" / "run").read_text()
    # Every photo the tests read comes from a pinned upstream commit, verified by sha256; the
    # reference results are of exactly those photos.
    for photo in samples.PHOTO_SOURCES:
        assert re.fullmatch(r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+", photo["url"])
        assert re.fullmatch(r"[0-9a-f]{64}", photo["sha256"]) and "MIT" in photo["credit"]
    assert sorted(samples.reference()) == sorted(samples.PHOTOS)


def test_a_photo_that_cannot_be_had_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGE_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(SetupError, match="fst_face.jpg: not found in the mirror"):
        fetch_photos(json.loads((ROOT / "tests" / "data" / "photos.json").read_text())["photos"], tmp_path / "photos")
    assert not (tmp_path / "photos").exists()
