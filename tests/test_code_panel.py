"""The code panel, in the built site served as a static host serves it, under the page's own policy:
a visit that never opens it downloads none of the editor; opened, it shows the app's modules in an
editor; an edit applied (Ctrl+S) runs in the app at once, with no navigation; a module that does not
import is refused, its error shown at its line, and the previous code keeps running; an edit is kept
for the next visit until reverted, and downloaded as a diff that `git apply` takes; one made on a
module a new deploy changed is not applied, and not lost."""

import subprocess

import pytest
from playwright.sync_api import expect

from conftest import CSP_VIOLATIONS
from pylens_build.headless import HeadlessApp
from pylens_build.project import ROOT
from pylens_build.server import serving
from pylens_build.site_runtime import kept_imports

pytestmark = pytest.mark.browser
SUB_PATH = "pylens/"
NMS_RETURN = "return np.array(keep, dtype=np.int64)"
APP_MS = 30_000  # for what waits on the app's Python (an edit taken, the picture run again), on a busy machine


def show_demo(app) -> None:
    app.page.locator("#demos button").first.click()
    app.wait_until("JSON.parse(window.pylens.stats()).result?.image === 'aizoo_demo.jpg'")


def open_panel(app) -> None:
    if app.page.locator("#code-panel").is_hidden():
        app.page.locator("#code-toggle").click()
    expect(app.page.locator("#code-module")).to_be_enabled(timeout=60_000)


@pytest.fixture(scope="module")
def policy_reports() -> list:
    return []


@pytest.fixture(scope="module")
def panel_app(dist, policy_reports):
    """The built site from a sub-path with no special headers; the demo photo's three boxes shown."""
    requests: list[str] = []
    with serving([("/" + SUB_PATH, dist)], isolated=False, policy_reports=policy_reports) as origin, \
            HeadlessApp(origin + SUB_PATH, "wasm", init_script=CSP_VIOLATIONS,
                        prepare=lambda context: context.on("request", lambda r: requests.append(r.url))) as app:
        app.requests = requests
        show_demo(app)
        yield app


def detections(app) -> int:
    return len(app.stats()["result"]["detections"])


def editor_end(app):
    """The editor's text, scrolled to its end (it draws only the lines in view)."""
    app.page.locator("#code-editor .cm-content").click()
    app.page.keyboard.press("ControlOrMeta+End")
    return app.page.locator("#code-editor .cm-content")


def replace_text(app, text: str) -> None:
    """Select all in the editor and paste `text` over it."""
    content = app.page.locator("#code-editor .cm-content")
    content.click()
    app.page.keyboard.press("ControlOrMeta+a")
    content.evaluate("""(element, text) => {
        const clipboardData = new DataTransfer();
        clipboardData.setData("text/plain", text);
        element.dispatchEvent(new ClipboardEvent("paste", { clipboardData, bubbles: true, cancelable: true }));
    }""", text)


