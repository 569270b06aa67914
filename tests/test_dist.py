"""The static site of `build.py build`, served from a sub-path as on GitHub Pages: both views run,
and self-hosted, a whole session (photo, demo, webcam, both views) makes no request off the site
and nothing breaks the page's Content Security Policy."""

import base64
import collections
import hashlib
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

import samples
from conftest import CSP_VIOLATIONS
from pylens_build import server
from pylens_build.headless import BACKEND_FLAGS, SOFTWARE_GPU_FLAGS, HeadlessApp, launch_chromium, wait_until
from pylens_build.models import model_cards
from pylens_build.project import PYODIDE, ROOT
from pylens_build.server import SiteHandler, serving
from pylens_build.static_host import PROFILES, Link, static_hosting
from pylens_build.static_site import APP_ARCHIVE, DIST, build_site, stamp_version
from test_webcam import FAKE_CAMERA

SUB_PATH = "pylens/"


@pytest.fixture(scope="module")
def policy_reports() -> list:
    return []


@pytest.fixture(scope="module")
def site(dist, policy_reports):
    """The built site served under /pylens/, as a GitHub Pages project site is, with no special
    headers but a reporting copy of the page's policy, whose reports of violations (in the page and
    in its workers) go to policy_reports; nothing else is served."""
    with serving([("/" + SUB_PATH, dist)], isolated=False, policy_reports=policy_reports) as origin:
        yield origin


def reports_after_a_violation_from_each_worker(app: HeadlessApp, policy_reports: list, tag: str) -> list[dict]:
    """The policy reports once each of the page's workers has made a request off the site and its
    report has come: a worker's earlier violations are reported before it. Returns those others.
    (A worker for one job that ends as it is asked has nothing more to report.)"""
    workers = app.page.workers
    assert workers
    expected = set()
    for number, worker in enumerate(workers):
        try:
            worker.evaluate(f"fetch('https://example.org/{tag}-{number}').catch(() => null)")
        except PlaywrightError:
            assert worker not in app.page.workers
            continue
        expected.add(f"https://example.org/{tag}-{number}")
    assert expected
    deadline = time.monotonic() + 30
    while not expected <= {report["csp-report"]["blocked-uri"] for report in policy_reports}:
        assert time.monotonic() < deadline, f"no report of {expected} in {policy_reports}"
        time.sleep(0.05)
    return [report for report in policy_reports if report["csp-report"]["blocked-uri"] not in expected]


def policy_directives(site: Path) -> dict[str, list[str]]:
    """The Content Security Policy of a built page: directive -> its sources."""
    policy = server.page_policy(site)
    directives = [part.split() for part in policy.split(";") if part.strip()]
    assert len({name for name, *_ in directives}) == len(directives), policy  # each directive once
    return {name: sources for name, *sources in directives}


def documented_policy() -> dict[str, list[str]]:
    """The policy of the self-hosted build as docs/deploying.md's table gives it."""
    page = (ROOT / "docs" / "deploying.md").read_text()
    table = page.split("| directive | sources | why |\n| --- | --- | --- |\n")[1].split("\n\n")[0]
    rows = [re.match(r"\| `([a-z-]+)` \| `([^`]+)` \|", line) for line in table.splitlines()]
    assert all(rows), table
    return {row[1]: row[2].split() for row in rows}


def test_dist_is_self_contained(dist):
    assert (dist / "index.html").is_file() and (dist / ".nojekyll").is_file()
    assert (dist / "pyscript.toml").read_text().startswith('interpreter = "./start.mjs?pyodide=./pyodide/pyodide.mjs"')
    # Self-hosted, the Content Security Policy is docs/deploying.md's, directive by directive.
    assert policy_directives(dist) == documented_policy()
    for card in model_cards():
        assert (dist / "models" / f"{card.id}.toml").is_file()
        assert (dist / "models" / card.id / card.entry).is_file()
    assert not list(dist.rglob(".stamp")) and not list(dist.rglob("*.map"))
    text = "\n".join(p.read_text() for p in [dist / "index.html", *dist.glob("*.js"), *dist.glob("py/*.py")])
    assert 'src="/' not in text and 'href="/' not in text  # relative URLs only


