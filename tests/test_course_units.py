"""Every unit of the course, discovered from solutions/: a new unit needs no edit here.

For each unit: lessons/ is in sync with solutions/, the solution notebook runs top to bottom
without an error and earns full marks (a test cell tagged ``stretch``, the capstone's top tier, is
beyond the reference solution and may be missed), and the untouched student notebook earns nothing.
The solution's graded run is kept as the course website's execution cache (segkit.course.site).
"""
from __future__ import annotations

import pytest

from segkit.course import site
from segkit.course.authoring.check import check_course, describe
from segkit.course.config import Course
from segkit.course.authoring.notebook import read
from segkit.course.cells import is_stretch
from segkit.course.authoring.release import stale_units
from segkit.course.learner.submit import FULL_MARKS, submit

COURSE = Course.find()
UNITS = COURSE.units()


def test_course_has_units():
    assert UNITS, "no units found in solutions/"


def test_lessons_are_in_sync_with_solutions():
    stale = stale_units(COURSE)
    assert not stale, f"lessons/ is stale, run `python -m segkit.course release`: {stale}"


def test_course_check_passes():
    problems = check_course(COURSE, sync=False)
    assert not problems, describe(problems)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("unit", UNITS)
def test_solution_runs_and_scores_full_marks(unit, tmp_path, record_property):
    key = site.execution_key(COURSE, unit)
    result = submit(COURSE, unit, COURSE.source_notebook(unit), student="solution", feedback_root=tmp_path)
    record_property("notebook_seconds", result.seconds)
    assert not result.failure, result.failure
    stretch = {c.id for c in read(COURSE.source_notebook(unit)).cells if is_stretch(c)}
    errors = {cell: error for cell, error in result.errors.items() if cell not in stretch}
    assert not errors, f"cells raised errors: {errors}"
    missed = {s.grade_id for s in result.scores if s.points < s.max_points}
    assert result.exit_code == FULL_MARKS or missed <= stretch, result.table()
    assert len(result.scores) >= 1
    # the course website's pages show this run's outputs: `make site` after `make test` runs no notebook
    site.store_execution(COURSE, unit, result.executed, key=key, seconds=result.seconds)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("unit", UNITS)
def test_untouched_lesson_scores_zero(unit, tmp_path, record_property):
    result = submit(COURSE, unit, COURSE.release_notebook(unit), student="untouched", feedback_root=tmp_path)
    record_property("notebook_seconds", result.seconds)
    assert not result.failure, result.failure
    earned = {s.grade_id: s.points for s in result.scores if s.points > 0}
    assert not earned, f"the student stubs earn points, so these tests cannot fail: {earned}"
    assert result.max_points > 0
