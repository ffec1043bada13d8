"""The course as a website: every lesson with its executed figures, nothing grading keeps secret.

``python -m segkit.course.site build`` (``make site``) builds a static site into ``_site/``:

- the home page is ``README.md``; one page per unit found in ``solutions/``; one page per guide in
  ``docs/*.md``; the segkit API reference from its docstrings (no source code is shown);
- a unit's page shows the **lesson's** cells (answer cells with the stub, test cells without their
  hidden tests) with the outputs of the **solution**, run by :func:`execute_unit`; the outputs of
  answer cells, and of test cells that hold hidden tests or failed (the capstone's stretch tier),
  are left out, since the solution or a hidden test produced them;
- :func:`execute_unit` runs a solution notebook the way the grader's kernels run (quiet
  environment, one torch thread, ``timeout-NNN`` tags) and keeps the result in ``.cache/executed/``
  under a key of the unit's files, segkit's files, ``datasets/`` and the Python/torch/numpy
  versions: an unchanged unit is not run again, a changed one is; :func:`store_execution` keeps a
  run made elsewhere (the course tests' graded run of each solution) as that cache entry;
- Sphinx with MyST-NB renders the staged sources (``.cache/site/src``, settings in
  ``docs/site/conf.py``); formulas become MathML at build time, so no page loads anything from
  another host;
- :func:`leak_scan` then searches every built file for every line of every solution region,
  hidden test and ``wrong_answers.py``: a build that shows one fails.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import copy
import functools
import hashlib
import html
import multiprocessing
import os
import platform
import posixpath
import re
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

import nbformat
from nbformat import NotebookNode

from segkit.course import cells
from segkit.course.config import Course, CourseError
from segkit.course.nbgrader_settings import HIDDEN_BLOCK

SITE_DIR = "_site"
EXECUTED_DIR = Path(".cache") / "executed"  # one executed solution notebook per unit
STAGE_DIR = Path(".cache") / "site"  # src/: what Sphinx reads; doctrees/: its incremental state
CONF_DIR = Path("docs") / "site"
GUIDES_DIR = "docs"
WRONG_ANSWERS_FILE = "wrong_answers.py"
EXECUTION_METADATA = "segkit_execution"

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_BADGE = "colab-badge.svg"  # beside the staged pages; Sphinx copies it into _images/
HTML_BADGE = re.compile(r'<a href="([^"]+)"[^>]*>\s*<img src="' + re.escape(COLAB_BADGE) + r'"[^>]*/?>\s*</a>')
MARKDOWN_URL = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")  # [text](url "title")
HTML_HREF = re.compile(r'(<a\s[^>]*?href=")([^"]+)(")')
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

# Tags a unit page gives answer and test cells, for the stylesheet (docs/site/_static/course.css).
ANSWER_TAG, TESTS_TAG = "site-answer", "site-tests"
# Only these output types reach a page (the claim records' own MIME type is for the tests).
SHOWN_MIME = ("text/html", "image/png", "image/jpeg", "image/svg+xml", "text/markdown", "text/latex", "text/plain")
SITE_NOTE = """\
:::{{note}}
This is the lesson as learners get it, shown with the outputs of the course's reference solution
(run on {machine}). Answer cells show the stub you replace; test cells show their visible checks
only. Open it in Colab with the badge above, or in JupyterLab with `make lab`.
:::"""

# The site runs the trusted solutions, so a cell's timeout (its timeout-NNN tag, the grader's
# wall-clock limit on an idle machine) only has to catch a hung notebook: by default the build
# allows three times as long, so that a machine busy with other work still builds the site.
SITE_TIMEOUT_SCALE = 3.0

# Leak scan: lines shorter than this (after collapsing whitespace) are too common to mean anything.
MIN_SECRET_CHARS = 12
TEXT_SUFFIXES = {".html", ".txt", ".js", ".json", ".ipynb", ".svg", ".xml", ".css", ".md", ".py"}


# ---- execution ----------------------------------------------------------------------------------


def kernel_env(home: str) -> dict[str, str]:
    """The solution kernels' environment: the grader's own (``grading.environment.kernel_env``:
    quiet, one thread, nothing inherited), with ``home`` as ``$HOME``."""
    from segkit.course.grading.environment import kernel_env as grading_kernel_env

    return grading_kernel_env(home=home)


def _kernel_settings() -> list[tuple[str, str]]:
    """The kernel environment's settings that are not paths (part of the cache key)."""
    return sorted((k, v) for k, v in kernel_env("/home").items() if k != "PATH" and not v.startswith("/"))