@pytest.mark.browser
def test_a_whole_session_from_a_sub_path_stays_on_the_site(site, policy_reports, tmp_path_factory):
    video = samples.y4m_video(tmp_path_factory.mktemp("camera") / "faces.y4m", ["aizoo_demo.jpg"])
    requests: list[str] = []
    url = site + SUB_PATH
    with HeadlessApp(url, "wasm", prepare=lambda context: context.on("request", lambda r: requests.append(r.url)),
                           chromium_args=(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}"),
                           init_script=CSP_VIOLATIONS) as app:
        page = app.page
        # A photo from a file, then a demo, in the face-mask view.
        page.set_input_files("#file", str(samples.photo_path("fmd_demo2.jpg")))
        app.wait_until("JSON.parse(window.pylens.stats()).result?.image === 'fmd_demo2.jpg'")
        page.locator("#demos button").first.click()
        app.wait_until("JSON.parse(window.pylens.stats()).result?.image === 'aizoo_demo.jpg'")
        assert len(app.stats()["result"]["detections"]) == 3
        # The webcam, then the segment-and-stylize view on its frames.
        page.click("#webcam")
        app.wait_until("JSON.parse(window.pylens.stats()).frames >= 5", 120_000)
        page.click("#view-style")
        app.wait_until("JSON.parse(window.pylens.stats()).style_frames >= 2", 180_000)
        page.click("#webcam")
        expect(page.locator("#webcam")).to_have_text("Start webcam")
        expect(page.locator("#error")).to_be_hidden()
        assert app.stats()["leaky_frames"] == 0
        # Downloads of the results, under the same policy.
        with page.expect_download() as download:
            page.click("#style-save-png")
        assert download.value.suggested_filename.endswith(".png")
        assert page.evaluate("window.cspViolations") == []
        assert any(r.endswith("/models/style-wave/model.json") for r in requests)
        off_site = [r for r in requests if not r.startswith(url) and not r.startswith(("data:", "blob:"))]
        assert not off_site, off_site
        # Nor in its workers (see the next test).
        assert reports_after_a_violation_from_each_worker(app, policy_reports, "settled") == []
    policy_reports.clear()


@pytest.mark.browser
def test_onnx_runtime_downloads_only_once_chosen_and_is_then_timed(site, policy_reports):
    """A visit on automatic fetches no byte of ONNX Runtime, and times tf.js's backends only. Chosen
    from the menu, ONNX Runtime runs under the page's policy; on the next visit, its files cached,
    it is timed with the others."""
    requests: list[str] = []
    with HeadlessApp(site + SUB_PATH, prepare=lambda context: context.on("request", lambda r: requests.append(r.url)),
                     init_script=CSP_VIOLATIONS) as app:
        page = app.page
        app.wait_until("crossOriginIsolated && navigator.serviceWorker.controller && window.pylens?.ready")
        page.locator("#demos button").first.click()
        app.wait_until("Object.keys(JSON.parse(window.pylens.stats()).backend_times).length > 0")
        assert not any(name.startswith("ort-") for name in app.stats()["backend_times"])
        assert not [r for r in requests if "/vendor/ort/" in r or r.endswith(".onnx")]
        page.select_option("#backend", "ort-wasm")
        app.wait_until("(s => s.backend === 'ort-wasm' && s.inferences > 1)(JSON.parse(window.pylens.stats()))",
                       120_000)
        assert len(app.stats()["result"]["detections"]) == 3
        assert app.running_backend() == "ort-wasm"
        page.reload()
        app.wait_until("window.pylens?.ready")
        assert app.stats()["backend"] == "ort-wasm"  # the address keeps the choice
        page.locator("#demos button").first.click()
        app.wait_until("'ort-wasm' in JSON.parse(window.pylens.stats()).backend_times", 300_000)
        times = app.stats()["backend_times"]
        assert {"wasm", "ort-wasm"} <= set(times) and all(ms > 0 for ms in times.values())
        ort_wasm = page.locator("#backend option[value=ort-wasm]")
        expect(ort_wasm).to_have_text(f"ONNX Runtime WebAssembly ({times['ort-wasm']:.0f} ms)")
        assert page.evaluate("window.cspViolations") == []
        assert reports_after_a_violation_from_each_worker(app, policy_reports, "onnx") == []
    policy_reports.clear()


