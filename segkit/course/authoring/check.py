"""Lint the course: every rule a unit must follow, one precise message per problem."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
import nbformat

from segkit.course import cells
from segkit.course.config import (
    BADGE_CELL_ID,
    OBJECTIVES_HEADING,
    SETUP_CELL_ID,
    UNIT_PATTERN,
    Course,
    CourseError,
)
from segkit.course.authoring.release import stale_units
from segkit.course.authoring.wrong_answers import (
    MIN_WRONG_ANSWERS,
    WRONG_ANSWERS_FILE,
    graded_exercises,
    load_wrong_answers,
    structure_problems,
    wrong_answers_path,
)

SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
LEAK_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    cell: str | None = None

    def __str__(self) -> str:
        where = f"{self.path} [cell {self.cell}]" if self.cell else self.path
        return f"{where}: {self.message}"


def check_course(course: Course, units: list[str] | None = None, *, sync: bool = True) -> list[Problem]:
    """All problems in the given units (default: every unit), including ``lessons/`` sync."""
    problems: list[Problem] = []
    units = [course.require_unit(u) for u in units] if units else course.units()
    if not units:
        problems.append(Problem("solutions/", "no units found (expected folders named NN-slug)"))
    for stray in sorted(p.name for p in course.source_dir.iterdir() if p.is_dir() and not UNIT_PATTERN.match(p.name)) if course.source_dir.is_dir() else []:
        if not stray.startswith("."):
            problems.append(Problem(f"solutions/{stray}", "unit folders must be named NN-slug, e.g. 07-training-in-practice"))
    for unit in units:
        problems.extend(check_unit(course, unit))
    if sync:
        for unit, diffs in stale_units(course, units).items():
            for diff in diffs:
                problems.append(Problem(f"lessons/{unit}", f"{diff}; run `python -m segkit.course release {unit}`"))
    return problems


def check_unit(course: Course, unit: str) -> list[Problem]:
    source_path, lesson_path = course.source_notebook(unit), course.release_notebook(unit)
    rel_source = str(source_path.relative_to(course.root))
    if not source_path.is_file():
        return [Problem(rel_source, f"missing: a unit's notebook must be named {unit}.ipynb")]
    source = nbformat.read(str(source_path), as_version=4)
    problems = check_source(source, rel_source, course, unit)
    problems.extend(check_wrong_answers(source, course, unit))
    if lesson_path.is_file():
        lesson = nbformat.read(str(lesson_path), as_version=4)
        problems.extend(check_lesson(lesson, source, str(lesson_path.relative_to(course.root))))
    return problems


def check_source(notebook: nbformat.NotebookNode, path: str, course: Course, unit: str) -> list[Problem]:
    problems = _check_outputs(notebook, path)
    by_id = {cell.get("id"): cell for cell in notebook.cells}

    badge = by_id.get(BADGE_CELL_ID)
    if badge is None or badge.cell_type != "markdown":
        problems.append(Problem(path, f"no markdown cell with id '{BADGE_CELL_ID}' holding the Open in Colab badge"))
    elif badge.source.strip() != course.badge_markdown(unit):
        problems.append(Problem(path, f"Colab badge does not match the course setting; expected:\n  {course.badge_markdown(unit)}", BADGE_CELL_ID))

    setup = by_id.get(SETUP_CELL_ID)
    if setup is None or setup.cell_type != "code":
        problems.append(Problem(path, f"no code cell with id '{SETUP_CELL_ID}' (the course-wide setup cell)"))
    elif setup.source.strip() != course.setup_source().strip():
        problems.append(Problem(path, "setup cell differs from the course-wide one (segkit/course/config.py: setup_cell_source)", SETUP_CELL_ID))

    if not any(c.cell_type == "markdown" and re.search(rf"^{OBJECTIVES_HEADING}\s*$\n+\s*[-*1] ", c.source, re.M) for c in notebook.cells):
        problems.append(Problem(path, f"no '{OBJECTIVES_HEADING}' heading followed by a list"))

    graded = 0
    ids = [cell.get("id") for cell in notebook.cells]
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            if "### BEGIN SOLUTION" in cell.source or "### BEGIN HIDDEN TESTS" in cell.source:
                problems.append(Problem(path, "has nbgrader markers but no nbgrader metadata (mark it in Create Assignment)", cell.get("id")))
            continue
        grade_id = meta.get("grade_id")
        if grade_id != cell.get("id"):
            problems.append(Problem(path, f"grade id {grade_id!r} must equal the cell id {cell.get('id')!r}", cell.get("id")))
        if cells.is_graded(cell):
            graded += 1
            if not isinstance(meta.get("points"), (int, float)) or meta["points"] <= 0:
                problems.append(Problem(path, f"graded cell has no points (got {meta.get('points')!r})", grade_id))
            if not meta.get("locked") and not meta.get("solution"):
                problems.append(Problem(path, "test cell must be read-only (locked)", grade_id))
            if cell.cell_type == "code" and cells.is_test(cell) and not _asserts(cell.source):
                problems.append(Problem(path, "test cell checks nothing: it needs an assert (or a raise, or an assert_* call); "
                                              "a cell without one gives full marks to any answer", grade_id))
        if cells.is_answer(cell) and cell.cell_type == "code" and "### BEGIN SOLUTION" not in cell.source:
            problems.append(Problem(path, "answer cell has no '### BEGIN SOLUTION' block", grade_id))
    grade_ids = [cells.grade_id(c) for c in notebook.cells if cells.is_nbgrader(c)]
    for dup in sorted({g for g in grade_ids if grade_ids.count(g) > 1}):
        problems.append(Problem(path, f"grade id {dup!r} is used by more than one cell"))
    for dup in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        problems.append(Problem(path, f"cell id {dup!r} is used by more than one cell"))
    if graded == 0:
        problems.append(Problem(path, "no autograded test cell (each unit needs graded exercises)"))
    problems += _check_grading_tags(notebook, path)
    return problems


def _check_grading_tags(notebook: nbformat.NotebookNode, path: str) -> list[Problem]:
    """``budget-NNN`` (a hand-in) and ``stretch`` only mean something on a test cell; one hand-in a unit."""
    problems, hand_ins = [], []
    for cell in notebook.cells:
        if cells.budget(cell) is not None:
            hand_ins.append(cell.get("id"))
            if not cells.is_test(cell):
                problems.append(Problem(path, "a budget-NNN tag belongs on a test cell (the hand-in)", cell.get("id")))
        if cells.is_stretch(cell) and not cells.is_test(cell):
            problems.append(Problem(path, "the stretch tag belongs on a test cell", cell.get("id")))
    if len(hand_ins) > 1:
        problems.append(Problem(path, f"more than one hand-in (budget-NNN tag): {', '.join(map(str, hand_ins))}"))
    return problems


def check_wrong_answers(source: nbformat.NotebookNode, course: Course, unit: str) -> list[Problem]:
    """The unit's ``wrong_answers.py``: loadable, pointing at real answer and test cells, unique
    ids, at least MIN_WRONG_ANSWERS per graded exercise, and never released to ``lessons/``."""
    path = wrong_answers_path(course, unit)
    rel = str(path.relative_to(course.root))
    problems = [
        Problem(str(leak.relative_to(course.root)), f"{WRONG_ANSWERS_FILE} is instructor-only and must never be released to lessons/")
        for leak in sorted((course.release_dir / unit).rglob(WRONG_ANSWERS_FILE)) if (course.release_dir / unit).is_dir()
    ]
    try:
        answers = load_wrong_answers(course, unit)
    except CourseError as err:
        return problems + [Problem(rel, str(err))]
    problems += [Problem(rel, f"wrong answer {wrong_id!r}: {message}" if wrong_id else message)
                 for wrong_id, message in structure_problems(source, answers)]
    for exercise in graded_exercises(source):
        count = sum(wa.cell == exercise for wa in answers)
        if count < MIN_WRONG_ANSWERS:
            problems.append(Problem(rel, f"exercise {exercise!r} has {count} wrong answer(s); write at least {MIN_WRONG_ANSWERS} "
                                         "plausible ones (see the template of `python -m segkit.course new-unit`)"))
    return problems


def _asserts(source: str) -> bool:
    """Whether a test cell can fail: an ``assert``, a ``raise``, a call to ``assert_*`` (numpy,
    torch.testing) or a last expression (nbgrader's numeric partial credit)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True  # a syntax error always fails; not this rule's business
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not isinstance(tree.body[-1].value, ast.Call):
        return True
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assert, ast.Raise)):
            return True
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name.startswith("assert"):
                return True
    return False