def _digest_tree(digest: Any, root: Path, skip: Callable[[Path], bool] = lambda rel: False) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts or path.suffix == ".pyc" or skip(rel):
            continue
        digest.update(rel.as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())


@functools.lru_cache(maxsize=4)
def _shared_digest(root: Path) -> bytes:
    """What every unit's run depends on: segkit's files (not this module, which only builds
    pages: the kernel settings stand for it), datasets/ (not its cache) and versions."""
    import segkit

    digest = hashlib.sha256(repr(_kernel_settings()).encode())
    versions = [f"python {platform.python_version()}"]
    for package in ("torch", "torchvision", "numpy", "matplotlib"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} -")
    digest.update("\n".join(versions).encode())
    package = Path(segkit.__file__).resolve().parent
    _digest_tree(digest, package, skip=lambda rel: (package / rel).resolve() == Path(__file__).resolve())
    if (root / "datasets").is_dir():
        _digest_tree(digest, root / "datasets", skip=lambda rel: rel.parts[0] == "cache")
    return digest.digest()


def execution_key(course: Course, unit: str) -> str:
    """A hash of everything a run of ``unit``'s solution depends on (see the module docstring)."""
    digest = hashlib.sha256(_shared_digest(course.root))
    _digest_tree(digest, course.source_dir / unit,
                 skip=lambda rel: rel.name == WRONG_ANSWERS_FILE or ".ipynb_checkpoints" in rel.parts)
    return digest.hexdigest()


def _run_solution(course: Course, unit: str, timeout_scale: float = 1.0) -> NotebookNode:
    """Execute ``solutions/UNIT`` top to bottom in a scratch copy of its folder."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = nbformat.read(str(course.source_notebook(unit)), as_version=4)
    stretch = [c for c in notebook.cells if c.cell_type == "code" and cells.is_stretch(c)]
    for cell in stretch:  # beyond the reference solution: it may fail without failing the build
        cell.metadata["tags"] = [*cell.metadata.get("tags", []), "raises-exception"]
    with tempfile.TemporaryDirectory(prefix=f"segkit-site-{unit}-") as tmp:
        workdir = Path(tmp) / unit
        shutil.copytree(course.source_dir / unit, workdir,
                        ignore=shutil.ignore_patterns(WRONG_ANSWERS_FILE, ".ipynb_checkpoints", "__pycache__"))
        home = Path(tmp) / "home"
        home.mkdir()
        client = NotebookClient(notebook, timeout=cells.DEFAULT_CELL_TIMEOUT,
                                timeout_func=lambda cell: cells.timeout(cell) * timeout_scale,
                                resources={"metadata": {"path": str(workdir)}}, record_timing=False,
                                startup_timeout=180, extra_arguments=["--IPKernelApp.log_level=ERROR"])
        try:
            client.execute(env=kernel_env(str(home)))
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            raise CourseError(f"solutions/{unit}: the solution notebook failed, so its page cannot be built:\n{err}") from err
    for cell in stretch:
        cell.metadata["tags"].remove("raises-exception")
    return notebook


def _cache_path(course: Course, unit: str, cache_dir: Path | None) -> Path:
    return (Path(cache_dir) if cache_dir is not None else course.root / EXECUTED_DIR) / f"{unit}.ipynb"


def _read_cached(path: Path, key: str) -> NotebookNode | None:
    """The cached run at ``path`` if it was made under ``key``."""
    if not path.is_file():
        return None
    try:
        cached = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - a damaged cache entry is run again
        return None
    return cached if cached.metadata.get(EXECUTION_METADATA, {}).get("key") == key else None


def _cached_or_run(course: Course, unit: str, cache_dir: Path | None = None, refresh: bool = False,
                   timeout_scale: float = 1.0) -> tuple[NotebookNode, bool]:
    """The executed solution of ``unit`` and whether it was run now (False: from the cache)."""
    unit = course.require_unit(unit)
    path = _cache_path(course, unit, cache_dir)
    key = execution_key(course, unit)
    cached = None if refresh else _read_cached(path, key)
    if cached is not None:
        return cached, False
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    notebook = _run_solution(course, unit, timeout_scale)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _write_cached(path, notebook, key, {
        "wall_seconds": round(time.perf_counter() - start, 1),
        "kernel_cpu_seconds": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 1),
        "ran_by": "segkit.course.site",
    })
    return notebook, True


def _write_cached(path: Path, notebook: NotebookNode, key: str, facts: dict[str, Any]) -> None:
    notebook.metadata[EXECUTION_METADATA] = {
        "key": key, **facts, "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, one torch thread"}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.ipynb")
    nbformat.write(notebook, str(partial))
    os.replace(partial, path)


def store_execution(course: Course, unit: str, executed: NotebookNode, *, key: str | None = None,
                    seconds: float = 0.0, ran_by: str = "grading", cache_dir: Path | None = None) -> Path:
    """Keep ``executed``, a run of ``unit``'s solution notebook made elsewhere, as its cache entry,
    so that the site does not run the notebook again: the course tests store the run the grader
    made of each solution (tests/test_course_units.py), and ``make site`` after ``make test``
    executes nothing. ``key``: the :func:`execution_key` taken before the run started (default:
    now, for a run of the files as they are); its code cells are matched to the lesson's by cell id, and what a page shows of
    them is decided by :func:`shows_outputs` as for the site's own runs."""
    unit = course.require_unit(unit)
    path = _cache_path(course, unit, cache_dir)
    _write_cached(path, copy.deepcopy(executed), key or execution_key(course, unit),
                  {"wall_seconds": round(seconds, 1), "ran_by": ran_by})
    return path