@pytest.mark.browser
def test_a_first_visit_over_a_link_takes_the_first_result_s_files_once_runtime_first(dist):
    """Over a visitor's link, from a static host: the page reloads to be cross-origin isolated without
    starting Python before it, and its service worker downloads the first result's files stage after
    stage, each crossing the link once."""
    stages = json.loads(re.search(r"const FIRST_RESULT = (.*);", (dist / "sw.js").read_text())[1])
    with static_hosting([("/" + SUB_PATH, dist)], Link(**PROFILES["broadband"]), compress_first=(dist,)) as (url, log):
        browser = launch_chromium()
        try:
            page = browser.new_page()
            page.goto(url + SUB_PATH, wait_until="commit")
            wait_until(page, "crossOriginIsolated && document.readyState !== 'loading'", 60_000)
            page.locator("#demos button").first.click()  # in the page reloaded: nothing fetched before is cut off
            wait_until(page, "document.querySelectorAll('#mask-detections li').length > 0", 180_000)
        finally:
            browser.close()
    asked = collections.Counter(response.path.removeprefix("/" + SUB_PATH) for response in log)
    assert asked[""] == 2  # the page, then the page reloaded
    # (A module of PyScript's that the first page was loading as it reloaded may be asked for again.)
    assert {path: asked[path] for stage in stages for path in stage if asked[path] != 1} == {}
    reloaded = [response.asked for response in log if response.path == "/" + SUB_PATH][1]
    by_file = {response.path.removeprefix("/" + SUB_PATH): response for response in log}
    for python_file in ("pyscript.toml", "py/main.py"):
        assert by_file[python_file].asked > reloaded, f"{python_file} asked for before the page reloaded"
    for earlier, later in zip(stages, stages[1:], strict=False):
        earlier_in = max(by_file[path].last_byte for path in earlier)
        assert all(by_file[path].asked > earlier_in for path in later), (earlier, later)


@pytest.mark.browser
def test_a_violation_in_a_worker_is_reported(site, policy_reports):
    """What the session above relies on: a request off the site from any of the page's workers
    (Python's among them) is reported."""
    with HeadlessApp(site + SUB_PATH, "wasm") as app:
        assert reports_after_a_violation_from_each_worker(app, policy_reports, "worker") == []
        blocked = {report["csp-report"]["effective-directive"] for report in policy_reports}
        uris = [report["csp-report"]["blocked-uri"] for report in policy_reports]
        assert len(set(uris)) == len(uris) and blocked == {"connect-src"}, policy_reports  # one report each
    policy_reports.clear()


def add_to_module(site: Path, module: str, text: str) -> None:
    """A change to one of the app's modules in a built site, as a rebuild makes it: in py/ (which
    the code panel reads) and in the archive PyScript unpacks, whose bytecode for it no longer
    matches and is compiled afresh as it is imported."""
    with (site / "py" / module).open("a") as source:
        source.write(text)
    archive = site / APP_ARCHIVE
    with zipfile.ZipFile(archive) as old:
        entries = {entry: old.read(entry) for entry in old.namelist()}
    entries[module] += text.encode()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as new:
        for entry, data in entries.items():
            new.writestr(entry, data)


