"""The course website (segkit/course/site.py).

The first part is fast and runs with ``make test``: what a unit page shows (the lesson's cells, the
solution's outputs where they reveal nothing), link rewriting, the execution cache on a tiny
throw-away course, and the leak scan on a planted line.

The tests marked ``site`` build the whole site (every solution notebook executed, or read from the
cache) and open every page in a real browser (Debian's Chromium through Selenium). They run only
when selected: ``make site-test`` (``pytest -m site tests/test_site.py``), which ``.ci/run`` calls
after ``make test``: the solution tests of ``make test`` leave their graded runs in the cache, so
no notebook runs again and the site test takes about 2 minutes (25 from an empty cache).
"""
from __future__ import annotations

import copy
import functools
import http.server
import os
import re
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from segkit.course import cells, site
from segkit.course.authoring import notebook as nb
from segkit.course.config import Course, CourseError
from segkit.course.nbgrader_settings import HIDDEN_BLOCK, QUIET_KERNEL_ENV

# sphinx-book-theme 1.4 uses an attribute Sphinx 11 removes; nothing to act on here.
# sphinx.ext.napoleon reads autodoc's options the way Sphinx 11 removes (Sphinx 9.0's own code).
pytestmark = [pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API modifications"),
              pytest.mark.filterwarnings("ignore:The mapping interface for autodoc options")]

COURSE = Course.find()
UNITS = COURSE.units()
SCREENSHOTS = COURSE.root / site.STAGE_DIR / "screenshots"


def _fake_run(unit: str) -> nbformat.NotebookNode:
    """``unit``'s solution notebook as if executed: every code cell printed its own id."""
    run = nb.read(COURSE.source_notebook(unit))
    for cell in run.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"output of {cell.id}\n")]
            cell.execution_count = 1
    return run


def _kind(cell) -> str:
    meta = cell.metadata.get("nbgrader", {})
    return "answer" if meta.get("solution") else "tests" if meta.get("grade") else "code"


@pytest.mark.parametrize("unit", UNITS)
def test_unit_page_shows_the_lesson_with_the_solution_outputs(unit):
    lesson, run = nb.read(COURSE.release_notebook(unit)), _fake_run(unit)
    page = site.site_notebook(lesson, run, unit=unit)
    assert [c.source for c in page.cells] == [c.source for c in lesson.cells], "a page shows the lesson's sources"
    text = nbformat.writes(page)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    solution = {c.id: c for c in run.cells}
    for cell in page.cells:
        if cell.cell_type != "code":
            continue
        source = solution[cell.id]
        hidden = bool(HIDDEN_BLOCK.search(source.source))
        if _kind(source) == "answer":
            assert cell.outputs == [], f"{cell.id}: an answer cell's output comes from the solution"
            assert site.ANSWER_TAG in cell.metadata["tags"]
        elif _kind(source) == "tests" and (hidden or cells.is_stretch(source)):
            assert cell.outputs == [], f"{cell.id}: a test cell with hidden tests may print what they found"
        else:
            assert cell.outputs == source.outputs, f"{cell.id}: the solution's output is shown"


def test_unit_page_drops_failed_cells_and_claim_records():
    unit = UNITS[-1]
    run = _fake_run(unit)
    code_cells = [c for c in run.cells if c.cell_type == "code" and _kind(c) == "code"]
    failed, claimed = code_cells[0], code_cells[1]
    failed.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=["secret_code()"])]
    claimed.outputs = [nbformat.v4.new_output("display_data", data={
        "text/plain": "✓ a claim", "application/vnd.segkit.claim+json": {"ok": True}})]
    page = {c.id: c for c in site.site_notebook(nb.read(COURSE.release_notebook(unit)), run, unit=unit).cells}
    assert page[failed.id].outputs == [], "a traceback quotes code: never shown"
    assert dict(page[claimed.id].outputs[0].data) == {"text/plain": "✓ a claim"}


def test_unit_page_refuses_a_stale_lesson():
    unit = UNITS[0]
    lesson = nb.read(COURSE.release_notebook(unit))
    lesson.cells.append(nb.code("print(1)", id="not-in-the-solution"))
    with pytest.raises(CourseError, match="release the unit"):
        site.site_notebook(lesson, _fake_run(unit), unit=unit)