def execute_unit(course: Course, unit: str, *, cache_dir: Path | None = None, refresh: bool = False,
                 timeout_scale: float = 1.0) -> NotebookNode:
    """``unit``'s solution notebook with its outputs, executed once per change.

    The run uses :func:`kernel_env` (the grader's quiet environment, one torch thread) and the
    per-cell timeouts of ``timeout-NNN`` tags; a cell tagged ``stretch`` may fail, any other error
    raises :class:`CourseError`. The result is kept in ``cache_dir`` (default ``.cache/executed``)
    with :func:`execution_key` in ``metadata.segkit_execution``: the next call with the same key
    reads it back instead of running the notebook (``refresh=True`` runs it anyway).
    ``timeout_scale`` multiplies every cell's timeout, for a machine that other work keeps busy
    (the tags are the grader's wall-clock limits on an idle one).
    """
    return _cached_or_run(course, unit, cache_dir, refresh, timeout_scale)[0]


def _execute_in_worker(root: str, unit: str, refresh: bool, timeout_scale: float) -> tuple[str, bool, float]:
    notebook, ran = _cached_or_run(Course(Path(root)), unit, refresh=refresh, timeout_scale=timeout_scale)
    return unit, ran, float(notebook.metadata[EXECUTION_METADATA].get("wall_seconds", 0.0))


def execute_units(course: Course, units: Iterable[str], *, jobs: int = 1, refresh: bool = False,
                  timeout_scale: float = 1.0, log: Callable[[str], None] = print) -> dict[str, bool]:
    """Bring every unit's cache entry up to date, ``jobs`` notebooks at a time (each in its own
    process and kernel); returns unit -> whether it was run now. A unit that fails does not stop
    the others (their runs are cached); the failures are raised together at the end."""
    units = list(units)
    ran = {unit: False for unit in units}
    failures: list[str] = []
    # Fresh entries are recognised here; only stale units go to the workers (a process each).
    stale = [unit for unit in units
             if refresh or _read_cached(_cache_path(course, unit, None), execution_key(course, unit)) is None]
    for unit in units:
        if unit not in stale:
            log(f"  {unit}: cached")

    def done(unit: str, result: Callable[[], tuple[str, bool, float]]) -> None:
        try:
            _, ran[unit], seconds = result()
        except CourseError as err:
            failures.append(str(err))
            log(f"  {unit}: FAILED")
            return
        log(f"  {unit}: {'executed in %.0f s' % seconds if ran[unit] else 'cached'}")

    if jobs <= 1 or len(stale) <= 1:
        for unit in stale:
            done(unit, functools.partial(_execute_in_worker, str(course.root), unit, refresh, timeout_scale))
    else:
        with concurrent.futures.ProcessPoolExecutor(min(jobs, len(stale)), mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_execute_in_worker, str(course.root), unit, refresh, timeout_scale): unit for unit in stale}
            for future in concurrent.futures.as_completed(futures):
                done(futures[future], future.result)
    if failures:
        raise CourseError("\n\n".join(failures))
    return ran


