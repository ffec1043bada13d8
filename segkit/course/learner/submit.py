"""Grade a learner's notebook locally, exactly as the instructor's autograder would.

Grading happens in a scratch copy of the course in a temporary folder, with the class grader
(:mod:`segkit.course.grading`: the notebook runs in a sandbox where the machine allows it, and
`submit` says when it cannot): ``lessons/``, ``solutions/`` and the learner's notebook are only read. The feedback HTML (hidden tests
redacted) is copied to ``feedback/STUDENT/UNIT/UNIT.html`` under the course root.
"""
from __future__ import annotations

import contextlib
import re
import shutil
import sys
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
TABLE_WIDTH = 110
# segkit.course.grading.execute's events for a cell it stopped, and the budget's own stop
STOP_NOTE = re.compile(r"^(cell \S+: (stopped|timed out|the kernel died)|budget: the kernel was stopped)")


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

    @property
    def causes(self) -> list[str]:
        """Why cells were stopped (a kill switch, the budget, a kernel death): the first cause of
        the errors after it, where a fresh kernel ran without that cell's results (a NameError)."""
        return [n for n in self.notes if STOP_NOTE.match(n)]

    def table(self, width: int = TABLE_WIDTH) -> str:
        if self.failure:
            return "\n".join([f"{self.unit}: grading failed", self.failure, *(f"note: {n}" for n in self.notes)])
        name = max([len("exercise"), *(len(s.grade_id) for s in self.scores)])
        lines = [f"{self.unit} · {self.student}"]
        for cause in self.causes:  # the real cause first, before the errors it led to
            lines += _wrapped(f"STOPPED {cause}. Cells after it ran in a fresh kernel without that cell's results, "
                              "so errors below such as NameError follow from this.", width, "", "  ")
        lines += [f"{'exercise':<{name}}  points", "-" * (name + 12)]
        indent = " " * (name + 13)
        for s in self.scores:
            mark = "ok" if s.points >= s.max_points else s.message
            lines += _wrapped(mark, width, f"{s.grade_id:<{name}}  {_num(s.points):>3} / {_num(s.max_points):<3}  ", indent)
        lines.append("-" * (name + 12))
        lines.append(f"{'total':<{name}}  {_num(self.points):>3} / {_num(self.max_points):<3}")
        lines.extend(f"note: {n}" for n in self.notes)
        lines.extend(f"needs review (the class grader would withhold this score): {r}" for r in self.review)
        if self.feedback:
            lines.append(f"feedback: {self.feedback}")
        return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:g}"



def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    """``text`` whole, wrapped at ``width`` after the prefix ``first`` (continuation lines: ``rest``)."""
    import textwrap

    out = []
    for k, paragraph in enumerate(text.splitlines() or [""]):
        out += textwrap.wrap(paragraph, width, initial_indent=first if k == 0 else rest, subsequent_indent=rest,
                             break_long_words=False, break_on_hyphens=False) or [first if k == 0 else rest]
    return out


def submit(
    course: Course,
    unit: str,
    notebook: Path | None = None,
    student: str = "learner",
    feedback_root: Path | None = None,
    limits: grading.Limits | None = None,
    mode: grading.Mode | None = None,
    progress: bool = False,
) -> SubmitResult:
    """Autograde ``notebook`` (default: the learner's working copy ``work/UNIT/UNIT.ipynb``, else
    ``lessons/UNIT/UNIT.ipynb``) for ``unit`` in a scratch course and return the scores; nothing
    in the course or the notebook is modified.
    ``mode``: the sandbox (default: the strongest this machine allows, :func:`segkit.course.grading.detect`).
    ``progress``: show a progress bar on stderr, cell by cell (the command line's ``submit``).

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
    mode = mode or grading.detect()
    if mode.reason:
        result.notes.append(mode.reason)
    with tempfile.TemporaryDirectory(prefix="segkit-submit-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session warnings, not the learner's
        scratch = make_scratch_course(course, Path(tmp), [unit])
        generate(nbgrader_api(scratch.root), unit)
        # the learner is the only reader of their feedback: no second run without hidden tests
        with _cell_bar(unit, progress) as on_cell:
            outcome = grading.grade_class(scratch, unit, {student: notebook}, jobs=1, mode=mode, progress=False,
                                           limits=limits or grading.Limits(), feedback_run=False, keep_notebooks=True,
                                           cell_progress=on_cell)[0]
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


@contextlib.contextmanager
def _cell_bar(unit: str, show: bool):
    """A progress bar over the notebook's code cells, on stderr (None when not ``show``)."""
    if not show:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(desc=f"grading {unit} (hidden tests included)", unit="cell", leave=False, file=sys.stderr,
               bar_format="{desc}: {n}/{total} cells [{elapsed}] {postfix}")

    def on_cell(done: int, total: int, cell_id: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(f"running {cell_id}", refresh=True)

    try:
        yield on_cell
    finally:
        bar.close()
