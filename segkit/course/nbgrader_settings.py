"""The course's nbgrader configuration, shared by ``nbgrader_config.py`` and scratch courses.

``nbgrader_config.py`` at the repository root is two lines that call :func:`configure`, so the
same settings apply whether an instructor runs ``nbgrader`` by hand or a learner runs
``python -m segkit.course submit`` (which grades in a scratch copy of the course).
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from segkit.course.config import RELEASE_DIR, SOURCE_DIR
from segkit.course import cells

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
EDITOR_METADATA = ["execution", "ExecuteTime", "collapsed", "scrolled", "colab", "id", "outputId", "jupyter", "vscode"]
HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)
REDACTED = "# (hidden tests: not shown)\n"
# An entry of the summary at the top of nbgrader's feedback page (its template labels every
# graded cell by kind: "Test cell", "Coding free-response", ...).
SUMMARY_ENTRY = re.compile(r'<a href="#([^"]+)">(?:Test cell|Coding free-response|Written response|Task)</a>'
                           r' \(Score: ([-\d.]+) / ([-\d.]+)\)')
SUMMARY_COMMENT = re.compile(r'<a href="#comment-([^"]+)">Comment</a>')
TEMPLATES = Path(__file__).parent / "templates"
ZIP_COLLECT_PATTERN = r".*/extracted/(?P<student_id>[A-Za-z0-9.-]+)_(?:[^/]*/)?(?P<file_id>[^/]+\.ipynb)$"

# Kernels started by nbgrader inherit these: warnings and progress bars write to stderr, and
# any stderr output in a test cell scores it 0 (nbgrader.utils.determine_grade). Waiting torch
# threads sleep instead of spinning for a core another process holds (segkit.device).
QUIET_KERNEL_ENV = {"PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1", "OMP_WAIT_POLICY": "PASSIVE"}


class RedactHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests from feedback: their source, and tracebacks that would quote them.

    nbgrader 0.9.6 shows hidden tests in the feedback HTML (nbgrader #917); learners keep
    their feedback, so the hidden cases would be out after one submission.
    """

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type != "code" or "### BEGIN HIDDEN TESTS" not in cell.source:
            return cell, resources
        cell.source = HIDDEN_BLOCK.sub(REDACTED, cell.source)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


def name_graded_cells(html: str) -> str:
    """Jinja filter for the feedback page: the summary's "Test cell (Score: 2.0 / 2.0)" becomes
    "test_iou: 2 / 2 points", the grade id the learner also sees in ``submit``'s table."""
    html = SUMMARY_ENTRY.sub(lambda m: f'<a href="#{m[1]}"><code>{m[1]}</code></a>: '
                                       f'{float(m[2]):g} / {float(m[3]):g} points', html)
    return SUMMARY_COMMENT.sub(r'<a href="#comment-\1">comment on <code>\1</code></a>', html)


# The second layer behind segkit.course.grading.sanitize: with ``HTMLExporter.sanitize_html``,
# nbconvert passes markdown and HTML outputs through its ``clean_html`` filter, whose allowlist lacks
# p, h1-h6, img, th... and so shows an honest lesson's paragraphs as literal tags. This one keeps
# what markdown and code highlighting make, without scripts, handlers or script URLs.
CLEAN_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "col", "colgroup", "dd", "del", "details", "div", "dl",
              "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
              "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
              "thead", "tr", "ul"}
RASTER_DATA_URL = re.compile(r"data:image/(?:png|jpeg|gif);base64,[A-Za-z0-9+/=]*")


def _clean_attribute(tag: str, name: str, value: str) -> bool:
    if name in ("class", "id", "title", "align") or (tag == "img" and name in ("alt", "width", "height")):
        return True
    if name == "style":
        return tag in ("td", "th")  # markdown tables' text-align (the CSS sanitizer keeps only that)
    if name == "src" and tag == "img":
        return value.startswith(("https://", "http://")) or bool(RASTER_DATA_URL.fullmatch(value))
    return name == "href" and tag == "a" and value.startswith(("https://", "http://", "mailto:", "#"))