def test_links_point_at_pages_or_the_repository():
    links = site.LinkMap(COURSE)
    repo = COURSE.repository_url
    unit = UNITS[0]
    assert links.rewrite(f"lessons/{unit}/{unit}.ipynb", "README.md", "index.md") == f"units/{unit}.ipynb"
    assert links.rewrite(f"../{UNITS[1]}/{UNITS[1]}.ipynb#sec", f"lessons/{unit}/{unit}.ipynb", f"units/{unit}.ipynb") == f"{UNITS[1]}.ipynb#sec"
    assert links.rewrite("../README.md#two-commands", "docs/guide.md", "guides/guide.md") == "../index.md#two-commands"
    assert links.rewrite("datasets/README.md#real", "README.md", "index.md") == f"{repo}/blob/main/datasets/README.md#real"
    assert links.rewrite("segkit", "README.md", "index.md") == f"{repo}/tree/main/segkit"
    assert links.rewrite("https://example.org/a", "README.md", "index.md") == "https://example.org/a"
    assert links.rewrite(site.COLAB_BADGE, "README.md", f"units/{unit}.ipynb") == f"../{site.LOCAL_BADGE}"
    badge = COURSE.badge_markdown(unit)
    assert links.markdown(badge, f"lessons/{unit}/{unit}.ipynb", f"units/{unit}.ipynb") == \
        f"[![Open In Colab](../{site.LOCAL_BADGE})]({COURSE.colab_url(unit)})"
    assert links.markdown(f'<a href="lessons/{unit}/{unit}.ipynb">x</a>', "README.md", "index.md") == f'<a href="units/{unit}.html">x</a>'


def test_pages_url_from_the_repository_url():
    assert site.pages_url("https://github.com/Segkit-Course/course") == "https://segkit-course.github.io/course/"
    assert site.pages_url("https://github.com/me/me.github.io") == "https://me.github.io/"


def test_sphinx_warnings_fail_on_pages_not_on_docstrings():
    log = ("/x/segkit/data/shapes.py:docstring of segkit.data.shapes.ShapesDataset:6: ERROR: Unexpected indentation.\n"
           "/x/.cache/site/src/index.md:24: WARNING: 'myst' cross-reference target not found\n")
    fatal, docstrings = site.sphinx_warnings(log)
    assert len(fatal) == 1 and "index.md" in fatal[0] and len(docstrings) == 1


# ---- the execution cache, on a throw-away course ---------------------------------------------------


def _tiny_course(root: Path, body: str, tags=()) -> Course:
    root.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "nbgrader_config.py"):
        shutil.copy2(COURSE.root / name, root / name)
    cells = [
        nb.code(body, id="run", tags=tags),
        nb.answer("def one():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", id="one"),
        nb.tests("assert one() == 1", id="test_one", points=1),
        nb.tests("assert one() == 2, 'beyond the solution'", id="test_stretch", points=1, tags=["stretch"]),
    ]
    nb.write(nb.new_notebook(cells), root / "solutions" / "00-demo" / "00-demo.ipynb")
    return Course(root)


def test_execute_unit_runs_once_per_change(tmp_path):
    env_names = sorted({*QUIET_KERNEL_ENV, "OMP_NUM_THREADS"})
    body = f"import os, uuid\nprint(uuid.uuid4().hex, *[os.environ.get(k) for k in {env_names!r}])"
    course = _tiny_course(tmp_path / "course", body)
    cache = tmp_path / "cache"
    first = site.execute_unit(course, "00-demo", cache_dir=cache)
    words = first.cells[0].outputs[0].text.split()
    assert dict(zip(env_names, words[1:])) == {**QUIET_KERNEL_ENV, "OMP_NUM_THREADS": "1"}, \
        "the kernel runs with the grader's quiet environment and one thread"
    stretch = first.cells[3]
    assert stretch.outputs[0].output_type == "error" and "raises-exception" not in stretch.metadata.get("tags", [])
    again = site.execute_unit(course, "00-demo", cache_dir=cache)
    assert again.cells[0].outputs == first.cells[0].outputs, "an unchanged unit is read from the cache"
    source = nb.read(course.source_notebook("00-demo"))
    source.cells[0].source += "\n# changed"
    nb.write(source, course.source_notebook("00-demo"))
    changed = site.execute_unit(course, "00-demo", cache_dir=cache)
    assert changed.cells[0].outputs[0].text.split()[0] != words[0], "a changed unit runs again"


