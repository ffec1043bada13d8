"""Grade a learner's notebook locally, exactly as the instructor's autograder would.

Grading happens in a scratch copy of the course in a temporary folder, with the class grader
(:mod:`segkit.course.grading`: the notebook runs in a sandbox where the machine allows it, and
`submit` says when it cannot): ``lessons/``, ``solutions/`` and the learner's notebook are only read. The feedback HTML (hidden tests
redacted) is copied to ``feedback/STUDENT/UNIT/UNIT.html`` under the course root.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from sqlalchemy.exc import SAWarning

from segkit.course.config import Course, CourseError
from segkit.course import grading
from segkit.course.grading.score import CellScore, ScoreTotals, cell_errors
from segkit.course.authoring.release import generate, make_scratch_course, nbgrader_api
from segkit.course.learner.workspace import default_submission

STUDENT_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
FULL_MARKS, POINTS_MISSING, GRADING_FAILED = 0, 1, 2


@dataclass
class SubmitResult(ScoreTotals):
    unit: str
    student: str
    scores: list[CellScore] = field(default_factory=list)  # one per graded cell; message: its first error line
    errors: dict[str, str] = field(default_factory=dict)  # cell id -> "Error: message", any cell
    feedback: Path | None = None
    seconds: float = 0.0
    failure: str = ""  # why grading failed, if it did
    notes: list[str] = field(default_factory=list)  # sandbox mode, repairs made to the notebook
    review: list[str] = field(default_factory=list)  # why the instructor's grader would withhold the score
    executed: nbformat.NotebookNode | None = None  # the graded run (the course website reuses a solution's)

    @property
    def exit_code(self) -> int:
        if self.failure or self.review:
            return GRADING_FAILED
        return FULL_MARKS if self.points >= self.max_points else POINTS_MISSING

    def table(self) -> str:
        if self.failure:
            return "\n".join([f"{self.unit}: grading failed", self.failure, *(f"note: {n}" for n in self.notes)])
        width = max([len("exercise"), *(len(s.grade_id) for s in self.scores)])
        lines = [f"{self.unit} · {self.student}", f"{'exercise':<{width}}  points", "-" * (width + 12)]
        for s in self.scores:
            mark = "ok" if s.points >= s.max_points else s.message[:100]
            lines.append(f"{s.grade_id:<{width}}  {_num(s.points):>3} / {_num(s.max_points):<3}  {mark}")
        lines.append("-" * (width + 12))
        lines.append(f"{'total':<{width}}  {_num(self.points):>3} / {_num(self.max_points):<3}")
        lines.extend(f"note: {n}" for n in self.notes)
        lines.extend(f"needs review (the class grader would withhold this score): {r}" for r in self.review)
        if self.feedback:
            lines.append(f"feedback: {self.feedback}")
        return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:g}"


def submit(
    course: Course,
    unit: str,
    notebook: Path | None = None,
    student: str = "learner",
    feedback_root: Path | None = None,
    limits: grading.Limits | None = None,
) -> SubmitResult:
    """Autograde ``notebook`` (default: the learner's working copy ``work/UNIT/UNIT.ipynb``, else
    ``lessons/UNIT/UNIT.ipynb``) for ``unit`` in a scratch course and return the scores; nothing
    in the course or the notebook is modified.

    The feedback HTML goes to ``feedback_root/STUDENT/UNIT/UNIT.html`` (default: the course's
    git-ignored ``feedback/`` folder). ``limits``: the sandbox's limits (default: the class grader's).
    """
    unit = course.require_unit(unit)
    if not STUDENT_PATTERN.match(student):
        raise CourseError(f"student name {student!r} may only use letters, digits, '.', '_' and '-'")
    notebook = Path(notebook) if notebook else default_submission(course, unit)[0]
    if not notebook.is_file():
        raise CourseError(f"no notebook at {notebook}")
    grading.read_submission(notebook)  # an unreadable file is the learner's to fix: say why at once

    result = SubmitResult(unit=unit, student=student)
    start = time.perf_counter()
    # The instructor's grader (segkit.course.grading): a sandbox where the machine allows it.
    mode = grading.detect()
    if mode.reason:
        result.notes.append(mode.reason)
    with tempfile.TemporaryDirectory(prefix="segkit-submit-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session warnings, not the learner's
        scratch = make_scratch_course(course, Path(tmp), [unit])
        generate(nbgrader_api(scratch.root), unit)
        # the learner is the only reader of their feedback: no second run without hidden tests
        outcome = grading.grade_class(scratch, unit, {student: notebook}, jobs=1, mode=mode, progress=False,
                                       limits=limits or grading.Limits(), feedback_run=False, keep_notebooks=True)[0]
        result.notes += outcome.notes
        result.review = outcome.review
        if outcome.rejected:
            result.failure = outcome.rejected
            result.seconds = time.perf_counter() - start
            return result
        result.executed = nbformat.from_dict(outcome.executed)
        result.errors = cell_errors(result.executed)
        result.scores = list(outcome.scores)
        html = scratch.root / "feedback" / student / unit / f"{unit}.html"
        if html.is_file():
            result.feedback = (feedback_root or course.root / "feedback") / student / unit / f"{unit}.html"
            result.feedback.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(html, result.feedback)
    result.seconds = time.perf_counter() - start
    return result