# ---- what a unit page shows -----------------------------------------------------------------------


def shows_outputs(solution_cell: NotebookNode) -> bool:
    """Whether a page may show the outputs the solution's run gave this cell: not for an answer
    cell (the solution printed them), nor a test cell with hidden tests (they may have printed),
    nor a cell whose run failed (a traceback quotes code)."""
    if cells.is_answer(solution_cell):
        return False
    if cells.is_test(solution_cell) and (HIDDEN_BLOCK.search(solution_cell.source) or cells.is_stretch(solution_cell)):
        return False
    return not any(output.output_type == "error" for output in solution_cell.get("outputs", []))


def _shown_output(output: NotebookNode) -> NotebookNode:
    output = copy.deepcopy(output)
    if output.output_type in ("display_data", "execute_result"):
        output.data = {mime: value for mime, value in output.data.items() if mime in SHOWN_MIME}
        output.metadata = {mime: value for mime, value in output.get("metadata", {}).items() if mime in SHOWN_MIME}
    return output


def site_notebook(lesson: NotebookNode, executed: NotebookNode, *, unit: str = "") -> NotebookNode:
    """The notebook a unit's page is built from: ``lesson``'s cells (what learners get), each code
    cell with the outputs its twin in ``executed`` (the solution's run) had, where
    :func:`shows_outputs` allows; answer and test cells tagged for the stylesheet."""
    runs = {cell.get("id"): cell for cell in executed.cells}
    page = copy.deepcopy(lesson)
    page.metadata = {key: page.metadata[key] for key in ("kernelspec", "language_info") if key in page.metadata}
    for cell in page.cells:
        if cell.cell_type != "code":
            continue
        run = runs.get(cell.get("id"))
        if run is None or run.cell_type != "code":
            raise CourseError(f"lessons/{unit}: cell {cell.get('id')!r} is not in the solution notebook: "
                              "release the unit (python -m segkit.course release)")
        tags = [t for t in cell.metadata.get("tags", []) if t not in ("raises-exception",)]
        if cells.is_answer(run):
            tags.append(ANSWER_TAG)
        elif cells.is_test(run):
            tags.append(TESTS_TAG)
        cell.metadata = {"tags": tags} if tags else {}
        if shows_outputs(run):
            cell.outputs = [_shown_output(o) for o in run.outputs]
            cell.execution_count = run.get("execution_count")
        else:
            cell.outputs, cell.execution_count = [], None
    return page


# ---- links, badges and the staged Sphinx sources ---------------------------------------------------