@pytest.mark.browser
def test_offline_after_one_visit_and_a_new_deploy_replaces_the_cache(pyodide_dist, tmp_path):
    site_dir = tmp_path / "pylens"
    build_site(site_dir, pyodide_dist)
    with serving([("/" + SUB_PATH, site_dir)], isolated=False) as origin:
        url = origin + SUB_PATH
        with HeadlessApp(url, "wasm") as app:
            page = app.page
            # The service worker takes over and the page reloads once, cross-origin isolated.
            app.wait_until("crossOriginIsolated && navigator.serviceWorker.controller && window.pylens?.ready")
            assert app.stats()["wasm_threads"]
            page.locator("#demos button").first.click()
            app.wait_until("JSON.parse(window.pylens.stats()).result?.image === 'aizoo_demo.jpg'")
            app.wait_until("JSON.parse(window.pylens.stats()).snapshot === 'kept'")
            # The first result's follow-up done (the backends timed and kept), as a visit that lasts
            # more than seconds has it: a timing cut short by the reload is taken up again on the
            # offline visit, whose worker then keeps the service worker busy past the new deploy.
            app.wait_until("Object.keys(JSON.parse(window.pylens.stats()).backend_times).length > 0", 120_000)
            # No network: the app starts from the cache (Python from its snapshot) and detects.
            app.context.set_offline(True)
            page.reload()
            app.wait_until("window.pylens?.ready")
            assert app.stats()["snapshot"] == "restored"
            page.locator("#demos button").first.click()
            app.wait_until("JSON.parse(window.pylens.stats()).result?.image === 'aizoo_demo.jpg'")
            assert len(app.stats()["result"]["detections"]) == 3
            expect(page.locator("#error")).to_be_hidden()
            # A new deploy: the next visits get it, and only its cache is left.
            app.context.set_offline(False)
            [old_cache] = page.evaluate("caches.keys()")
            add_to_module(site_dir, "page.py", "\nfrom pyscript import window\nwindow.deployed = 'second'\n")
            version = stamp_version(site_dir)
            # The browser looks for a new sw.js on navigations (at least daily); here, at once.
            app.wait_until("navigator.serviceWorker.getRegistration().then(r => r.update())"
                           f".then(() => caches.has('{old_cache}')).then(old => !old)")
            page.reload()
            app.wait_until("window.pylens?.ready")
            assert page.evaluate("window.deployed") == "second"
            assert page.evaluate("caches.keys()") == [f"pylens-{version}"]
            # The old snapshot went with the old cache; the new version keeps its own.
            assert app.stats()["snapshot"] == "none"
            page.locator("#demos button").first.click()
            app.wait_until("JSON.parse(window.pylens.stats()).snapshot === 'kept'")
            assert page.evaluate(f"caches.open('pylens-{version}').then(c => c.keys())"
                                 ".then(keys => keys.some(r => r.url.includes('/__snapshot/')))")


# Replace the stored snapshot of Python with damaged bytes: random, cut in half, or whole but made
# by another Pyodide build (its build id changed).
DAMAGE_SNAPSHOT = """async (how) => {
    const [name] = await caches.keys();
    const cache = await caches.open(name);
    const key = (await cache.keys()).map(r => r.url).find(url => url.includes('/__snapshot/'));
    let bytes = new Uint8Array(await (await cache.match(key)).arrayBuffer());
    if (how === 'random') bytes = crypto.getRandomValues(new Uint8Array(65536));
    else if (how === 'cut') bytes = bytes.slice(0, bytes.length >> 1);
    else bytes[16] ^= 0xff;  // the first byte of the build id
    await cache.put(key, new Response(bytes));
}"""


@pytest.mark.browser
def test_visits_after_the_first_restore_python_from_a_snapshot(pyodide_dist, tmp_path):
    site_dir = tmp_path / "pylens"
    build_site(site_dir, pyodide_dist)
    with serving([("/" + SUB_PATH, site_dir)], isolated=False) as origin:
        with HeadlessApp(origin + SUB_PATH, "wasm") as app:
            page = app.page

            def restart_and_detect() -> list:
                page.reload()
                app.wait_until("window.pylens?.ready")
                page.locator("#demos button").first.click()
                app.wait_until("JSON.parse(window.pylens.stats()).result?.image === 'aizoo_demo.jpg'")
                return app.stats()["result"]["detections"]

            app.wait_until("crossOriginIsolated && navigator.serviceWorker.controller && window.pylens?.ready")
            assert app.stats()["snapshot"] == "none"
            page.locator("#demos button").first.click()
            app.wait_until("JSON.parse(window.pylens.stats()).result?.image === 'aizoo_demo.jpg'")
            first = app.stats()["result"]["detections"]
            assert len(first) == 3
            app.wait_until("JSON.parse(window.pylens.stats()).snapshot === 'kept'")
            assert restart_and_detect() == first
            assert app.stats()["snapshot"] == "restored"
            for damage in ("random", "cut", "stale"):
                page.evaluate(DAMAGE_SNAPSHOT, damage)
                assert restart_and_detect() == first, damage
                assert app.stats()["snapshot"] == "dropped", damage
                app.wait_until("JSON.parse(window.pylens.stats()).snapshot === 'kept'")  # a new one
            expect(page.locator("#error")).to_be_hidden()
            restart_and_detect()
            assert app.stats()["snapshot"] == "restored"