def check_lesson(lesson: nbformat.NotebookNode, source: nbformat.NotebookNode, path: str) -> list[Problem]:
    problems = _check_outputs(lesson, path)
    secret_lines = _solution_lines(source)
    for cell in lesson.cells:
        cell_id = cell.get("id")
        for marker in LEAK_MARKERS:
            if marker in cell.source:
                problems.append(Problem(path, f"leaks '{marker}' to learners", cell_id))
        if cells.is_answer(cell) and cell.cell_type == "code":
            if "raise NotImplementedError()" not in cell.source:
                problems.append(Problem(path, "answer cell stub must raise NotImplementedError()", cell_id))
            leaked = [line for line in cell.source.splitlines() if line.strip() in secret_lines]
            if leaked:
                problems.append(Problem(path, f"answer cell shows solution line(s): {leaked[0].strip()!r}", cell_id))
    return problems


def _solution_lines(source: nbformat.NotebookNode) -> set[str]:
    """Non-trivial lines that appear only inside solution blocks of the source."""
    inside: set[str] = set()
    outside: set[str] = set()
    for cell in source.cells:
        if cell.cell_type != "code":
            continue
        blocks = SOLUTION_BLOCK.findall(cell.source)
        for block in blocks:
            inside.update(line.strip() for line in block.splitlines())
        outside.update(line.strip() for line in SOLUTION_BLOCK.sub("", cell.source).splitlines())
    trivial = {"", "pass", "return", "else:", "try:", "raise NotImplementedError()", "# YOUR CODE HERE"}
    return {line for line in inside - outside if line not in trivial and len(line) > 3}


def _check_outputs(notebook: nbformat.NotebookNode, path: str) -> list[Problem]:
    problems = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            problems.append(Problem(path, "committed with outputs; run `python -m segkit.course release` to clean", cell.get("id")))
    return problems


def describe(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)