def test_execute_unit_honours_timeout_tags(tmp_path):
    course = _tiny_course(tmp_path / "course", "import time\ntime.sleep(30)", tags=["timeout-2"])
    start = time.monotonic()
    with pytest.raises(CourseError, match="solution notebook failed"):
        site.execute_unit(course, "00-demo", cache_dir=tmp_path / "cache")
    assert time.monotonic() - start < 25, "the cell's timeout-2 tag applies"


def test_a_run_made_elsewhere_serves_as_the_cache_entry(tmp_path):
    course = _tiny_course(tmp_path / "course", "print('run by the site')")
    cache = tmp_path / "cache"
    graded = nb.read(course.source_notebook("00-demo"))
    graded.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="run by the grader\n")]
    path = site.store_execution(course, "00-demo", graded, seconds=12.5, cache_dir=cache)
    shown = site.execute_unit(course, "00-demo", cache_dir=cache)  # no kernel starts: read back
    assert shown.cells[0].outputs[0].text == "run by the grader\n"
    assert shown.metadata[site.EXECUTION_METADATA]["ran_by"] == "grading"
    site.store_execution(course, "00-demo", graded, key="made from older files", cache_dir=cache)
    assert site._read_cached(path, site.execution_key(course, "00-demo")) is None, "a run of older files is not used"


def test_a_failing_unit_does_not_stop_the_others(tmp_path):
    course = _tiny_course(tmp_path / "course", "print('fine')")
    broken = nb.read(course.source_notebook("00-demo"))
    broken.cells[0].source = "raise ValueError('broken on purpose')"
    nb.write(broken, course.source_dir / "01-broken" / "01-broken.ipynb")
    nb.write(nb.read(course.source_notebook("00-demo")), course.source_notebook("02-demo"))
    with pytest.raises(CourseError, match="01-broken") as failed:
        site.execute_units(course, course.units(), log=lambda line: None)
    assert "00-demo" not in str(failed.value)
    assert sorted(p.name for p in (course.root / site.EXECUTED_DIR).glob("*.ipynb")) == ["00-demo.ipynb", "02-demo.ipynb"]


def test_cache_key_follows_segkit_and_the_unit(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path / "course", "print(1)")
    key = site.execution_key(course, "00-demo")
    (course.source_dir / "00-demo" / "wrong_answers.py").write_text("WRONG_ANSWERS = []\n")
    assert site.execution_key(course, "00-demo") == key, "wrong_answers.py does not change a run"
    (course.source_dir / "00-demo" / "data.txt").write_text("x")
    assert site.execution_key(course, "00-demo") != key, "a file the notebook may read does"
    key = site.execution_key(course, "00-demo")
    monkeypatch.setattr(site, "_shared_digest", lambda root: b"segkit changed")
    assert site.execution_key(course, "00-demo") != key, "segkit's code does"


# ---- the leak scan ----------------------------------------------------------------------------------


def test_secret_lines_cover_every_unit():
    public = site.public_text(COURSE)
    for unit in UNITS:
        secrets, _ = site.secret_lines(COURSE, unit, public)
        kinds = {s.kind for s in secrets}
        assert "solution" in kinds, f"{unit}: no solution line to scan for"
        assert all(len(s.line) >= site.MIN_SECRET_CHARS and s.line not in public for s in secrets)


def test_leak_scan_finds_a_planted_line(tmp_path):
    public = site.public_text(COURSE)
    secrets = {kind: next(s for u in UNITS for s in site.secret_lines(COURSE, u, public)[0] if s.kind == kind)
               for kind in ("solution", "hidden test")}
    (tmp_path / "clean.html").write_text("<p>nothing here</p>")
    assert site.leak_scan(COURSE, tmp_path).found == []
    for kind, secret in secrets.items():
        # split into highlighted tokens and HTML-escaped, as a code cell is rendered
        tokens = "".join(f'<span class="n">{site.html.escape(t)}</span> ' for t in secret.line.split(" "))
        (tmp_path / f"{kind}.html").write_text(f"<pre>{tokens}</pre>")
    report = site.leak_scan(COURSE, tmp_path)
    assert {(s.kind, f) for s, f in report.found} >= {("solution", "solution.html"), ("hidden test", "hidden test.html")}
    assert report.checked["solution"] > 0 and report.checked["hidden test"] > 0


# ---- the built site: `make site-test` -----------------------------------------------------------------