def test_pages_workflow_deploys_what_build_writes_once_the_tests_passed():
    workflow = (ROOT / ".github" / "workflows" / "pages.yml").read_text()
    tests = (ROOT / ".github" / "workflows" / "tests.yml").read_text()
    # The tests run the CI script, which runs the README's test command; the deploy waits for them,
    # goes on only when they passed on a push to main, and builds the commit they ran on.
    assert "name: Tests\n" in tests and "run: CI=true bash .ci/run" in tests
    assert "python3 build.py test" in (ROOT / ".ci" / "run").read_text()
    assert "  workflow_run:\n    workflows: [Tests]\n    types: [completed]\n    branches: [main]\n" in workflow
    assert "workflow_dispatch" not in workflow and "\n  push:" not in workflow
    assert ("if: github.event.workflow_run.conclusion == 'success' && github.event.workflow_run.event == 'push'"
            in workflow)
    assert "ref: ${{ github.event.workflow_run.head_sha }}" in workflow
    assert "run: python3 build.py build --self-host" in workflow
    assert f"path: {DIST.name}\n" in workflow
    for action in ("actions/configure-pages@", "actions/upload-pages-artifact@", "actions/deploy-pages@"):
        assert action in workflow


def serve_cdn_from(pyodide_dist, tampered: str | None = None):
    """Answer requests for the CDN's Pyodide from the local copy (this machine cannot reach the CDN),
    with one file's bytes changed if asked."""
    def prepare(context):
        def fulfil(route):
            name = route.request.url.removeprefix(PYODIDE["cdn"])
            body = (pyodide_dist / name).read_bytes()
            if name == tampered:
                body += b"\n// changed"
            route.fulfill(body=body, headers={"Access-Control-Allow-Origin": "*"},
                          content_type=SiteHandler.extensions_map.get(Path(name).suffix, "application/json"))
        context.route(PYODIDE["cdn"] + "**", fulfil)
    return prepare


@pytest.fixture(scope="module")
def cdn_dist(tmp_path_factory, dist) -> Path:  # after `dist`: the models and demos are in place
    out = tmp_path_factory.mktemp("cdn") / "pylens"
    build_site(out, None)
    return out


@pytest.fixture(scope="module")
def cdn_site(cdn_dist):
    with serving([("/" + SUB_PATH, cdn_dist)], isolated=False) as origin:
        yield origin + SUB_PATH


def test_cdn_policy_adds_only_the_pinned_pyodide_and_its_import_map(cdn_dist):
    policy, documented, cdn = policy_directives(cdn_dist), documented_policy(), PYODIDE["cdn"]
    import_map = re.search(r'<script type="importmap">(.*?)</script>', (cdn_dist / "index.html").read_text(), re.S)[1]
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    assert policy == {**documented, "script-src": [documented["script-src"][0], f"'sha256-{digest}'",
                                                   *documented["script-src"][1:], cdn],
                      "connect-src": [*documented["connect-src"], cdn]}


@pytest.mark.browser
def test_cdn_mode_loads_the_pinned_pyodide_under_the_policy(cdn_site, pyodide_dist):
    requests: list[str] = []

    def prepare(context):
        context.on("request", lambda r: requests.append(r.url))
        serve_cdn_from(pyodide_dist)(context)

    # Service workers blocked: their requests would bypass the routing to the local copy.
    with HeadlessApp(cdn_site, "wasm", prepare=prepare, init_script=CSP_VIOLATIONS,
                           block_service_workers=True) as app:
        assert len(app.detect(samples.photo_bytes("aizoo_demo.jpg"), "a.jpg")
                   ["detections"]) == 3
        assert app.page.evaluate("window.cspViolations") == []
    off_site = {r.split("/full/")[0] for r in requests if not r.startswith(cdn_site)}
    assert off_site == {PYODIDE["cdn"].split("/full/")[0]}  # the pinned version, nothing else


