"""A model file missing or damaged on the server: the page says which and what to do."""

import shutil

import pytest
from playwright.sync_api import expect

from pylens_build.headless import HeadlessApp
from pylens_build.project import BUILD, SetupError
from pylens_build.server import routes, serving

MODEL = BUILD / "models" / "aizoo-face-mask"


@pytest.fixture
def models_dir(tmp_path):
    copy = tmp_path / "models"
    shutil.copytree(MODEL, copy / "aizoo-face-mask")
    return copy


def start_with(models, pyodide_dist):
    return serving(routes(pyodide_dist, models=models))


@pytest.mark.parametrize("damage, phrase", [
    ("missing", "Model file group1-shard1of1.bin is missing on the server (HTTP 404)"),
    ("corrupt", "Model file group1-shard1of1.bin is damaged: its checksum does not match"),
])
def test_bad_model_file_is_reported_in_the_page(models_dir, pyodide_dist, site_url, damage, phrase):
    weights = models_dir / "aizoo-face-mask" / "group1-shard1of1.bin"
    if damage == "missing":
        weights.unlink()
    else:
        data = bytearray(weights.read_bytes())
        data[1000] ^= 0xFF
        weights.write_bytes(bytes(data))
    with start_with(models_dir, pyodide_dist) as url, HeadlessApp(url, "wasm", fail_on_error=False) as app:
        assert phrase in app.error
        expect(app.page.locator("#error-text")).to_contain_text(phrase)
        expect(app.page.locator("#status")).to_have_text("The app could not start.")
        assert app.page.locator("#open").is_disabled()


def test_cli_reports_a_bad_model_without_a_traceback(models_dir, pyodide_dist, site_url):
    (models_dir / "aizoo-face-mask" / "model.json").unlink()
    with start_with(models_dir, pyodide_dist) as url, pytest.raises(SetupError, match="model.json is missing"):
        HeadlessApp(url, "wasm")