@dataclass
class LinkMap:
    """Maps the repository's relative links to the site's pages (or to the repository on GitHub)."""

    course: Course
    images: set[str] = field(default_factory=set)  # repository paths of images to stage

    def page_of(self, repo_path: str) -> str | None:
        """The staged source of a repository file, when it is a page of the site."""
        parts = repo_path.strip("/").split("/")
        if repo_path == "README.md":
            return "index.md"
        if len(parts) == 2 and parts[0] == GUIDES_DIR and parts[1].endswith(".md"):
            return f"guides/{parts[1]}"
        if parts[0] == self.course.release_dir.name and len(parts) >= 2 and parts[1] in self.course.units():
            return f"units/{parts[1]}.ipynb"
        return None

    def rewrite(self, url: str, source: str, page: str, *, raw_html: bool = False) -> str:
        """``url`` as written in the repository file ``source``, for the staged page ``page``."""
        if url == COLAB_BADGE:
            return posixpath.relpath(LOCAL_BADGE, posixpath.dirname(page) or ".")
        if SCHEME.match(url) or url.startswith(("#", "/")):
            return url
        path, hash_, fragment = url.partition("#")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
        if target.startswith(".."):
            return url
        here = posixpath.dirname(page) or "."
        if posixpath.splitext(target)[1].lower() in IMAGE_SUFFIXES and (self.course.root / target).is_file():
            self.images.add(target)
            return posixpath.relpath(f"_repo/{target}", here) + hash_ + fragment
        site_page = self.page_of(target)
        if site_page is not None:
            if raw_html:  # Sphinx does not resolve links in raw HTML: point at the built file
                site_page = posixpath.splitext(site_page)[0] + ".html"
            return posixpath.relpath(site_page, here) + hash_ + fragment
        kind = "tree" if (self.course.root / target).is_dir() else "blob"
        return f"{self.course.repository_url}/{kind}/main/{target}" + hash_ + fragment

    def markdown(self, text: str, source: str, page: str) -> str:
        """Rewrite every link of a markdown text; the Colab badge in HTML becomes markdown."""
        text = HTML_BADGE.sub(lambda m: f"[![Open In Colab]({COLAB_BADGE})]({m[1]})", text)
        text = MARKDOWN_URL.sub(lambda m: m[1] + self.rewrite(m[2], source, page) + m[3], text)
        return HTML_HREF.sub(lambda m: m[1] + self.rewrite(html.unescape(m[2]), source, page, raw_html=True) + m[3], text)


def guides(course: Course) -> list[Path]:
    """The instructor/contributor guides: every ``docs/*.md``."""
    return sorted((course.root / GUIDES_DIR).glob("*.md"))


def api_modules() -> list[str]:
    """segkit's public library modules (not the course tooling, nothing private), in the order the
    package's docstring teaches them."""
    import pkgutil

    import segkit

    names = ["segkit"]
    for info in pkgutil.walk_packages(segkit.__path__, "segkit."):
        parts = info.name.split(".")
        if parts[1] == "course" or any(p.startswith("_") for p in parts[1:]):
            continue
        names.append(info.name)
    order = {name: i for i, name in enumerate(getattr(segkit, "_SUBMODULES", ()))}
    return sorted(names, key=lambda n: (n != "segkit", order.get(n.split(".")[1] if "." in n else "", len(order)), n))


def course_title(course: Course) -> str:
    """The README's first heading."""
    readme = course.root / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    match = re.search(r"^# (.+)$", text, re.M)
    return match[1].strip() if match else "Semantic segmentation course"


def pages_url(repository_url: str) -> str:
    """Where GitHub Pages publishes the repository's site."""
    owner, repo = repository_url.removeprefix("https://github.com/").split("/")
    owner = owner.lower()
    return f"https://{owner}.github.io/" if repo.lower() == f"{owner}.github.io" else f"https://{owner}.github.io/{repo}/"


def _toctree(caption: str, entries: list[str]) -> str:
    return "\n".join(["```{toctree}", ":hidden:", f":caption: {caption}", ":maxdepth: 1", "", *entries, "```", ""])


def _module_page(name: str) -> str:
    return f"# `{name}`\n\n```{{eval-rst}}\n.. automodule:: {name}\n   :members:\n   :show-inheritance:\n```\n"


