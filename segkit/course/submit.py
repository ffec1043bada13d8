"""Grade a learner's notebook locally, exactly as the instructor's autograder would.

Grading happens in a scratch copy of the course in a temporary folder, with the class grader
(:mod:`segkit.course.grading`: the notebook runs in a sandbox where the machine allows it, and
`submit` says when it cannot): ``lessons/``, ``solutions/`` and the learner's notebook are only read. The feedback HTML (hidden tests
redacted) is copied to ``feedback/STUDENT/UNIT/UNIT.html`` under the course root.
"""
from __future__ import annotations

import difflib
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
from segkit.course.grading import CellScore, ScoreTotals
from segkit.course.release import generate, make_scratch_course, nbgrader_api
from segkit.course.workspace import default_submission
from segkit.course.sandbox import Limits

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


def reattach_metadata(submission: nbformat.NotebookNode, reference: nbformat.NotebookNode) -> int:
    """Give cells that lost their nbgrader metadata (e.g. saved by Colab) that of the lesson.

    Cells are matched by cell id where it survived, otherwise by aligning the sequence of cell
    sources (answer cells are the ones the learner changed between two unchanged neighbours).
    Returns the number of cells repaired.
    """
    def attach(ref: nbformat.NotebookNode, cell: nbformat.NotebookNode) -> bool:
        if "nbgrader" in ref.metadata and "nbgrader" not in cell.metadata and ref.cell_type == cell.cell_type:
            cell.metadata["nbgrader"] = dict(ref.metadata["nbgrader"])
            return True
        return False

    by_id = {c.get("id"): c for c in reference.cells}
    repaired = sum(attach(by_id[c.get("id")], c) for c in submission.cells if c.get("id") in by_id)

    def key(c: nbformat.NotebookNode) -> str:
        return f"{c.cell_type}\0{c.source.strip()}"

    matcher = difflib.SequenceMatcher(a=[key(c) for c in reference.cells], b=[key(c) for c in submission.cells], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            repaired += sum(attach(r, c) for r, c in zip(reference.cells[i1:i2], submission.cells[j1:j2]))
    return repaired


def submit(
    course: Course,
    unit: str,
    notebook: Path | None = None,
    student: str = "learner",
    feedback_root: Path | None = None,
    limits: Limits | None = None,
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
    from segkit.course.grading import read_submission

    read_submission(notebook)  # an unreadable file is the learner's to fix: say why at once

    result = SubmitResult(unit=unit, student=student)
    start = time.perf_counter()
    # The instructor's grader (segkit.course.grading): a sandbox where the machine allows it.
    from segkit.course import grading

    mode = grading.detect()
    if mode.reason:
        result.notes.append(mode.reason)
    with tempfile.TemporaryDirectory(prefix="segkit-submit-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session warnings, not the learner's
        scratch = make_scratch_course(course, Path(tmp), [unit])
        generate(nbgrader_api(scratch.root), unit)
        outcome = grading.grade_class(scratch, unit, {student: notebook}, jobs=1, mode=mode, progress=False,
                                       limits=limits or Limits())[0]
        result.notes += outcome.notes
        result.review = outcome.review
        if outcome.rejected:
            result.failure = outcome.rejected
            result.seconds = time.perf_counter() - start
            return result
        result.errors = _cell_errors(nbformat.from_dict(outcome.executed))
        result.scores = list(outcome.scores)
        html = scratch.root / "feedback" / student / unit / f"{unit}.html"
        if html.is_file():
            result.feedback = (feedback_root or course.root / "feedback") / student / unit / f"{unit}.html"
            result.feedback.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(html, result.feedback)
    result.seconds = time.perf_counter() - start
    return result


def _cell_errors(notebook: nbformat.NotebookNode) -> dict[str, str]:
    errors = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                message = output.evalue.strip() or ("not done yet" if output.ename == "NotImplementedError" else "")
                errors[cell.get("id")] = f"{output.ename}: {message}" if message else output.ename
    return errors
