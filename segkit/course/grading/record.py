"""Recording one graded submission, outside the sandbox: the autograded notebook, the gradebook
rows (through nbgrader's ``Gradebook`` API, so ``nbgrader export`` and formgrader keep working)
and the feedback HTML (hidden tests redacted, by nbgrader with the course's preprocessors). The
notebook is sanitized first (:mod:`segkit.course.grading.sanitize`), so neither runs a script."""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from segkit.course.config import Course
from segkit.course.grading.reference import db_url, quiet
from segkit.course.grading.sanitize import sanitize_notebook

if TYPE_CHECKING:
    from segkit.course.grading.classrun import Outcome


def record(course: Course, unit: str, outcome: Outcome, *, feedback: bool = True) -> Path | None:
    """Write the autograded notebook, the gradebook rows and the feedback HTML for ``outcome``.
    A withheld score is recorded as 0 with "needs manual grade" (formgrader lists it)."""
    from nbgrader.api import Gradebook, MissingEntry

    student = outcome.student
    autograded = course.root / "autograded" / student / unit
    if autograded.exists():
        shutil.rmtree(autograded)
    autograded.mkdir(parents=True)
    # What instructors and learners open renders inert (the feedback HTML is made from this file).
    executed, sanitized = sanitize_notebook(outcome.executed, trusted_markdown=_lesson_markdown(course, unit)) \
        if outcome.executed else (None, [])
    if executed is not None:
        nbformat.write(executed, str(autograded / f"{unit}.ipynb"))
    (autograded / "timestamp.txt").write_text(time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC", time.gmtime()))
    report = {"student": student, "points": outcome.points, "recorded": outcome.recorded_points,
              "max_points": outcome.max_points, "review": outcome.review, "rejected": outcome.rejected,
              "notes": outcome.notes, "sanitized": sanitized, "sandbox": outcome.sandbox, "scores": [asdict(s) for s in outcome.scores]}
    (autograded.parent / f"{unit}.grading.json").write_text(json.dumps(report, indent=1))  # not copied into feedback
    withheld = bool(outcome.review or outcome.rejected)
    with quiet(), Gradebook(db_url(course)) as gb:
        gb.update_or_create_student(student)
        try:
            gb.remove_submission(unit, student)
        except MissingEntry:
            pass
        gb.add_submission(unit, student)
        for s in outcome.scores:
            grade = gb.find_grade(s.grade_id, unit, unit, student)
            grade.auto_score = 0.0 if withheld else s.points
            grade.needs_manual_grade = bool(outcome.review)
        gb.db.commit()
    if not feedback or executed is None:
        return None
    from segkit.course.nbgrader_settings import nbgrader_api

    # nbgrader makes the feedback page from autograded/: show it the learner's notebook (the run
    # without hidden tests, when there is one), then put the graded run back for the instructor.
    learner_copy = sanitize_notebook(outcome.feedback, trusted_markdown=_lesson_markdown(course, unit))[0] \
        if outcome.feedback else None
    if learner_copy is not None:
        nbformat.write(learner_copy, str(autograded / f"{unit}.ipynb"))
    try:
        with quiet():
            nbgrader_api(course.root).generate_feedback(unit, student, force=True)
    finally:
        if learner_copy is not None:
            nbformat.write(executed, str(autograded / f"{unit}.ipynb"))
    html = course.root / "feedback" / student / unit / f"{unit}.html"
    return html if html.is_file() else None


def _lesson_markdown(course: Course, unit: str) -> list[str]:
    """The released lesson's markdown: the instructor's own, rendered as written."""
    path = course.release_notebook(unit)
    if not path.is_file():
        return []
    return [c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "markdown"]