def stage(course: Course, executed: dict[str, NotebookNode], src: Path) -> Path:
    """Write the Sphinx sources of the site into ``src`` (see :func:`write_tree`)."""
    links = LinkMap(course)
    files: dict[str, str | bytes] = {}
    machine = "one CPU thread"
    for unit, run in executed.items():
        lesson = nbformat.read(str(course.release_notebook(unit)), as_version=4)
        page = site_notebook(lesson, run, unit=unit)
        source = f"{course.release_dir.name}/{unit}/{unit}.ipynb"
        for cell in page.cells:
            if cell.cell_type == "markdown":
                cell.source = links.markdown(cell.source, source, f"units/{unit}.ipynb")
        title = next((i for i, c in enumerate(page.cells) if c.cell_type == "markdown" and re.search(r"^# ", c.source, re.M)), 0)
        machine = run.metadata.get(EXECUTION_METADATA, {}).get("machine", machine)
        page.cells.insert(title + 1, nbformat.v4.new_markdown_cell(SITE_NOTE.format(machine=machine), id="site-note"))
        files[f"units/{unit}.ipynb"] = nbformat.writes(page)

    readme = course.root / "README.md"
    home = links.markdown(readme.read_text(encoding="utf-8"), "README.md", "index.md") if readme.is_file() else f"# {course_title(course)}\n"
    guide_pages = []
    for path in guides(course):
        guide_pages.append(f"guides/{path.stem}")
        files[f"guides/{path.name}"] = links.markdown(path.read_text(encoding="utf-8"), f"{GUIDES_DIR}/{path.name}", f"guides/{path.name}")
    modules = api_modules()
    files["api/index.md"] = ("# segkit API reference\n\nThe library the exercises build, from its docstrings: "
                             "shapes, dtypes and the errors each function raises.\n\n"
                             + "\n".join(f"- [`{m}`]({m}.md)" for m in modules) + "\n\n"
                             + _toctree("modules", modules))
    for name in modules:
        files[f"api/{name}.md"] = _module_page(name)
    home += "\n\n" + _toctree("Units", [f"units/{u}" for u in executed])
    if guide_pages:
        home += "\n" + _toctree("Guides", guide_pages)
    home += "\n" + _toctree("segkit", ["api/index"])
    files["index.md"] = home
    files[LOCAL_BADGE] = (course.root / CONF_DIR / "_static" / LOCAL_BADGE).read_bytes()
    for image in sorted(links.images):
        files[f"_repo/{image}"] = (course.root / image).read_bytes()

    write_tree(src, {rel: c.encode("utf-8") if isinstance(c, str) else c for rel, c in files.items()})
    return src


def write_tree(folder: Path, files: dict[str, bytes]) -> None:
    """Make ``folder`` hold exactly ``files`` (relative path -> content): a file whose content is
    unchanged keeps its modification time (Sphinx then re-reads only what changed), others are
    written, and files not in ``files`` are removed."""
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = folder / rel
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and path.relative_to(folder).as_posix() not in files:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


# ---- the leak scan --------------------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Secret:
    unit: str
    kind: str  # "solution", "hidden test" or "wrong answer"
    line: str  # whitespace collapsed


def public_text(course: Course) -> str:
    """Everything the site is meant to show as text, whitespace collapsed: every lesson's cells,
    the README, the guides and segkit's docstrings. A secret line found in it is no secret."""
    import ast
    import importlib.util

    parts = []
    for unit in course.units():
        lesson = course.release_notebook(unit)
        if lesson.is_file():
            parts += [cell.source for cell in nbformat.read(str(lesson), as_version=4).cells]
    parts += [p.read_text(encoding="utf-8") for p in [course.root / "README.md", *guides(course)] if p.is_file()]
    for name in api_modules():
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                parts.append(ast.get_docstring(node) or "")
    parts += [re.sub(r"[`*]", "", part) for part in parts]  # markdown as rendered: `code` -> code
    return "\x01".join(_normal(part) for part in parts)


def secret_lines(course: Course, unit: str, public: str | None = None) -> tuple[list[Secret], int]:
    """The lines of ``unit`` that grading keeps from learners (solution regions and solution
    markdown cells, hidden tests, ``wrong_answers.py``), and how many were skipped: shorter than
    :data:`MIN_SECRET_CHARS`, or part of :func:`public_text` (a line a solution shares with a
    lesson's stub or statement, the README or a docstring is no secret)."""
    public = public_text(course) if public is None else public
    source = nbformat.read(str(course.source_notebook(unit)), as_version=4)
    found: dict[str, Secret] = {}
    skipped = 0

    def add(line: str, kind: str) -> None:
        nonlocal skipped
        line = _normal(line)
        if not line or line.startswith("### "):
            return
        if len(line) < MIN_SECRET_CHARS or not re.search(r"[A-Za-z0-9]", line) or line in public:
            skipped += 1
        elif line not in found:
            found[line] = Secret(unit, kind, line)

    for cell in source.cells:
        if cell.cell_type == "markdown" and cells.is_answer(cell):
            for line in cell.source.splitlines():
                add(line, "solution")
            continue
        region = None
        for line in cell.source.splitlines():
            marker = line.strip()
            if marker.startswith("### BEGIN SOLUTION"):
                region = "solution"
            elif marker.startswith("### BEGIN HIDDEN TESTS"):
                region = "hidden test"
            elif marker.startswith(("### END SOLUTION", "### END HIDDEN TESTS")):
                region = None
            elif region:
                add(line, region)
    wrong = course.source_dir / unit / WRONG_ANSWERS_FILE
    if wrong.is_file():
        for line in wrong.read_text(encoding="utf-8").splitlines():
            add(line, "wrong answer")
    return list(found.values()), skipped


