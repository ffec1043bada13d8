"""segkit.course.authoring.check: what ``python -m segkit.course check`` finds, on the demo course."""
from __future__ import annotations

import shutil

import pytest

from course_fixtures import UNIT, check_messages, edit_notebook, find_cell
from segkit.course.__main__ import main
from segkit.course.authoring.check import _asserts, check_course
from segkit.course.authoring.release import release
from segkit.course.config import BADGE_CELL_ID


def test_check_finds_a_stale_lesson(course):
    edit_notebook(course.source_notebook(UNIT), lambda n: setattr(find_cell(n, "summary"), "source", "## Summary\n\nchanged"))
    messages = check_messages(course)
    assert f"lessons/{UNIT}" in messages and "differs from a fresh generation" in messages
    release(course, [UNIT])
    assert check_course(course) == []


def test_check_finds_a_missing_lesson(course):
    shutil.rmtree(course.release_dir / UNIT)
    assert "is missing" in check_messages(course)


def test_check_finds_a_leaked_solution_line(course):
    def leak(notebook):
        cell = find_cell(notebook, "count_pixels")
        cell.source = cell.source.replace("raise NotImplementedError()", "raise NotImplementedError()\n    return int((mask == label).sum())")

    edit_notebook(course.release_notebook(UNIT), leak)
    assert "shows solution line(s): 'return int((mask == label).sum())'" in check_messages(course, sync=False)


def test_check_finds_leaked_hidden_tests(course):
    def leak(notebook):
        find_cell(notebook, "test_double").source += "\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n### END HIDDEN TESTS"

    edit_notebook(course.release_notebook(UNIT), leak)
    assert "leaks '### BEGIN HIDDEN TESTS'" in check_messages(course, sync=False)


def test_check_requires_stubs_that_raise(course):
    edit_notebook(course.release_notebook(UNIT), lambda n: setattr(find_cell(n, "double"), "source", "def double(x):\n    pass"))
    assert "[cell double]: answer cell stub must raise NotImplementedError()" in check_messages(course, sync=False)


def test_check_finds_a_missing_badge(course):
    edit_notebook(course.source_notebook(UNIT), lambda n: n.cells.remove(find_cell(n, BADGE_CELL_ID)))
    assert f"no markdown cell with id '{BADGE_CELL_ID}'" in check_messages(course, sync=False)


def test_check_requires_learning_objectives(course):
    edit_notebook(course.source_notebook(UNIT), lambda n: setattr(find_cell(n, "title"), "source", "# 01 · Demo"))
    assert "no '## Learning objectives' heading" in check_messages(course, sync=False)


def test_check_grade_ids_and_points(course):
    def break_metadata(notebook):
        find_cell(notebook, "test_double").metadata["nbgrader"]["grade_id"] = "test_count_pixels"
        find_cell(notebook, "test_count_pixels").metadata["nbgrader"]["points"] = 0

    edit_notebook(course.source_notebook(UNIT), break_metadata)
    messages = check_messages(course, sync=False)
    assert "grade id 'test_count_pixels' must equal the cell id 'test_double'" in messages
    assert "grade id 'test_count_pixels' is used by more than one cell" in messages
    assert "graded cell has no points (got 0)" in messages


def test_check_grading_tags_belong_on_test_cells(course):
    def tag(notebook):
        find_cell(notebook, "setup").metadata["tags"] = ["stretch"]
        find_cell(notebook, "test_double").metadata["tags"] = ["budget-30"]
        find_cell(notebook, "test_count_pixels").metadata["tags"] = ["budget-40"]
        find_cell(notebook, "title").metadata["tags"] = ["budget-5"]

    edit_notebook(course.source_notebook(UNIT), tag)
    messages = check_messages(course, sync=False)
    assert "the stretch tag belongs on a test cell" in messages
    assert "a budget-NNN tag belongs on a test cell" in messages
    assert "more than one hand-in" in messages


def test_cli_check_exit_codes(course, capsys):
    assert main(["--root", str(course.root), "check"]) == 0
    edit_notebook(course.source_notebook(UNIT), lambda n: n.cells.remove(find_cell(n, "setup")))
    assert main(["--root", str(course.root), "check", "--no-sync"]) == 1
    assert "no code cell with id 'setup'" in capsys.readouterr().out
    assert main(["--root", str(course.root), "submit", "99-nope"]) == 2


def test_check_wants_three_wrong_answers_per_exercise_and_none_in_lessons(course):
    path = course.source_dir / UNIT / "wrong_answers.py"
    path.write_text("WRONG_ANSWERS = []\n")
    assert "exercise 'double' has 0 wrong answer(s); write at least 3" in check_messages(course, sync=False)
    path.write_text("WRONG_ANSWERS = 1\n")
    assert "must define WRONG_ANSWERS" in check_messages(course, sync=False)
    shutil.copy2(course.source_dir / UNIT / "wrong_answers.py", course.release_dir / UNIT / "wrong_answers.py")
    assert "instructor-only and must never be released" in check_messages(course, sync=False)


@pytest.mark.parametrize("source, ok", [
    ("pass", False), ("x = f(1)", False), ("assert f(1) == 2", True), ("if f(1) != 2:\n    raise ValueError", True),
    ("np.testing.assert_allclose(f(1), 2)", True), ("score = 0.5\nscore", True),
])
def test_check_requires_an_assertion_in_test_cells(source, ok):
    assert _asserts(source) is ok
