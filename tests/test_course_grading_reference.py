"""segkit.course.grading.reference: what the trusted side knows about a unit, loaded as ``grade_class``
loads it: the released notebook, and the tests (hidden ones included) from the gradebook."""
from __future__ import annotations

import nbformat
import pytest

from course_fixtures import METRICS_UNIT as UNIT
from course_fixtures import REPO
from segkit.course import cells
from segkit.course.authoring.release import generate, make_scratch_course, nbgrader_api
from segkit.course.config import Course, CourseError
from segkit.course.grading import Reference
from segkit.course.grading.reference import db_url

COURSE = Course(REPO)


def test_the_release_is_the_committed_lesson(ref):
    assert ref.unit == UNIT
    assert nbformat.writes(ref.release) == nbformat.writes(nbformat.read(str(COURSE.release_notebook(UNIT)), as_version=4))


def test_locked_sources_are_the_solutions_tests_hidden_ones_included(ref):
    source = {c.get("id"): c for c in nbformat.read(str(COURSE.source_notebook(UNIT)), as_version=4).cells}
    lesson = {c.get("id"): c for c in ref.release.cells}
    locked = [cells.grade_id(c) for c in ref.release.cells if cells.is_locked(c)]
    assert sorted(ref.locked_sources) == sorted(locked) and locked
    for gid, text in ref.locked_sources.items():
        assert text == source[gid].source, gid
    hidden = [gid for gid, text in ref.locked_sources.items() if "### BEGIN HIDDEN TESTS" in text]
    assert hidden, "unit 03 has hidden tests"
    for gid in hidden:
        assert "### BEGIN HIDDEN TESTS" not in lesson[gid].source, f"{gid}: the lesson never shows hidden tests"


def test_points_and_grade_ids_follow_the_release(ref):
    graded = [c for c in ref.release.cells if cells.is_graded(c)]
    assert ref.grade_ids() == [cells.grade_id(c) for c in graded]
    assert ref.points == {cells.grade_id(c): float(c.metadata["nbgrader"]["points"]) for c in graded}
    assert sum(ref.points.values()) == 7
    assert ref.released_cell("test_mean_iou").metadata["nbgrader"]["grade_id"] == "test_mean_iou"
    assert ref.released_cell("no-such-cell") is None


def test_a_release_without_a_gradebook_cannot_be_graded(tmp_path):
    scratch = make_scratch_course(COURSE, tmp_path / "course", [UNIT])
    generate(nbgrader_api(scratch.root, use_db=False), UNIT)  # lessons/ written, the gradebook not filled
    with pytest.raises(CourseError, match=f"the gradebook has no cell .* run `python -m segkit.course release {UNIT}` first"):
        Reference.load(scratch, UNIT)


def test_the_gradebook_is_the_courses_own(tmp_path):
    assert db_url(Course(tmp_path)) == f"sqlite:///{tmp_path / 'gradebook.db'}"
