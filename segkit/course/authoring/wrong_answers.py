"""Prove that every plausible wrong answer of a unit loses points.

Each unit keeps its wrong answers beside the solution, in ``solutions/UNIT/wrong_answers.py``
(instructor side: nbgrader never releases that file and ``check`` verifies it is absent from
``lessons/``). The file is plain data::

    WRONG_ANSWERS = [
        dict(
            cell="soft_dice",            # the answer cell's id (= its grade id)
            id="dice-no-smooth",         # unique in the unit, kebab-case
            description="no smoothing term: empty masks divide by zero",
            patch=[("smooth = 1.0", "smooth = 0.0")],   # (old, new) edits of the solution's cell
            # source='''def soft_dice(...): ...''', # or the whole replacement for the answer cell
            # tests=("test_soft_dice",), # optional; default: the graded cells after the answer
        ),
    ]

Prefer ``patch``: each ``old`` must occur exactly once in the solution's answer cell, so an edit of
the solution that removes it makes ``load_wrong_answers`` (and ``check``) fail instead of leaving a
stale copy of the old solution behind. ``source`` is for answers written from scratch.

:func:`run_unit` executes the solution notebook **once**, top to bottom, in one kernel started
exactly as the grader starts its kernels (the same :class:`segkit.course.grading.execute.Kernel`
and environment, unconfined, with the released timeouts; warnings and progress bars off, one
thread, in a scratch copy of the unit folder), up to the last test cell any wrong
answer needs: cells after it (often a final training run) cannot change a wrong answer's score
and are not run. Then, for each answer cell that has
wrong answers, it re-runs the cells from that answer cell through its test cells:

1. once with the solution, as a *baseline* (it must earn full marks);
2. for each wrong answer: with the answer cell's source replaced (it must lose points), then
   again with the solution put back (it must earn full marks again: the *restore check*).

The "range" of a wrong answer is every code cell from its answer cell to its last test cell;
its test cells are the graded cells named in ``tests``, by default the graded cells after the
answer cell up to the next answer cell. Ordinary code cells inside the range re-run too.
Points are counted by the grader's own :func:`segkit.course.grading.score.grade_cell`: an error
or anything on stderr in a test cell scores 0, a numeric last expression gives partial credit,
hidden tests included (this is the source notebook, so they are all there).

Where this shortcut differs from real grading
----------------------------------------------
- Cells before the answer cell ran once, with the solution, and cells after the range are not
  re-run: a wrong answer is scored only by its own exercise's tests (and a training cell that
  follows the exercise only counts where the wrong answer's ``tests`` name the cell after it). A wrong answer that would
  also break a *later* exercise that reuses the function (04's ``FCN8s`` calls ``fuse_skip``) is
  not counted there, so the table can show fewer lost points than a real submission would.
- The kernel is not fresh: names the solution (or an earlier wrong answer) defined stay defined.
  A wrong answer that only works because a helper from the solution is still in the namespace
  passes here and fails in a real submission (never the other way round for the solution).
- Random state is whatever the earlier cells left: a cell that draws random numbers without its
  own seed sees different numbers on a re-run than in a top-to-bottom run.
- Execution order inside the range is the notebook's; a learner who runs cells out of order is
  not modelled.

How leftovers are guarded against: every range runs once with the solution before any wrong
answer (baseline), and again after every wrong answer with the solution restored. Both must
earn full marks. If a wrong answer leaves something behind that changes the solution's score
(a global it monkeypatched, a tensor it modified in place, a seed it consumed), the restore check
fails and the run reports a *harness failure*, never a "caught" wrong answer; and a wrong answer
is only ever scored on a range whose solution run just earned full marks.
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import nbformat
from nbformat.notebooknode import NotebookNode

from segkit.course import cells
from segkit.course.config import Course, CourseError
from segkit.course.grading.environment import segkit_pythonpath
from segkit.course.grading.execute import Kernel
from segkit.course.grading.score import ends_with_expression, grade_cell
from segkit.course.sandbox import Limits, Mode

HARNESS_MODE = Mode("none", "the wrong-answer harness runs the instructor's own answers")

WRONG_ANSWERS_FILE = "wrong_answers.py"
WRONG_ANSWER_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MIN_WRONG_ANSWERS = 3  # per graded exercise; `check` reports fewer as a problem
_FIELDS = {"cell", "id", "description", "source", "patch", "tests"}


@dataclass(frozen=True)
class WrongAnswer:
    """One plausible wrong answer for one answer cell."""

    cell: str
    id: str
    description: str
    source: str
    tests: tuple[str, ...] | None = None


def wrong_answers_path(course: Course, unit: str) -> Path:
    return course.source_dir / unit / WRONG_ANSWERS_FILE


def load_wrong_answers(course: Course, unit: str) -> list[WrongAnswer]:
    """The unit's wrong answers (``[]`` if it has no file); raises CourseError on a malformed file."""
    path = wrong_answers_path(course, unit)
    if not path.is_file():
        return []
    rel = path.relative_to(course.root)
    namespace: dict[str, Any] = {"__file__": str(path), "__name__": f"wrong_answers_{unit.replace('-', '_')}"}
    try:
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    except Exception as err:  # a syntax error or similar in the instructor's file
        raise CourseError(f"{rel} cannot be loaded: {type(err).__name__}: {err}") from err
    entries = namespace.get("WRONG_ANSWERS")
    if not isinstance(entries, (list, tuple)):
        raise CourseError(f"{rel} must define WRONG_ANSWERS = [dict(cell=..., id=..., description=..., source=...), ...]")
    answers = []
    solution: dict[str, str] | None = None
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise CourseError(f"{rel}: entry {number} is a {type(entry).__name__}, expected dict(cell=..., id=..., ...)")
        name = f"entry {number} ({entry.get('id', '?')})"
        unknown, missing = set(entry) - _FIELDS, {"cell", "id", "description"} - set(entry)
        if unknown or missing:
            raise CourseError(f"{name}: " + (f"unknown field(s) {sorted(unknown)}" if unknown else f"missing field(s) {sorted(missing)}"))
        if ("source" in entry) == ("patch" in entry):
            raise CourseError(f"{name}: give exactly one of source= (the whole answer cell) or patch=[(old, new), ...]")
        if not all(isinstance(entry[k], str) for k in ("cell", "id", "description")):
            raise CourseError(f"{name}: cell, id and description must be strings")
        if "patch" in entry:
            if solution is None:
                solution = _answer_sources(course, unit)
            source = apply_patch(solution.get(entry["cell"]), entry["patch"], name, entry["cell"])
        elif isinstance(entry["source"], str):
            source = entry["source"]
        else:
            raise CourseError(f"{name}: source must be a string")
        tests = entry.get("tests")
        if tests is not None:
            tests = (tests,) if isinstance(tests, str) else tuple(tests)
        answers.append(WrongAnswer(entry["cell"], entry["id"], entry["description"], source.strip("\n"), tests))
    return answers


