"""A real browser opens formgrader on a graded class: no script from a submission runs.

A scratch course of unit 03 is graded (segkit.course.grading.grade_class, no sandbox) with an honest
classmate and an attacker whose markdown and outputs carry scripts that would, from the instructor's
browser, set a marker, rewrite every grade through formgrader's API and write a file into the course
through Jupyter's contents API. JupyterLab with nbgrader's formgrader serves the course on a free
loopback port; headless Chromium (Selenium) opens formgrader's views of both submissions and the
feedback pages. Asserted: no marker, no payload in the console or as a live handler in the page, the
gradebook's grades unchanged, no file written.

Needs Chromium and its driver (Debian: ``apt-get install chromium chromium-driver``) and selenium;
skipped with the reason otherwise. ``SEGKIT_BROWSER_UNSANITIZED=1`` grades and serves without
sanitizing (both layers off) to show the test fails then.
"""
from __future__ import annotations

import base64
import copy
import importlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from segkit.course import grading
from segkit.course.authoring.release import generate, make_scratch_course, nbgrader_api
from segkit.course.config import Course

REPO = Path(__file__).resolve().parents[1]
UNIT = "03-measuring-quality"
TOKEN = "segkitpayload"  # in every payload, so the page and the console can be searched for it
UNSANITIZED = os.environ.get("SEGKIT_BROWSER_UNSANITIZED") == "1"
pytestmark = [pytest.mark.browser, pytest.mark.slow]

# What each payload runs in the instructor's browser: a marker, every grade rewritten (the attacker
# full marks, classmates zero) through formgrader's API, a file written through the contents API.
ATTACK = """(async function () {
  var v = "VECTOR";
  console.log("%s ran: " + v);
  window.segkitMarker = (window.segkitMarker || []).concat([v]);
  try { localStorage.setItem("segkit-marker-" + v, "1"); } catch (e) {}
  var base = location.pathname.split("/formgrader/")[0];
  var subs = await (await fetch(base + "/formgrader/api/submitted_notebooks/UNIT/UNIT")).json();
  var xsrf = decodeURIComponent((document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "");
  var headers = {"X-XSRFToken": xsrf, "Content-Type": "application/json"};
  for (var s of subs) {
    var grades = await (await fetch(base + "/formgrader/api/grades?submission_id=" + s.id)).json();
    for (var g of grades) {
      await fetch(base + "/formgrader/api/grade/" + g.id, {method: "PUT", headers: headers,
        body: JSON.stringify({manual_score: s.student === "attacker" ? g.max_score : 0, extra_credit: 0})});
    }
  }
  await fetch(base + "/api/contents/segkit-written-" + v + ".txt", {method: "PUT", headers: headers,
    body: JSON.stringify({type: "file", format: "text", content: "written by a submission"})});
})();""".replace("UNIT", UNIT) % TOKEN


def _js(vector: str) -> str:
    """``/*TOKEN*/eval(atob('...'))``: the attack, with no space or double quote (fits any attribute)."""
    code = base64.b64encode(ATTACK.replace("VECTOR", vector).encode()).decode()
    return f"/*{TOKEN}*/eval(atob('{code}'))"


