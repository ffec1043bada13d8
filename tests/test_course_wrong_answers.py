"""Every unit's plausible wrong answers lose points: discovered from solutions/, no edit needed.

For each unit with ``solutions/UNIT/wrong_answers.py``, the solution notebook runs once and each
wrong answer is swapped into its answer cell and scored by its exercise's visible and hidden
tests (see segkit/course/authoring/wrong_answers.py for how that differs from a real submission).
"""
from __future__ import annotations

import pytest

from segkit.course.config import Course
from segkit.course.authoring.wrong_answers import format_table, load_wrong_answers, run_unit

COURSE = Course.find()
UNITS = [unit for unit in COURSE.units() if load_wrong_answers(COURSE, unit)]


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("unit", UNITS)
def test_wrong_answers_lose_points(unit, record_property):
    report = run_unit(COURSE, unit)
    record_property("notebook_seconds", report.seconds)
    assert not report.failure, report.failure
    assert report.outcomes, f"{unit}: no wrong answer was run"
    assert report.ok, "\n".join(report.problems) + "\n\n" + format_table([report])
