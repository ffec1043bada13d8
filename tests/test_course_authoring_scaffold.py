"""segkit.course.authoring.scaffold: ``new-unit`` makes a unit that passes ``check`` at once."""
from __future__ import annotations

import pytest

from course_fixtures import UNIT
from segkit.course.authoring.check import check_course
from segkit.course.authoring.scaffold import new_unit
from segkit.course.config import CourseError


def test_new_unit_passes_check_at_once(course):
    assert check_course(course) == []


def test_new_unit_refuses_bad_or_taken_names(course):
    with pytest.raises(CourseError, match="NN-slug"):
        new_unit(course, "demo", "Demo")
    with pytest.raises(CourseError, match="exists already"):
        new_unit(course, UNIT, "Demo")
    with pytest.raises(CourseError, match="number 01"):
        new_unit(course, "01-other", "Other")
