"""Helpers shared by the course tooling's tests (tests/test_course_*.py); the fixtures built from
them (``template_course``, ``course``, ``released``, ``ref``) are in conftest.py.

- the *demo course*: a throw-away course in a temporary folder, made by ``new-unit`` with a second
  exercise, so tests exercise the real code paths without depending on the real units' content;
- references built the way production builds them: the unit released into a scratch course with a
  gradebook (``make_scratch_course``, nbgrader's generate) and ``Reference.load``, as ``submit`` and
  ``grade_class`` do.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import nbformat

from segkit.course import cells
from segkit.course.authoring import notebook as nb
from segkit.course.config import Course

REPO = Path(__file__).resolve().parents[1]
UNIT = "01-demo"  # the demo course's unit
METRICS_UNIT = "03-measuring-quality"  # the real unit the grading tests use (7 points, hidden tests)
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)


# ---- the demo course ------------------------------------------------------------------------------


def second_exercise() -> list:
    return [
        nb.code("import matplotlib.pyplot as plt\n\nplt.plot([0, 1], [1, 0])\nplt.show()", id="figure"),
        nb.markdown("## Exercise 2: double\n\nReturn `2 * x`.", id="exercise-double"),
        nb.answer("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", id="double"),
        nb.tests(
            'assert double(2) == 4, "double(2) should be 4"\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n### END HIDDEN TESTS',
            id="test_double",
            points=2,
        ),
    ]


DOUBLE_WRONG_ANSWERS = [
    dict(cell="double", id="double-square", description="squares instead of doubling", source="def double(x):\n    return x * x"),
    dict(cell="double", id="double-abs", description="drops the sign", source="def double(x):\n    return abs(2 * x)"),
    dict(cell="double", id="double-plus-two", description="adds 2", source="def double(x):\n    return x + 2"),
]


def add_wrong_answers(course: Course, entries: list[dict]) -> None:
    """Append entries to the unit's WRONG_ANSWERS (the file stays plain data)."""
    path = course.source_dir / UNIT / "wrong_answers.py"
    path.write_text(path.read_text() + f"\nWRONG_ANSWERS += {entries!r}\n")


def course_root(root: Path) -> Course:
    """An empty course at ``root``: the repository's settings (nbgrader_config.py, pyproject.toml)."""
    (root / "solutions").mkdir(parents=True)
    for name in ("pyproject.toml", "nbgrader_config.py"):
        shutil.copy2(REPO / name, root / name)
    return Course(root)


def build_demo_course(root: Path) -> Path:
    """The demo course: unit 01-demo from the new-unit template plus :func:`second_exercise`, released."""
    from segkit.course.authoring.release import release
    from segkit.course.authoring.scaffold import new_unit

    course = course_root(root)
    new_unit(course, UNIT, "Demo")
    source = nb.read(course.source_notebook(UNIT))
    source.cells[-1:-1] = second_exercise()  # before the summary
    nb.write(source, course.source_notebook(UNIT))
    add_wrong_answers(course, DOUBLE_WRONG_ANSWERS)
    release(course, [UNIT])
    return root


def find_cell(notebook, cell_id):
    return next(c for c in notebook.cells if c.get("id") == cell_id)


def edit_notebook(path: Path, change) -> None:
    notebook = nbformat.read(str(path), as_version=4)
    change(notebook)
    nbformat.write(notebook, str(path))


def check_messages(course: Course, **kwargs) -> str:
    from segkit.course.authoring.check import check_course, describe

    return describe(check_course(course, **kwargs))


def solved_lesson(course: Course, tmp_path: Path) -> Path:
    """The demo's student notebook with the learner's answers filled in (as a learner would)."""
    notebook = nbformat.read(str(course.release_notebook(UNIT)), as_version=4)
    find_cell(notebook, "count_pixels").source = "import torch\n\ndef count_pixels(mask, label):\n    return int((mask == label).sum())"
    find_cell(notebook, "double").source = "def double(x):\n    return x + x"
    path = tmp_path / "mine.ipynb"
    nbformat.write(notebook, str(path))
    return path


def fingerprint(*paths: Path) -> list[str]:
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file())
    return [f"{f}:{hashlib.sha256(f.read_bytes()).hexdigest()}" for f in files]


# ---- references built as production builds them ------------------------------------------------


class ReleasedUnits:
    """Units of ``course`` released into one scratch course with a gradebook, each once, and their
    :class:`~segkit.course.grading.Reference` loaded from it: what ``submit`` and ``grade_class`` do."""

    def __init__(self, course: Course, scratch: Path):
        self.course, self.scratch = course, scratch
        self._refs: dict = {}

    def __call__(self, unit: str):
        from segkit.course.authoring.release import generate, make_scratch_course, nbgrader_api
        from segkit.course.grading import Reference

        if unit not in self._refs:
            scratch = make_scratch_course(self.course, self.scratch, [unit])
            generate(nbgrader_api(scratch.root), unit)
            self._refs[unit] = Reference.load(scratch, unit)
        return self._refs[unit]


def release_units(root: Path, notebooks: dict[str, nbformat.NotebookNode]) -> Course:
    """A course at ``root`` whose units are ``notebooks`` (sources), released with a gradebook."""
    from segkit.course.authoring.release import release

    course = course_root(root)
    for unit, notebook in notebooks.items():
        nb.write(notebook, course.source_notebook(unit))
    release(course, list(notebooks))
    return course


def with_answers(lesson: nbformat.NotebookNode, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``lesson`` (a copy) with the answer cells of ``source`` pasted in, solution markers removed:
    what a learner who solved the unit hands in."""
    solution = {c.get("id"): c for c in source.cells}
    notebook = nbformat.from_dict(lesson)
    for c in notebook.cells:
        if cells.is_answer(c):
            c.source = SOLUTION_MARKER.sub("", solution[c.id].source)
    return notebook