def _attacker(lesson: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The lesson with its stubs untouched (0 points), a markdown cell and a cell of rich outputs."""
    nb = copy.deepcopy(lesson)
    markdown = (f"My answer.\n\n<script>{_js('md-script')}</script>\n\n<img src=x onerror=\"{_js('md-onerror')}\">\n\n"
                f"<svg onload=\"{_js('md-svg')}\"></svg>\n\n<details open ontoggle=\"{_js('md-details')}\">notes</details>\n\n"
                f"<a href=\"javascript:{_js('md-link')}\">see the paper</a>")
    png = base64.b64encode(b"not a png").decode()  # a broken image fires onerror
    code = f"""from IPython.display import display
display({{"text/html": {f'<script>{_js("out-html")}</script><img src=x onerror="{_js("out-html-onerror")}">'!r}}}, raw=True)
display({{"application/javascript": {_js("out-javascript")!r}}}, raw=True)
display({{"text/markdown": {f'<img src=x onerror="{_js("out-markdown")}">'!r}}}, raw=True)
display({{"image/svg+xml": {f'<svg xmlns="http://www.w3.org/2000/svg" onload="{_js("out-svg")}"/>'!r}}}, raw=True)
display({{"image/png": {png!r}}}, metadata={{"image/png": {{"width": "1 onerror=" + {_js("out-png-width")!r}}}}}, raw=True)
print("plain text is kept")
"""
    first_answer = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    nb.cells[first_answer:first_answer] = [nbformat.v4.new_markdown_cell(markdown), nbformat.v4.new_code_cell(code)]
    return nb


def _honest(course: Course) -> nbformat.NotebookNode:
    """The lesson with the solution's answers, as a learner who solved it would hand it in (7 / 7)."""
    lesson = nbformat.read(str(course.release_notebook(UNIT)), as_version=4)
    solution = {c.get("id"): c for c in nbformat.read(str(course.source_notebook(UNIT)), as_version=4).cells}
    for cell in lesson.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", "", solution[cell.id].source, flags=re.M)
    return lesson


def _browser():
    """A headless Chromium driven by Selenium, or a skip with the reason."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements.txt)")
    binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.skip("no Chromium and chromedriver found (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--allow-file-access-from-files"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    from selenium.webdriver.chrome.service import Service

    return webdriver.Chrome(options=options, service=Service(executable_path=driver_path))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _grades(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return (con.execute("select id, auto_score, manual_score, extra_credit, needs_manual_grade from grade order by id").fetchall()
                + con.execute("select id, auto_comment, manual_comment from comment order by id").fetchall())


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The scratch course, graded: ``{course, outcomes, submission ids}``."""
    browser = _browser()  # skip before spending a minute grading
    browser.quit()
    course = make_scratch_course(Course(REPO), tmp_path_factory.mktemp("browser") / "course", [UNIT])
    mp = pytest.MonkeyPatch()
    if UNSANITIZED:
        release = importlib.import_module("segkit.course.authoring.release")
        record = importlib.import_module("segkit.course.grading.record")  # the package exports a function of that name
        mp.setattr(record, "sanitize_notebook", lambda nb, **_: (nbformat.from_dict(nb), []))
        configure = release.configure
        mp.setattr(release, "configure", lambda c, root: (configure(c, root), setattr(c.HTMLExporter, "sanitize_html", False)))
        with open(course.root / "nbgrader_config.py", "a") as config:
            config.write("\nget_config().HTMLExporter.sanitize_html = False  # noqa: F821\n")
    try:
        generate(nbgrader_api(course.root), UNIT)
        lesson = nbformat.read(str(course.release_notebook(UNIT)), as_version=4)
        paths = {}
        for student, nb in {"attacker": _attacker(lesson), "honest": _honest(Course(REPO))}.items():
            path = course.root / "submitted" / student / UNIT / f"{UNIT}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(nb, str(path))
            paths[student] = path
        outcomes = grading.grade_class(course, UNIT, paths, jobs=2, mode=grading.Mode("none", "browser test"),
                                       limits=grading.Limits(cell_timeout=60), progress=False)
    finally:
        mp.undo()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gb:
        ids = {s: gb.find_submission_notebook(UNIT, UNIT, s).id for s in paths}
    return dict(course=course, outcomes={o.student: o for o in outcomes}, ids=ids)


@pytest.fixture(scope="module")
def server(graded):
    """JupyterLab with formgrader serving the scratch course on a free loopback port."""
    root = graded["course"].root
    port, token = _free_port(), "segkit-browser-test"
    config = root.parent / "jupyter-config"  # the instructor's own Jupyter settings stay out
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": True}}}))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(root.parent / "jupyter-runtime")}
    command = [str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root"]
    log = open(root.parent / "jupyter.log", "w")
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("JupyterLab did not start:\n" + (root.parent / "jupyter.log").read_text()[-3000:])
            time.sleep(0.5)
    yield dict(url=url, token=token)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="module")
def visited(graded, server):
    """Formgrader's views of both submissions and both feedback pages, opened in Chromium."""
    root = graded["course"].root
    before = dict(grades=_grades(root / "gradebook.db"), files=_files(root))
    url, token = server["url"], server["token"]
    pages = [f"{url}/formgrader?token={token}", f"{url}/formgrader/gradebook/{UNIT}/{UNIT}"]
    pages += [f"{url}/formgrader/submissions/{graded['ids'][s]}/" for s in ("attacker", "honest")]
    pages += [(root / "feedback" / s / UNIT / f"{UNIT}.html").as_uri() for s in ("attacker", "honest")]
    browser = _browser()
    seen = dict(markers={}, live={}, console=[], titles={})
    start = time.perf_counter()
    try:
        browser.set_page_load_timeout(60)
        for page in pages:
            browser.get(page)
            time.sleep(4)  # the payloads are asynchronous: give them time to call the API
            seen["titles"][page] = browser.title
            seen["markers"][page] = browser.execute_script(
                "return [window.segkitMarker || [], Object.keys(window.localStorage || {}).filter(k => k.startsWith('segkit-marker'))]")
            seen["live"][page] = browser.execute_script(f"""
                const found = [];
                for (const el of document.querySelectorAll('*')) {{
                  for (const a of el.attributes) {{
                    const v = a.value.replace(/[\\x00-\\x20]/g, '').toLowerCase();
                    if (a.value.includes('{TOKEN}') && (a.name.startsWith('on') || v.startsWith('javascript:')))
                      found.push(el.tagName + ' ' + a.name);
                  }}
                  if (el.tagName === 'SCRIPT' && el.text.includes('{TOKEN}')) found.push('SCRIPT');
                }}
                return found;""")
            seen["console"] += [entry["message"] for entry in browser.get_log("browser")]
    finally:
        browser.quit()
    time.sleep(2)  # a request still in flight lands
    seen["seconds"] = time.perf_counter() - start
    return dict(seen, before=before, after=dict(grades=_grades(root / "gradebook.db"), files=_files(root)))


def test_the_class_is_graded_as_it_should_be(graded):
    honest, attacker = graded["outcomes"]["honest"], graded["outcomes"]["attacker"]
    assert honest.recorded_points == 7 and not honest.review, (honest.review, honest.scores)
    assert attacker.recorded_points == 0


def test_no_marker_was_set(visited):
    assert {page: m for page, m in visited["markers"].items() if m != [[], []]} == {}


def test_no_payload_is_live_in_any_page(visited):
    assert {page: found for page, found in visited["live"].items() if found} == {}


def test_no_payload_reached_the_console(visited):
    assert [m for m in visited["console"] if TOKEN in m] == []


def test_the_gradebook_is_unchanged(visited):
    assert visited["after"]["grades"] == visited["before"]["grades"]


def test_no_file_was_written(visited):
    assert visited["after"]["files"] - visited["before"]["files"] == set()


def test_formgrader_showed_the_submissions(visited, graded):
    """The views rendered (so the checks above looked at real pages), the payload as text."""
    titles = [t for page, t in visited["titles"].items() if "/formgrader/submissions/" in page]
    assert len(titles) == 2 and all("Formgrader" in t or UNIT in t for t in titles), titles
    html = (graded["course"].root / "feedback" / "attacker" / UNIT / f"{UNIT}.html").read_text()
    assert "plain text is kept" in html