@pytest.mark.browser
def test_cdn_mode_refuses_a_changed_pyodide(cdn_site, pyodide_dist):
    browser = launch_chromium()
    try:
        context = browser.new_context(service_workers="block")
        serve_cdn_from(pyodide_dist, tampered="pyodide.mjs")(context)
        page = context.new_page()
        with page.expect_console_message(lambda message: "integrity" in message.text):
            page.goto(cdn_site)
        # The page says that Python could not be loaded, and takes no images.
        expect(page.locator("#error-text")).to_contain_text("The Python runtime could not be loaded from "
                                                            + PYODIDE["cdn"])
        expect(page.locator("#status")).to_have_text("The app could not start.")
        expect(page.locator("#open")).to_be_disabled()
        assert not page.evaluate("Boolean(window.pylens?.ready)")
    finally:
        browser.close()


@pytest.mark.browser
def test_automatic_choice_by_the_times_measured_in_this_browser(pyodide_dist, tmp_path):
    site_dir = tmp_path / "pylens"
    build_site(site_dir, pyodide_dist)
    with serving([("/" + SUB_PATH, site_dir)], isolated=False) as origin:
        # WebGPU and WebGL both run, in software; no ?backend=: automatic.
        with HeadlessApp(origin + SUB_PATH, chromium_args=(*BACKEND_FLAGS["webgpu"], *SOFTWARE_GPU_FLAGS)) as app:
            page = app.page
            app.wait_until("crossOriginIsolated && navigator.serviceWorker.controller && window.pylens?.ready")
            assert app.stats()["backend"] == "wasm" and app.stats()["backend_times"] == {}  # nothing timed yet
            page.locator("#demos button").first.click()
            # After the first result the detector is timed on every backend, beside the app.
            app.wait_until("Object.keys(JSON.parse(window.pylens.stats()).backend_times).length > 0")
            times = app.stats()["backend_times"]
            assert set(times) == {"webgpu", "webgl", "wasm", "cpu"} and all(ms > 0 for ms in times.values())
            assert min(times, key=times.get) == "wasm"  # software GPUs are slower than WebAssembly
            expect(page.locator("#backend option[value=auto]")).to_have_text("automatic (fastest here: WebAssembly)")
            expect(page.locator("#backend option[value=webgl]")).to_have_text(f"WebGL ({times['webgl']:.0f} ms)")
            # The next visit chooses by the times kept for this browser: made to favour WebGL, it takes
            # WebGL, which the rule without times passes over as rendered in software.
            page.evaluate("""async () => {
                const cache = await caches.open((await caches.keys())[0]);
                const key = (await cache.keys()).map(r => r.url)
                    .find(url => url.endsWith('/__backend-times/aizoo-face-mask'));
                const kept = await (await cache.match(key)).json();
                kept.times.webgl = 1;
                await cache.put(key, Response.json(kept));
            }""")
            page.reload()
            app.wait_until("window.pylens?.ready")
            assert app.stats()["backend"] == "webgl"
            expect(page.locator("#backend")).to_have_value("auto")
            expect(page.locator("#backend-active")).to_have_text("using WebGL")
            # A detector not yet timed here is timed once it has a result, and the page, on automatic,
            # moves to the backend measured clearly faster: from WebGL to WebAssembly.
            page.locator("#demos button").first.click()
            app.wait_until("JSON.parse(window.pylens.stats()).inferences > 0")
            page.select_option("#detector", "aizoo-face-mask-graph")
            app.wait_until("(s => s.model === 'aizoo-face-mask-graph' && s.backend === 'wasm')"
                           "(JSON.parse(window.pylens.stats()))", 300_000)
            graph_times = app.stats()["backend_times"]
            assert set(graph_times) == set(times) and all(ms > 0 for ms in graph_times.values())
            expect(page.locator("#backend")).to_have_value("auto")
            expect(page.locator("#backend-active")).to_contain_text("using WebAssembly, measured the fastest here")
            assert app.stats()["result"]["detections"]
