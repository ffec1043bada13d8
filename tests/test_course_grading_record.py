"""segkit.course.grading.record: an outcome written where nbgrader's own tools find it (the gradebook,
read back here with nbgrader's API), and feedback with the hidden tests redacted; on the demo course."""
from __future__ import annotations

import json

import nbformat

from course_fixtures import UNIT
from segkit.course import grading
from segkit.course.grading.reference import db_url


def _auto_scores(course, student: str) -> dict[str, tuple[float, bool]]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url(course)) as gb:
        notebook = gb.find_submission_notebook(UNIT, UNIT, student)
        return {g.name: (g.auto_score, g.needs_manual_grade) for g in notebook.grades}


def test_scores_reach_the_gradebook_and_a_withheld_score_is_zero_for_review(course):
    scores = [grading.CellScore("test_count_pixels", 1.0, 1.0), grading.CellScore("test_double", 1.5, 2.0)]
    assert grading.record_outcome(course, UNIT, grading.Outcome("ada", scores=scores), feedback=False) is None
    assert _auto_scores(course, "ada") == {"test_count_pixels": (1.0, False), "test_double": (1.5, False)}
    report = json.loads((course.root / "autograded" / "ada" / f"{UNIT}.grading.json").read_text())
    assert report["points"] == report["recorded"] == 2.5 and report["max_points"] == 3
    assert (course.root / "autograded" / "ada" / UNIT / "timestamp.txt").is_file()

    grading.record_outcome(course, UNIT, grading.Outcome("ada", scores=scores, review=["cell x: uses exec"]), feedback=False)
    assert _auto_scores(course, "ada") == {"test_count_pixels": (0.0, True), "test_double": (0.0, True)}, "recorded again, replacing"
    report = json.loads((course.root / "autograded" / "ada" / f"{UNIT}.grading.json").read_text())
    assert report["points"] == 2.5 and report["recorded"] == 0 and report["review"] == ["cell x: uses exec"]


def test_feedback_redacts_the_hidden_tests(course):
    ref = grading.Reference.load(course, UNIT)
    notebook, _ = grading.assemble_notebook(nbformat.read(str(course.release_notebook(UNIT)), as_version=4), ref)
    assert "count_pixels(mask, 7)" in nbformat.writes(notebook), "the gradebook's tests, hidden ones included"
    outcome = grading.Outcome("bob", scores=[grading.CellScore(g, 0.0, ref.points[g]) for g in ref.grade_ids()],
                              executed=json.loads(nbformat.writes(notebook)))
    html = grading.record_outcome(course, UNIT, outcome)
    assert html == course.root / "feedback" / "bob" / UNIT / f"{UNIT}.html"
    text = html.read_text()
    assert "count_pixels(mask, 7)" not in text and "double(-3)" not in text
    assert "hidden tests: not shown" in text
    assert (course.root / "autograded" / "bob" / UNIT / f"{UNIT}.ipynb").is_file()
    assert not (course.root / "feedback" / "bob" / f"{UNIT}.grading.json").exists()