def clean_html(html: Any) -> str:
    """Jinja filter replacing nbconvert's ``clean_html`` for ``HTMLExporter.sanitize_html``."""
    import bleach
    from bleach.css_sanitizer import CSSSanitizer

    html = html.decode() if isinstance(html, bytes) else str(html)
    return bleach.clean(html, tags=CLEAN_TAGS, attributes=_clean_attribute, protocols={"http", "https", "mailto", "data"},
                        css_sanitizer=CSSSanitizer(allowed_css_properties=["text-align"]))


def curve_encryption_available() -> bool:
    """Whether jupyter_client can provision CurveZMQ keys for the kernels it starts."""
    import zmq
    from jupyter_client.manager import KernelManager

    return KernelManager.class_traits().get("transport_encryption") is not None and bool(zmq.has("curve"))


def configure(c: Any, root: str | os.PathLike) -> None:
    """Apply the course settings to nbgrader's config object ``c`` for the course at ``root``."""
    root = Path(root).resolve()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = SOURCE_DIR
    c.CourseDirectory.release_directory = RELEASE_DIR
    c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    # wrong_answers.py: the unit's plausible wrong answers (instructor side), never released.
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "wrong_answers.py"]

    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    c.ClearOutput.remove_metadata_fields = EDITOR_METADATA

    c.Execute.timeout = cells.DEFAULT_CELL_TIMEOUT
    c.Execute.timeout_func = cells.timeout
    # ipykernel >= 7 warns "Kernel is running over TCP without encryption" at every start unless
    # the kernel manager gave it CurveZMQ keys: let the manager do so where it can (jupyter_client
    # >= 8.10, a pyzmq with curve, a kernelspec that declares it). Any other start-up notice is
    # noise in a learner's terminal too; errors still show.
    if curve_encryption_available():
        c.KernelManager.transport_encryption = "auto"
    c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
    c.Autograde.create_student = True
    c.OverwriteCells.add_missing_cells = True  # a deleted test cell is put back and graded

    # `nbgrader zip_collect UNIT`: files in downloaded/UNIT/archive/ named STUDENT_anything.zip (holding
    # UNIT.ipynb) or STUDENT_UNIT.ipynb; nbgrader's default pattern is empty and collects nothing.
    c.FileNameCollectorPlugin.named_regexp = ZIP_COLLECT_PATTERN
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "segkit.course.nbgrader_settings.RedactHiddenTests",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    # The feedback page: nbgrader's template ("feedback"), its summary listing exercises by grade id.
    c.HTMLExporter.template_file = str(TEMPLATES / "feedback.html.j2")
    c.HTMLExporter.filters = {"name_graded_cells": "segkit.course.nbgrader_settings.name_graded_cells",
                              "clean_html": "segkit.course.nbgrader_settings.clean_html"}
    # A second layer for the feedback page and formgrader, behind grading.sanitize (which record applies
    # to the autograded notebook): markdown and HTML outputs cleaned, JavaScript and widget outputs left out.
    c.HTMLExporter.sanitize_html = True
    for key, value in QUIET_KERNEL_ENV.items():
        os.environ.setdefault(key, value)
    # A global MPLBACKEND (e.g. Agg on a headless server) would replace the kernels' inline
    # backend and leave every figure out of the autograded notebook and its feedback.
    os.environ.pop("MPLBACKEND", None)
    # nbgrader runs the `alembic` command when it creates a gradebook: find the one of this
    # Python's environment even when the virtual environment is not activated.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_api(root: Path, *, use_db: bool = True):
    """An in-process ``NbGraderAPI`` for the course at ``root`` with the course's settings
    (``use_db=False``: generate without touching the gradebook)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    configure(config, root)
    if not use_db:
        config.GenerateAssignment.no_database = True
        config.SaveCells.enabled = False
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