def _answer_sources(course: Course, unit: str) -> dict[str, str]:
    """Answer cell id -> its source in the solution notebook."""
    notebook = nbformat.read(str(course.source_notebook(unit)), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebook.cells if _is_answer(c)}


def apply_patch(solution: str | None, patch: Any, name: str, cell: str) -> str:
    """``solution`` with every ``(old, new)`` of ``patch`` applied; each ``old`` must occur exactly
    once, so a patch that no longer fits the solution is an error, never a silent no-op."""
    if solution is None:
        raise CourseError(f"{name}: the solution has no answer cell {cell!r}")
    if not isinstance(patch, (list, tuple)) or not patch or not all(
            isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in patch):
        raise CourseError(f"{name}: patch must be a non-empty list of (old, new) string pairs")
    source = solution
    for old, new in patch:
        count = source.count(old)
        if count != 1:
            where = "is no longer in" if count == 0 else f"occurs {count} times in"
            raise CourseError(f"{name}: the patch's text {old.strip()[:60]!r} {where} the solution's cell {cell!r}: "
                              "update the entry to the current solution" + (" (make `old` longer)" if count else ""))
        source = source.replace(old, new)
    if source == solution:
        raise CourseError(f"{name}: the patch leaves the solution unchanged")
    return source


# ---- the notebook's structure ------------------------------------------------------------------


