"""segkit.course.grading.classrun: collecting a class's submissions (nbgrader's zip pattern too)."""
from __future__ import annotations

import re
import zipfile

import pytest

from course_fixtures import METRICS_UNIT as UNIT
from course_fixtures import REPO
from segkit.course import grading
from segkit.course.config import Course
from segkit.course.nbgrader_settings import ZIP_COLLECT_PATTERN

COURSE = Course(REPO)


def test_collect_reads_zips_and_folders(tmp_path):
    for student in ("ada", "bob.smith"):
        with zipfile.ZipFile(tmp_path / f"{student}_{UNIT}.zip", "w") as z:
            z.writestr(f"{UNIT}/{UNIT}.ipynb", "{}")
    found = grading.collect(COURSE, UNIT, zips=sorted(tmp_path.glob("*.zip")), staging=tmp_path / "s")
    assert sorted(found) == ["ada", "bob.smith"]
    (tmp_path / "nbs").mkdir()
    (tmp_path / "nbs" / "carl.ipynb").write_text("{}")
    assert list(grading.collect(COURSE, UNIT, folder=tmp_path / "nbs", staging=tmp_path)) == ["carl"]


@pytest.mark.parametrize("path, student", [
    (f"/c/downloaded/{UNIT}/extracted/ada_{UNIT}/{UNIT}.ipynb", "ada"),
    (f"/c/downloaded/{UNIT}/extracted/bob.smith_{UNIT}.ipynb", "bob.smith"),
])
def test_zip_collect_pattern(path, student):
    match = re.match(ZIP_COLLECT_PATTERN, path)
    assert match and match["student_id"] == student and match["file_id"] == f"{UNIT}.ipynb"


@pytest.mark.parametrize("text, name", [("ada", "ada"), ("Bob Smith", "Bob-Smith"), ("../../etc/passwd", "etc-passwd"),
                                        ("...", "student"), ("x" * 100, "x" * 64), ("é-élève", "l-ve")])
def test_student_names_are_safe_folder_names(text, name):
    assert grading.student_name(text) == name


def test_summary_shows_recorded_points_and_why_a_score_is_withheld():
    scores = [grading.CellScore("test_a", 2.0, 2.0), grading.CellScore("test_b", 3.0, 5.0)]
    outcomes = [
        grading.Outcome("ada", scores=scores, seconds=12.34),
        grading.Outcome("bob", scores=scores, review=["cell x: imports sys"], notes=["deleted cell 'test_b' put back"], seconds=3.0),
        grading.Outcome("carl-with-a-long-name", scores=[grading.CellScore("test_a", 0.0, 2.0), grading.CellScore("test_b", 0.0, 5.0)],
                        rejected="x.ipynb is not a readable notebook: broken JSON", seconds=0.1),
    ]
    lines = grading.summary(UNIT, outcomes, grading.Mode("userns", "sandbox without a separate uid")).splitlines()
    assert lines[0] == f"{UNIT}: 3 submission(s), sandbox: userns (sandbox without a separate uid)"
    assert lines[1].split() == ["student", "points", "time", "status"]
    rows = {line.split()[0]: line for line in lines[3:]}
    assert rows["ada"].split() == ["ada", "5", "/", "7", "12.3s", "ok"]
    assert "0 / 7" in rows["bob"] and "NEEDS REVIEW: cell x: imports sys (would be 5) · deleted cell 'test_b' put back" in rows["bob"]
    assert "0 / 7" in rows["carl-with-a-long-name"] and "rejected: x.ipynb is not a readable notebook: broken JSON" in rows["carl-with-a-long-name"]
    assert len({line.index("/") for line in lines[3:]}) == 1, "the points column is aligned"
    assert grading.summary(UNIT, outcomes[:1], grading.Mode("root")).splitlines()[0] == f"{UNIT}: 1 submission(s), sandbox: root"


def test_grade_one_never_raises_for_the_submissions_sake(ref, tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    outcome = grading.grade_one("eve", broken, ref, COURSE.release_dir / UNIT, grading.Limits(), grading.Mode("none"), "")
    assert outcome.rejected.startswith("broken.ipynb is not a readable notebook: broken JSON")
    assert [(s.grade_id, s.points, s.max_points) for s in outcome.scores] == [(g, 0.0, ref.points[g]) for g in ref.grade_ids()]
    assert outcome.recorded_points == 0 and outcome.max_points == 7 and outcome.executed is None
