"""segkit.course.cells: what a cell is to the course, against nbgrader's own ``nbgrader.utils``.

The predicates are written out in segkit (importing nbgrader costs seconds in a learner's tools);
here they must give nbgrader's answer on every cell of every solution and lesson notebook, and on
crafted cells that the course's notebooks happen not to contain.
"""
from __future__ import annotations

import nbformat
import pytest
from nbgrader import utils

from course_fixtures import REPO
from segkit.course import cells
from segkit.course.authoring import notebook as nb
from segkit.course.config import Course

COURSE = Course(REPO)
NOTEBOOKS = [path for unit in COURSE.units() for path in (COURSE.source_notebook(unit), COURSE.release_notebook(unit))]


def _agrees_with_nbgrader(cell) -> None:
    where = f"cell {cell.get('id')!r} ({cell.metadata.get('nbgrader')})"
    assert cells.is_graded(cell) == bool(utils.is_grade(cell)), where
    assert cells.is_answer(cell) == bool(utils.is_solution(cell)), where
    assert cells.is_locked(cell) == bool(utils.is_locked(cell)), where
    assert cells.is_test(cell) == bool(utils.is_grade(cell) and not utils.is_solution(cell)), where
    assert cells.is_nbgrader(cell) == ("nbgrader" in cell.metadata), where
    assert cells.grade_id(cell) == (cell.metadata.get("nbgrader", {}).get("grade_id") or None), where
    if utils.is_grade(cell):  # the points nbgrader's determine_grade reads as the cell's maximum
        assert cells.points(cell) == float(cell.metadata["nbgrader"]["points"]), where
    else:
        assert cells.points(cell) == 0.0, where


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_predicates_agree_with_nbgrader_on_every_cell_of_the_course(path):
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        _agrees_with_nbgrader(cell)
    kinds = {(cells.is_answer(c), cells.is_test(c)) for c in notebook.cells}
    assert {(True, False), (False, True), (False, False)} <= kinds, "every unit has answer, test and ordinary cells"


def _code(**nbgrader) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell("", metadata={"nbgrader": nbgrader})


CRAFTED = {
    "no metadata": nbformat.v4.new_code_cell("x = 1"),
    "empty nbgrader metadata": nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {}}),
    "locked markdown": nb.markdown("read me", id="intro", locked=True),
    "answer": nb.answer("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", id="x"),
    "test": nb.tests("assert x == 1", id="test_x", points=2),
    "graded answer (manually graded)": _code(grade=True, solution=True, points=3, grade_id="essay"),
    "answer that claims to be locked": _code(solution=True, locked=True, grade_id="y"),
    "task": nbformat.v4.new_markdown_cell("do it", metadata={"nbgrader": {"task": True, "points": 1, "grade_id": "task"}}),
    "grade id without flags": _code(grade_id="orphan"),
    "empty grade id": _code(grade=False, grade_id=""),
}


@pytest.mark.parametrize("name", CRAFTED)
def test_predicates_agree_with_nbgrader_on_crafted_cells(name):
    _agrees_with_nbgrader(CRAFTED[name])


def test_what_the_builders_make_is_what_the_predicates_say():
    assert cells.is_answer(CRAFTED["answer"]) and not cells.is_graded(CRAFTED["answer"]) and not cells.is_locked(CRAFTED["answer"])
    test = CRAFTED["test"]
    assert cells.is_test(test) and cells.is_locked(test) and cells.points(test) == 2.0 and cells.grade_id(test) == "test_x"
    assert cells.is_locked(CRAFTED["locked markdown"]) and not cells.is_graded(CRAFTED["locked markdown"])
    assert cells.grade_id(CRAFTED["empty grade id"]) is None and cells.grade_id(CRAFTED["no metadata"]) is None


def _tagged(*tags: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell("pass", metadata={"tags": list(tags)})


@pytest.mark.parametrize("tags, timeout", [
    ((), cells.DEFAULT_CELL_TIMEOUT), (("timeout-300",), 300), (("slow", "timeout-45"), 45),
    (("timeout-",), cells.DEFAULT_CELL_TIMEOUT), (("timeout-1.5",), cells.DEFAULT_CELL_TIMEOUT),
    (("my-timeout-30",), cells.DEFAULT_CELL_TIMEOUT), (("timeout-30x",), cells.DEFAULT_CELL_TIMEOUT),
    (("timeout-20", "timeout-90"), 20),  # the first tag that parses
])
def test_timeout_from_a_tag_else_the_default(tags, timeout):
    assert cells.timeout(_tagged(*tags)) == timeout
    assert cells.DEFAULT_CELL_TIMEOUT == 120


def test_budget_and_stretch_tags():
    assert cells.budget(_tagged("budget-90")) == 90 and cells.budget(_tagged("timeout-90")) is None
    assert cells.budget(_tagged()) is None and cells.budget(nbformat.v4.new_markdown_cell("x")) is None
    assert cells.is_stretch(_tagged("stretch")) and not cells.is_stretch(_tagged("stretched")) and not cells.is_stretch(_tagged())
    assert cells.seconds_from_tags(["budget-7", "timeout-8"], "timeout") == 8
    assert cells.tags(nbformat.v4.new_code_cell("x")) == []


@pytest.mark.parametrize("unit", COURSE.units())
def test_tags_survive_release(unit):
    """The grader reads timeouts, budgets and stretch tags from the released notebook: release keeps them."""
    source = {c.get("id"): c for c in nbformat.read(str(COURSE.source_notebook(unit)), as_version=4).cells}
    lesson = nbformat.read(str(COURSE.release_notebook(unit)), as_version=4)
    for cell in lesson.cells:
        original = source[cell.get("id")]
        assert (cells.timeout(cell), cells.budget(cell), cells.is_stretch(cell)) == (
            cells.timeout(original), cells.budget(original), cells.is_stretch(original)), cell.get("id")
    assert len(lesson.cells) == len(source)