def _is_answer(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and cells.is_answer(cell)


def _is_test(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and cells.is_test(cell)


def default_tests(notebook: NotebookNode, answer_id: str) -> tuple[str, ...]:
    """Graded test cells after the answer cell ``answer_id``, up to the next answer cell, except
    ``stretch`` cells (beyond the solution, so they cannot tell a wrong answer from it)."""
    ids = [c.get("id") for c in notebook.cells]
    start = ids.index(answer_id)
    tests = []
    for cell in notebook.cells[start + 1:]:
        if _is_answer(cell):
            break
        if _is_test(cell) and not cells.is_stretch(cell):
            tests.append(cell.get("id"))
    return tuple(tests)


def structure_problems(notebook: NotebookNode, answers: Iterable[WrongAnswer]) -> list[tuple[str | None, str]]:
    """``(wrong answer id, message)`` for every wrong answer that cannot run against ``notebook``:
    unknown or non-answer cell, unknown or non-test test cells, tests before the answer, duplicate
    ids, bad ids."""
    by_id = {c.get("id"): (i, c) for i, c in enumerate(notebook.cells)}
    problems: list[tuple[str | None, str]] = []
    seen: set[str] = set()
    for wa in answers:
        if wa.id in seen:
            problems.append((wa.id, f"wrong answer id {wa.id!r} is used more than once"))
        seen.add(wa.id)
        if not WRONG_ANSWER_ID.match(wa.id):
            problems.append((wa.id, f"wrong answer id {wa.id!r} must be kebab-case (e.g. dice-no-smooth)"))
        if not wa.description.strip():
            problems.append((wa.id, "description is empty: say which misconception it stands for"))
        if wa.cell not in by_id:
            problems.append((wa.id, f"names cell {wa.cell!r}, which is not in the notebook"))
            continue
        index, cell = by_id[wa.cell]
        if not _is_answer(cell):
            problems.append((wa.id, f"names cell {wa.cell!r}, which is not an answer cell"))
            continue
        tests = wa.tests if wa.tests is not None else default_tests(notebook, wa.cell)
        if not tests:
            problems.append((wa.id, f"answer cell {wa.cell!r} has no graded test cell after it"))
        for test in tests:
            if test not in by_id:
                problems.append((wa.id, f"test cell {test!r} is not in the notebook"))
            elif not _is_test(by_id[test][1]):
                problems.append((wa.id, f"cell {test!r} is not a graded test cell"))
            elif cells.is_stretch(by_id[test][1]):
                problems.append((wa.id, f"cell {test!r} is a stretch cell, which the solution may miss too"))
            elif by_id[test][0] < index:
                problems.append((wa.id, f"test cell {test!r} comes before its answer cell {wa.cell!r}"))
    return problems


def graded_exercises(notebook: NotebookNode) -> list[str]:
    """Answer cells followed by at least one graded test cell: the exercises that need wrong answers."""
    return [c.get("id") for c in notebook.cells if _is_answer(c) and default_tests(notebook, c.get("id"))]


# ---- results -------------------------------------------------------------------------------------


@dataclass
class RangeScore:
    """Points of one run of a range: per test cell, and the first error line of failing cells."""

    points: dict[str, float] = field(default_factory=dict)
    max_points: dict[str, float] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def earned(self) -> float:
        return sum(self.points.values())

    @property
    def possible(self) -> float:
        return sum(self.max_points.values())

    @property
    def full(self) -> bool:
        return self.earned >= self.possible

    def first_message(self) -> str:
        return next(iter(self.messages.values()), "")


@dataclass
class WrongAnswerOutcome:
    wrong: WrongAnswer
    score: RangeScore
    restored: RangeScore

    @property
    def caught(self) -> bool:
        return not self.score.full

    @property
    def restore_ok(self) -> bool:
        return self.restored.full


@dataclass
class UnitReport:
    unit: str
    outcomes: list[WrongAnswerOutcome] = field(default_factory=list)
    baselines: dict[str, RangeScore] = field(default_factory=dict)  # answer cell -> solution run
    seconds: float = 0.0
    failure: str = ""  # the harness could not judge this unit (and why)

    @property
    def problems(self) -> list[str]:
        """One line per thing that makes the unit fail: harness failures first."""
        lines = [f"{self.unit}: {self.failure}"] if self.failure else []
        for cell, base in self.baselines.items():
            if not base.full:
                lines.append(f"{self.unit}: the solution range of {cell!r} earns {base.earned:g} / {base.possible:g} "
                             f"when re-run (harness/state problem, not a wrong answer): {base.first_message()}")
        for o in self.outcomes:
            if not o.restore_ok:
                lines.append(f"{self.unit}: after wrong answer {o.wrong.id!r} the restored solution earns "
                             f"{o.restored.earned:g} / {o.restored.possible:g} (a leftover of the wrong answer, "
                             f"a harness/state-leak bug, not a catch): {o.restored.first_message()}")
            elif not o.caught:
                lines.append(f"{self.unit}: wrong answer {o.wrong.id!r} ({o.wrong.description}) keeps full marks "
                             f"{o.score.earned:g} / {o.score.possible:g} on {', '.join(o.score.points)}")
        return lines

    @property
    def ok(self) -> bool:
        return not self.problems


def format_table(reports: list[UnitReport]) -> str:
    rows = [("unit", "exercise", "wrong answer", "points", "caught", "")]
    for report in reports:
        for o in report.outcomes:
            caught = "yes" if o.caught else "NO"
            note = "" if o.restore_ok else "restore FAILED"
            if o.caught and o.restore_ok:
                note = o.score.first_message()[:70]
            rows.append((report.unit, o.wrong.cell, o.wrong.id, f"{o.score.earned:g} / {o.score.possible:g}", caught, note))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(f"{v:<{w}}" for v, w in zip(row[:5], widths)) + (f"  {row[5]}" if row[5] else ""))
        if n == 0:
            lines.append("-" * (sum(widths) + 2 * 4))
    for report in reports:
        status = "FAILED" if not report.ok else "ok"
        lines.append(f"{report.unit}: {len(report.outcomes)} wrong answers, {report.seconds:.1f} s, {status}")
    return "\n".join(lines)


# ---- execution -----------------------------------------------------------------------------------


def run_unit(course: Course, unit: str, only: Iterable[str] | None = None) -> UnitReport:
    """Execute ``unit``'s solution once, then score every wrong answer (or those in ``only``)."""
    unit = course.require_unit(unit)
    report = UnitReport(unit)
    start = time.perf_counter()
    try:
        answers = load_wrong_answers(course, unit)
        if only is not None:
            wanted = set(only)
            answers = [wa for wa in answers if wa.id in wanted]
        source = nbformat.read(str(course.source_notebook(unit)), as_version=4)
        bad = structure_problems(source, answers)
        if bad:
            report.failure = "; ".join(f"{wid}: {msg}" if wid else msg for wid, msg in bad)
            return report
        if not answers:
            return report
        _run(course, unit, source, answers, report)
    finally:
        report.seconds = time.perf_counter() - start
    return report


def _run(course: Course, unit: str, source: NotebookNode, answers: list[WrongAnswer], report: UnitReport) -> None:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    notebook = copy.deepcopy(source)
    index = {c.get("id"): i for i, c in enumerate(notebook.cells)}
    with tempfile.TemporaryDirectory(prefix="segkit-wrong-answers-") as tmp:
        cwd = Path(tmp) / unit
        shutil.copytree(course.source_dir / unit, cwd, ignore=shutil.ignore_patterns(WRONG_ANSWERS_FILE, ".ipynb_checkpoints"))
        kernel: Kernel | None = None

        def execute(cell_index: int, source_text: str | None = None) -> NotebookNode:
            cell = copy.deepcopy(source.cells[cell_index])
            if source_text is not None:
                cell.source = source_text
            cell.outputs = []
            kernel.run(cell, cell_index, cells.timeout(source.cells[cell_index]))
            return cell

        def run_range(first: int, tests: tuple[str, ...], replacement: str | None = None) -> RangeScore:
            last = max(index[t] for t in tests)
            score = RangeScore()
            for i in range(first, last + 1):
                if source.cells[i].cell_type != "code":
                    continue
                cell = execute(i, replacement if i == first else None)
                cell_id = cell.get("id")
                if cell_id in tests:
                    points, max_points, message = grade_cell(cell, partial=ends_with_expression(source.cells[i].source))
                    score.points[cell_id], score.max_points[cell_id] = points, max_points
                    if points < max_points:
                        score.messages[cell_id] = message
            return score

        try:
            tests_of = {wa.id: wa.tests if wa.tests is not None else default_tests(source, wa.cell) for wa in answers}
            last_needed = max(index[t] for tests in tests_of.values() for t in tests)
            # The grader's own kernel and environment, unconfined: these are the instructor's answers.
            kernel = Kernel(notebook, cwd, Limits(), HARNESS_MODE, os.getuid(), segkit_pythonpath(), None)
            # The solution, once, top to bottom, up to the last test cell a wrong answer needs
            # (what follows, e.g. a final training run, cannot change any wrong answer's score).
            for i, cell in enumerate(source.cells[: last_needed + 1]):
                if cell.cell_type != "code":
                    continue
                ran = execute(i)
                if cells.is_test(ran) and not cells.is_stretch(ran):
                    points, max_points, message = grade_cell(ran, partial=ends_with_expression(cell.source))
                    if points < max_points:
                        report.failure = (f"the solution notebook itself loses points in {ran.get('id')!r} "
                                          f"({points:g} / {max_points:g}): {message}")
                        return
            for cell_id in dict.fromkeys(wa.cell for wa in answers):  # answer cells, in file order
                group = [wa for wa in answers if wa.cell == cell_id]
                solution = source.cells[index[cell_id]].source
                all_tests = tuple(dict.fromkeys(t for wa in group for t in tests_of[wa.id]))
                report.baselines[cell_id] = base = run_range(index[cell_id], all_tests)
                if not base.full:
                    continue  # reported as a harness problem; scoring wrong answers here would mean nothing
                for wa in group:
                    score = run_range(index[cell_id], tests_of[wa.id], wa.source)
                    restored = run_range(index[cell_id], tests_of[wa.id], solution)
                    report.outcomes.append(WrongAnswerOutcome(wa, score, restored))
        except (CellTimeoutError, DeadKernelError) as err:
            done = report.outcomes[-1].wrong.id if report.outcomes else None
            what = "a cell timed out" if isinstance(err, CellTimeoutError) else "the kernel died (os._exit, a crash or too much memory)"
            report.failure = what + (f" after wrong answer {done!r}" if done else "") + "; the remaining wrong answers were not run"
        finally:
            if kernel is not None:
                kernel.close()


def run_units(course: Course, units: list[str] | None = None) -> list[UnitReport]:
    units = [course.require_unit(u) for u in units] if units else course.units()
    return [run_unit(course, unit) for unit in units]