def test_the_editor_is_downloaded_only_when_the_panel_opens(panel_app):
    page = panel_app.page
    assert detections(panel_app) == 3
    assert not [url for url in panel_app.requests if "codemirror" in url]
    expect(page.locator("#code-panel")).to_be_hidden()
    page.locator("#code-toggle").click()
    expect(page.locator("#code-toggle")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#code-editor .cm-editor")).to_be_visible(timeout=60_000)
    expect(page.locator("#code-module")).to_have_value("py/boxes.py")
    assert [url for url in panel_app.requests if "codemirror_lang-python" in url]
    # The module as the app runs it, with line numbers; every app module but the start is listed.
    expect(page.locator("#code-editor .cm-content")).to_contain_text("non-maximum suppression for SSD detectors")
    expect(editor_end(panel_app)).to_contain_text(NMS_RETURN)  # boxes.py's last line
    expect(page.locator("#code-editor .cm-lineNumbers")).to_be_visible()
    modules = page.locator("#code-module option").evaluate_all("options => options.map(o => o.value)")
    assert {"py/boxes.py", "py/views/mask.py", "py/live.py"} <= set(modules) and "py/main.py" not in modules


def test_an_applied_edit_runs_at_once_and_a_broken_one_is_refused_at_its_line(panel_app, dist, policy_reports):
    app, page = panel_app, panel_app.page
    open_panel(app)
    page.evaluate("window.panelMarker = 'still here'")
    original = (dist / "py" / "boxes.py").read_text()
    best_only = original.replace(NMS_RETURN, "return np.array(keep[:1], dtype=np.int64)")
    # The NMS keeps only its best box: Ctrl+S, and the picture shown is analysed again.
    replace_text(app, best_only)
    page.keyboard.press("ControlOrMeta+s")
    app.wait_until("JSON.parse(window.pylens.stats()).result.detections.length === 1")
    expect(page.locator("#code-status")).to_contain_text("Applied: boxes", timeout=APP_MS)
    expect(page.locator("#code-error")).to_be_hidden(timeout=APP_MS)
    assert page.evaluate("window.panelMarker") == "still here"  # no navigation
    # A syntax error: refused, shown at its line, and the previous code (one box) keeps running.
    broken = best_only.replace("def non_max_suppression(", "def non_max_suppression(:")
    line = next(number for number, text in enumerate(broken.splitlines(), 1) if "non_max_suppression(:" in text)
    replace_text(app, broken)
    page.locator("#code-apply").click()
    expect(page.locator("#code-status")).to_contain_text(f"py/boxes.py was not taken (line {line})", timeout=APP_MS)
    expect(page.locator("#code-error")).to_contain_text("SyntaxError", timeout=APP_MS)
    expect(page.locator("#code-editor .code-error-line")).to_contain_text("def non_max_suppression(:")
    show_demo(app)
    assert detections(app) == 1
    # The original back: three boxes again.
    replace_text(app, original)
    page.keyboard.press("ControlOrMeta+s")
    app.wait_until("JSON.parse(window.pylens.stats()).result.detections.length === 3")
    expect(page.locator("#code-editor .code-error-line")).to_have_count(0)
    assert page.evaluate("window.cspViolations") == [] and policy_reports == []


def test_a_module_the_trimmed_runtime_leaves_out_is_named_and_the_whole_runtime_has_it(panel_app, dist):
    """The site's Python holds only the modules the app imports: an edit that imports another is
    refused with an error naming it and saying how to have the whole runtime, which then takes it."""
    assert "ftplib" not in kept_imports()
    app, page = panel_app, panel_app.page
    open_panel(app)
    original = (dist / "py" / "boxes.py").read_text()
    future = "from __future__ import annotations\n"
    importing = original.replace(future, future + "\nimport ftplib\n", 1)
    replace_text(app, importing)
    page.locator("#code-apply").click()
    expect(page.locator("#code-status")).to_contain_text("py/boxes.py was not taken", timeout=APP_MS)
    expect(page.locator("#code-error")).to_contain_text("No module named 'ftplib'", timeout=APP_MS)
    expect(page.locator("#code-error")).to_contain_text("?python=full")
    replace_text(app, original)
    page.keyboard.press("ControlOrMeta+s")
    expect(page.locator("#code-error")).to_be_hidden(timeout=APP_MS)
    with HeadlessApp(app.url.split("?")[0] + "?python=full") as whole:
        show_demo(whole)
        open_panel(whole)
        replace_text(whole, importing)
        whole.page.keyboard.press("ControlOrMeta+s")
        expect(whole.page.locator("#code-status")).to_contain_text("Applied: boxes", timeout=APP_MS)
        expect(whole.page.locator("#code-error")).to_be_hidden()
        assert detections(whole) == 3


def test_an_applied_edit_is_kept_for_the_next_visit_until_reverted(panel_app, dist, policy_reports, tmp_path):
    app, page = panel_app, panel_app.page
    open_panel(app)
    original = (dist / "py" / "boxes.py").read_text()
    replace_text(app, original.replace(NMS_RETURN, "return np.array(keep[:1], dtype=np.int64)"))
    page.keyboard.press("ControlOrMeta+s")
    app.wait_until("JSON.parse(window.pylens.stats()).result.detections.length === 1")
    expect(page.locator("#code-toggle")).to_have_text("Code (1 edited)", timeout=APP_MS)
    expect(page.locator("#code-revert")).to_be_enabled()
    # Taken away: one diff, which `git apply` takes in a clone of the app.
    with page.expect_download() as download:
        page.locator("#code-download").click()
    diff = tmp_path / download.value.suggested_filename
    download.value.save_as(diff)
    assert diff.name == "pylens-edits.diff"
    assert f"-    {NMS_RETURN}\n" in diff.read_text() and diff.read_text().startswith("--- a/py/boxes.py\n")
    subprocess.run(["git", "apply", "--check", str(diff)], cwd=ROOT, check=True)
    # The next visit runs the edit, and says it is there.
    app.visit()
    show_demo(app)
    app.wait_until("JSON.parse(window.pylens.stats()).result.detections.length === 1")  # once the edit is taken
    expect(page.locator("#code-toggle")).to_have_text("Code (1 edited)", timeout=APP_MS)
    open_panel(app)
    expect(page.locator("#code-module option:checked")).to_have_text("boxes.py (edited)", timeout=APP_MS)
    expect(editor_end(app)).to_contain_text("keep[:1]")
    # Reverted: the deployed module runs again, now and on the next visit.
    page.locator("#code-revert").click()
    expect(page.locator("#code-status")).to_contain_text("Reverted py/boxes.py", timeout=APP_MS)
    expect(page.locator("#code-toggle")).to_have_text("Code", timeout=APP_MS)
    expect(page.locator("#code-download")).to_be_disabled()
    show_demo(app)
    assert detections(app) == 3
    app.visit()
    show_demo(app)
    assert detections(app) == 3 and page.locator("#error").is_hidden()
    assert page.evaluate("window.cspViolations") == [] and policy_reports == []


def test_an_edit_made_on_a_module_a_new_deploy_changed_is_not_applied(panel_app):
    app, page = panel_app, panel_app.page
    # An edit kept from an earlier deploy, whose boxes.py differed from this one's.
    page.evaluate("""() => new Promise((resolve, reject) => {
        const opening = indexedDB.open("pylens-code", 1);
        opening.onupgradeneeded = () => opening.result.createObjectStore("edits", { keyPath: "path" });
        opening.onsuccess = () => {
            const edit = { path: "py/boxes.py", base: "# an earlier deploy's boxes.py\\n", text: "# my edit\\n" };
            const put = opening.result.transaction("edits", "readwrite").objectStore("edits").put(edit);
            put.onsuccess = resolve;
            put.onerror = reject;
        };
    })""")
    app.visit()
    expect(page.locator("#error-text")).to_contain_text("changed py/boxes.py since you edited it")
    show_demo(app)
    assert detections(app) == 3  # this deploy's code runs
    open_panel(app)
    expect(page.locator("#code-module option:checked")).to_have_text("boxes.py (edit not applied)", timeout=APP_MS)
    expect(page.locator("#code-editor .cm-content")).to_contain_text("# my edit")  # not lost
    page.locator("#code-revert-all").click()
    expect(page.locator("#code-toggle")).to_have_text("Code", timeout=APP_MS)
    expect(editor_end(app)).to_contain_text(NMS_RETURN)


def test_a_link_to_an_edit_runs_it_once_the_visitor_confirms(panel_app, dist, policy_reports):
    app, page = panel_app, panel_app.page
    app.visit()
    open_panel(app)
    original = (dist / "py" / "boxes.py").read_text()
    replace_text(app, original.replace(NMS_RETURN, "return np.array(keep[:1], dtype=np.int64)"))
    page.keyboard.press("ControlOrMeta+s")
    expect(page.locator("#code-toggle")).to_have_text("Code (1 edited)", timeout=APP_MS)
    page.locator("#code-share").click()
    expect(page.locator("#code-link")).to_be_visible(timeout=APP_MS)
    link = page.locator("#code-link").input_value()
    assert "#edits=" in link and "?" not in link and len(link) < 1000
    page.locator("#code-revert-all").click()
    expect(page.locator("#code-toggle")).to_have_text("Code", timeout=APP_MS)
    # Opened and declined: nothing changes, and the address no longer holds the edits.
    asked: list[str] = []

    def answer(accept: bool):
        def on_dialog(dialog) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()
        page.once("dialog", on_dialog)

    for visits, accept in enumerate((False, True), 1):
        answer(accept)
        page.goto("about:blank")
        page.goto(link)
        app.wait_until("window.pylens && window.pylens.ready", app.READY_TIMEOUT_MS)
        for _ in range(600):
            if len(asked) == visits:
                break
            page.wait_for_timeout(50)
        assert len(asked) == visits and "py/boxes.py" in asked[-1]
        assert "#" not in page.url
        # Accepted: the edit runs, and is kept as the visitor's own.
        expect(page.locator("#code-toggle")).to_have_text("Code (1 edited)" if accept else "Code", timeout=APP_MS)
        show_demo(app)
        assert detections(app) == (1 if accept else 3)
    open_panel(app)
    page.locator("#code-revert-all").click()
    expect(page.locator("#code-toggle")).to_have_text("Code", timeout=APP_MS)
    assert page.evaluate("window.cspViolations") == [] and policy_reports == []
