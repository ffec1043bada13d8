"""segkit.course.grading.execute: cell by cell in a confined kernel; a timeout or a dead kernel costs
that cell only (end to end through ``submit`` on the demo course); timeouts from the released
notebook, capped; the tripwire at the end of each test cell."""
from __future__ import annotations

import copy
import re
import time

import nbformat
import pytest

from course_fixtures import UNIT, edit_notebook, find_cell, solved_lesson
from segkit.course import cells
from segkit.course.grading.execute import cell_timeout, tripwire
from segkit.course.learner.submit import POINTS_MISSING, submit
from segkit.course.sandbox import Limits


@pytest.mark.slow
def test_a_bad_answer_costs_only_its_own_points(course, tmp_path):
    mine = solved_lesson(course, tmp_path)

    def loop_forever(notebook):
        cell = find_cell(notebook, "count_pixels")
        cell.source = "def count_pixels(mask, label):\n    return 0\nwhile True:\n    pass"
        cell.metadata["tags"] = ["timeout-100000"]  # the learner's own tag is never honoured

    edit_notebook(mine, loop_forever)
    start = time.perf_counter()
    result = submit(course, UNIT, mine, limits=Limits(cell_timeout=5))
    assert result.exit_code == POINTS_MISSING, result.table()
    assert {s.grade_id: s.points for s in result.scores} == {"test_count_pixels": 0, "test_double": 2}
    assert time.perf_counter() - start < 100, "the cell's timeout must be capped by the grader"


@pytest.mark.slow
def test_a_killed_kernel_keeps_the_points_earned_before_it(course, tmp_path):
    mine = solved_lesson(course, tmp_path)
    edit_notebook(mine, lambda n: setattr(find_cell(n, "double"), "source", "import os\nos._exit(1)"))
    result = submit(course, UNIT, mine)
    assert result.exit_code == POINTS_MISSING, result.table()
    assert {s.grade_id: s.points for s in result.scores} == {"test_count_pixels": 1, "test_double": 0}
    assert "kernel died" in result.table()


def test_the_tripwire_must_fail_exactly_at_the_end_of_the_test_cell():
    source, nonce = tripwire("x = 1\nassert x == 1, 'x is 1'")
    assert re.fullmatch(r"[0-9a-f]{16}", nonce) and source.startswith("x = 1\nassert x == 1, 'x is 1'\n")
    with pytest.raises(AssertionError, match=f"^{nonce}$"):
        exec(source, {})
    assert tripwire("assert True")[1] != tripwire("assert True")[1], "a fresh nonce each time"
    assert tripwire("score = 0.5\nscore") == ("score = 0.5\nscore", ""), "a last expression (partial credit) stays last"
    assert tripwire("def broken(:") == ("def broken(:", "")


def test_timeouts_come_from_the_released_cell_capped_by_the_instructor(released):
    ref = released("02-workflow")
    tagged = next(c for c in ref.release.cells if c.cell_type == "code" and cells.timeout(c) == 300)
    limits = Limits(cell_timeout=200)
    assert cell_timeout(copy.deepcopy(tagged), ref, Limits()) == 300
    assert cell_timeout(copy.deepcopy(tagged), ref, limits) == 200
    learner = copy.deepcopy(tagged)
    learner.metadata["tags"] = ["timeout-100000"]  # the learner's own tag is never honoured
    assert cell_timeout(learner, ref, Limits(cell_timeout=10**6)) == 300
    learner.source += "\n# changed"  # an honest edit of a training cell keeps the released timeout (by cell id)
    assert cell_timeout(learner, ref, Limits()) == 300
    learner["id"] = "learners-own-cell"  # a cell of the learner's own: the default
    assert cell_timeout(learner, ref, Limits()) == cells.DEFAULT_CELL_TIMEOUT
    test = next(c for c in ref.release.cells if cells.is_test(c))
    assert cell_timeout(nbformat.v4.new_code_cell("pass", metadata=copy.deepcopy(test.metadata)), ref, Limits()) == cells.timeout(test)
    assert cell_timeout(nbformat.v4.new_code_cell("x = 1"), ref, Limits(cell_timeout=5)) == 5