def _selected(config) -> bool:
    return "site" in (config.getoption("markexpr") or "")


@pytest.fixture(scope="session")
def built(request):
    if not _selected(request.config):
        pytest.skip("builds the whole site: run `make site-test` (pytest -m site tests/test_site.py; .ci/run runs it after make test)")
    start = time.perf_counter()
    report = site.build(COURSE, jobs=min(2, os.cpu_count() or 1))
    report.seconds = time.perf_counter() - start
    print(report.summary(), f"\nbuilt in {report.seconds:.0f} s")
    return report


PAGES = ["index.html", *(f"units/{u}.html" for u in UNITS), "api/index.html",
         *(f"guides/{p.stem}.html" for p in site.guides(COURSE))]


@pytest.mark.site
def test_site_has_every_page(built):
    for page in PAGES:
        assert (built.out / page).is_file(), f"{page} was not built"
    for name in site.api_modules():
        assert (built.out / "api" / f"{name}.html").is_file()
    assert built.images >= len(UNITS), "every unit has figures"


@pytest.mark.site
def test_site_shows_nothing_grading_keeps_secret(built):
    leaks = built.leaks
    print(leaks.summary())
    assert leaks.found == [], leaks.summary()
    assert leaks.checked["solution"] > 100 and leaks.checked["hidden test"] > 100, leaks.summary()
    names = {p.name for p in built.out.rglob("*")}
    assert site.WRONG_ANSWERS_FILE not in names and not any(n.endswith(".py") for n in names)


@pytest.mark.site
def test_warm_rebuild_executes_nothing(built):
    start = time.perf_counter()
    again = site.build(COURSE, jobs=1)
    seconds = time.perf_counter() - start
    print(f"warm rebuild: {seconds:.0f} s ({again.sphinx_seconds:.0f} s of Sphinx)")
    assert not any(again.ran.values()), f"re-executed: {[u for u, r in again.ran.items() if r]}"


# ---- in a real browser ----------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def server(built):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built.out)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser(built):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    missing = [what for what, ok in (("chromium", chromium), ("chromedriver", driver), ("selenium", webdriver)) if not ok]
    if missing:
        reason = (f"no real browser here ({', '.join(missing)} missing): apt-get install chromium chromium-driver, "
                  "pip install -r requirements.txt (.ci/run installs the browser)")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--hide-scrollbars", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    session.set_page_load_timeout(60)
    yield session
    session.quit()


def _ids(path: Path, cache: dict) -> set[str]:
    if path not in cache:
        cache[path] = set(re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8")))
    return cache[path]


_ID_CACHE: dict = {}


@pytest.mark.site
@pytest.mark.parametrize("page", PAGES)
def test_page_in_a_real_browser(page, built, server, browser):
    browser.get_log("browser")  # start with an empty console
    browser.get(server + page)
    # every image, even those a lazy loader would leave for later, loaded and drawn
    browser.execute_script("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; });")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not browser.execute_script("return Array.from(document.images).every(i => i.complete)"):
        time.sleep(0.2)
    images = browser.execute_script("return Array.from(document.images).map(i => [i.currentSrc || i.src, i.naturalWidth])")
    if page == "index.html" or page.startswith("units/"):
        assert images, f"{page}: no image at all (the Colab badges, the unit's figures)"
    broken = [src for src, width in images if not width]
    assert not broken, f"{page}: images that did not load: {broken}"
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"{page}: JavaScript console errors: {errors}"

    links = browser.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    unresolved = []
    for link in {link for link in links if link.startswith(server)}:
        parts = urlsplit(link)
        target = built.out / unquote(parts.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            unresolved.append(link)
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids(target, _ID_CACHE):
            unresolved.append(link)
    assert not unresolved, f"{page}: internal links that resolve to nothing: {sorted(unresolved)}"

    if page.startswith("units/"):
        unit = Path(page).stem
        colab = {link for link in links if link.startswith("https://colab.research.google.com/")}
        assert colab == {COURSE.colab_url(unit)}, f"{page}: the Colab badge should open lessons/{unit}, got {colab}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = page.replace("/", "-").removesuffix(".html")
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    if browser.execute_script("const f = document.querySelector('.cell_output img'); if (f) f.scrollIntoView(); return !!f;"):
        browser.save_screenshot(str(SCREENSHOTS / f"{name}-figure.png"))  # the first executed figure