def _visible_text(raw: str) -> str:
    """A built file's text as a reader could copy it (tags removed, entities decoded), plus its
    raw text (attributes), whitespace collapsed."""
    text = html.unescape(re.sub(r"<[^>]*>", "", raw))
    return _normal(text) + "\0" + _normal(html.unescape(raw))


@dataclass
class LeakReport:
    checked: dict[str, int]  # kind -> secret lines searched for
    skipped: int  # too short, or shown by the lesson anyway
    files: int
    found: list[tuple[Secret, str]]  # (secret, file relative to the site)

    @property
    def total(self) -> int:
        return sum(self.checked.values())

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {kind} lines" for kind, n in self.checked.items())
        head = f"leak scan: {kinds} ({self.total} in all; {self.skipped} short or public lines skipped) searched in {self.files} files: {len(self.found)} found"
        return "\n".join([head, *(f"  {s.unit} {s.kind}: {s.line!r} in {f}" for s, f in self.found[:50])])


def leak_scan(course: Course, site: Path) -> LeakReport:
    """Search every text file of the built ``site`` for every secret line of every unit."""
    secrets: list[Secret] = []
    skipped = 0
    public = public_text(course)
    for unit in course.units():
        found, n = secret_lines(course, unit, public)
        secrets += found
        skipped += n
    names, texts = [], []
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES:
            names.append(path.relative_to(site).as_posix())
            texts.append(_visible_text(path.read_text(encoding="utf-8", errors="replace")))
    corpus = "\x01".join(texts)
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + 1
    import bisect

    found = []
    for secret in secrets:
        at = corpus.find(secret.line)
        if at >= 0:
            found.append((secret, names[bisect.bisect_right(starts, at) - 1]))
    checked: dict[str, int] = {}
    for secret in secrets:
        checked[secret.kind] = checked.get(secret.kind, 0) + 1
    return LeakReport(checked, skipped, len(names), found)


# ---- the build ------------------------------------------------------------------------------------


@dataclass
class BuildReport:
    out: Path
    ran: dict[str, bool]
    execute_seconds: float
    sphinx_seconds: float
    pages: int
    images: int
    leaks: LeakReport

    def summary(self) -> str:
        executed = [u for u, r in self.ran.items() if r]
        return "\n".join([
            f"site: {self.out}/index.html: {self.pages} pages, {self.images} images",
            f"units: {len(executed)} executed, {len(self.ran) - len(executed)} from the cache ({self.execute_seconds:.0f} s); "
            f"sphinx {self.sphinx_seconds:.0f} s",
            self.leaks.summary(),
        ])


def mirror(src: Path, dst: Path) -> None:
    """Make ``dst`` a copy of ``src``."""
    write_tree(dst, {p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob("*") if p.is_file()})


def sphinx_warnings(log_text: str) -> tuple[list[str], list[str]]:
    """Sphinx's warnings split in two: about the site's own pages (a build fails on them) and
    about the reST of segkit's docstrings (reported; the API page still shows the text)."""
    lines = [line for line in log_text.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b", line)]
    docstrings = [line for line in lines if ":docstring of " in line]
    return [line for line in lines if line not in docstrings], docstrings


def build(course: Course, *, out: Path | None = None, jobs: int = 1, refresh: bool = False,
          timeout_scale: float = SITE_TIMEOUT_SCALE, log: Callable[[str], None] = print) -> BuildReport:
    """Execute what changed, stage the sources, run Sphinx into ``out`` (default ``_site``) and
    scan the result; raises :class:`CourseError` when Sphinx warns or a secret line is found."""
    from sphinx.cmd.build import build_main

    out = Path(out) if out is not None else course.root / SITE_DIR
    units = course.units()
    log(f"executing {len(units)} solution notebooks ({jobs} at a time; cache: {EXECUTED_DIR}/)")
    start = time.perf_counter()
    ran = execute_units(course, units, jobs=jobs, refresh=refresh, timeout_scale=timeout_scale, log=log)
    executed = {unit: execute_unit(course, unit) for unit in units}
    execute_seconds = time.perf_counter() - start

    start = time.perf_counter()
    stage_dir = course.root / STAGE_DIR
    src = stage(course, executed, stage_dir / "src")
    warnings = stage_dir / "warnings.log"
    args = ["-b", "html", "-c", str(course.root / CONF_DIR), "-d", str(stage_dir / "doctrees"),
            "-w", str(warnings), "--keep-going", "-q", str(src), str(stage_dir / "html")]
    log("sphinx-build " + " ".join(args))
    if build_main(args) != 0:
        raise CourseError("sphinx-build failed (see above)")
    fatal, docstrings = sphinx_warnings(warnings.read_text(encoding="utf-8") if warnings.is_file() else "")
    if docstrings:
        log(f"{len(docstrings)} warnings about segkit's docstrings (reST formatting; the pages are built)")
    if fatal:
        raise CourseError("sphinx warned about the site's own pages (a broken link, a missing page, ...):\n" + "\n".join(fatal))
    mirror(stage_dir / "html", out)  # (myst-nb keeps its own files beside Sphinx's output folder)
    sphinx_seconds = time.perf_counter() - start

    pages = sum(1 for p in out.rglob("*.html") if p.relative_to(out).parts[0] not in ("_static", "_images"))
    images = sum(1 for p in (out / "_images").glob("*") if p.is_file()) if (out / "_images").is_dir() else 0
    leaks = leak_scan(course, out)
    report = BuildReport(out, ran, execute_seconds, sphinx_seconds, pages, images, leaks)
    if leaks.found:
        raise CourseError("the site shows what grading keeps secret; nothing may be published:\n" + leaks.summary())
    return report


# ---- Sphinx extension: formulas as MathML --------------------------------------------------------


def _visit_math(self: Any, node: Any) -> None:
    from docutils import nodes
    from latex2mathml.converter import convert

    self.body.append(convert(node.astext()))
    raise nodes.SkipNode


def _visit_math_block(self: Any, node: Any) -> None:
    from docutils import nodes
    from latex2mathml.converter import convert

    self.body.append(f'<div class="math notranslate">{convert(node.astext(), display="block")}</div>\n')
    raise nodes.SkipNode


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point (``extensions`` in docs/site/conf.py): the ``mathml`` math renderer
    writes formulas as MathML, which browsers draw without a script or a font download."""
    app.add_html_math_renderer("mathml", inline_renderers=(_visit_math, None), block_renderers=(_visit_math_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# ---- command line ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segkit.course.site", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="execute what changed, build _site/ and scan it")
    b.add_argument("--out", type=Path, help=f"output folder (default {SITE_DIR}/)")
    b.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="notebooks executed at a time")
    b.add_argument("--refresh", action="store_true", help="run every notebook again, cache or not")
    e = commands.add_parser("execute", help="bring the execution cache of some units up to date")
    e.add_argument("units", nargs="*")
    e.add_argument("--jobs", type=int, default=1)
    for command in (b, e):
        command.add_argument("--timeout-scale", type=float, default=SITE_TIMEOUT_SCALE,
                             help="multiply the cells' timeouts (timeout-NNN tags, default 120 s); "
                                  f"default {SITE_TIMEOUT_SCALE:g}, 1 for the grader's limits")
    s = commands.add_parser("scan", help="the leak scan of a built site")
    s.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    try:
        course = Course.find()
        if args.command == "build":
            start = time.perf_counter()
            report = build(course, out=args.out, jobs=args.jobs, refresh=args.refresh, timeout_scale=args.timeout_scale)
            print(report.summary())
            print(f"built in {time.perf_counter() - start:.0f} s")
        elif args.command == "execute":
            units = [course.require_unit(u) for u in args.units] or course.units()
            execute_units(course, units, jobs=args.jobs, timeout_scale=args.timeout_scale)
        else:
            report = leak_scan(course, args.out or course.root / SITE_DIR)
            print(report.summary())
            return 1 if report.found else 0
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
