"""One home for what a notebook cell *is* to the course: nbgrader's metadata and the course's tags.

nbgrader marks cells in ``cell.metadata["nbgrader"]``; the course adds tags. Every part of the
tooling (release, check, grading, the wrong-answer harness, submit) asks these functions instead
of reading the metadata itself, so a rule such as "which cells are tests" has one definition:

==================  ============================================================================
``grade_id(c)``      nbgrader's grade id (equal to the cell id in this course), or None
``is_answer(c)``     an answer cell: ``solution`` (the learner's part, ``### BEGIN SOLUTION``)
``is_test(c)``       a test cell: ``grade`` and not ``solution`` (autograded, locked)
``is_locked(c)``     restored from the gradebook at grading (tests and locked cells), as nbgrader's
                     ``utils.is_locked`` decides
``points(c)``        the points of a graded cell
``timeout(c)``       seconds a cell may run: tag ``timeout-NNN``, else :data:`DEFAULT_CELL_TIMEOUT`
``budget(c)``        tag ``budget-NNN`` on a test cell: a *hand-in* (see segkit.course.grading.budget)
``is_stretch(c)``    tag ``stretch``: a test cell the reference solution may miss (a top tier)
==================  ============================================================================

The predicates agree with ``nbgrader.utils`` (tested); they are written out here because importing
nbgrader costs about two seconds.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping

DEFAULT_CELL_TIMEOUT = 120  # seconds; a cell tagged "timeout-NNN" gets NNN
STRETCH_TAG = "stretch"

Cell = Mapping  # an nbformat NotebookNode cell (any mapping with "metadata")


def _meta(cell: Cell) -> Mapping:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell: Cell) -> str | None:
    """nbgrader's grade id of ``cell``, or None for an ordinary cell."""
    return _meta(cell).get("grade_id") or None


def is_nbgrader(cell: Cell) -> bool:
    """Whether the cell carries nbgrader metadata at all."""
    return "nbgrader" in cell.get("metadata", {})


def is_answer(cell: Cell) -> bool:
    """An answer ("solution") cell: the learner replaces its stub."""
    return bool(_meta(cell).get("solution", False))


def is_graded(cell: Cell) -> bool:
    """A cell worth points (``grade``): a test cell, or a graded answer cell."""
    return bool(_meta(cell).get("grade", False))


def is_test(cell: Cell) -> bool:
    """A test cell: graded, and not an answer cell."""
    return is_graded(cell) and not is_answer(cell)


def is_locked(cell: Cell) -> bool:
    """A cell nbgrader restores from the gradebook: every graded non-answer cell, and cells marked
    ``locked`` (read-only markdown and code). Same rule as ``nbgrader.utils.is_locked``."""
    if not is_nbgrader(cell) or is_answer(cell):
        return False
    return is_graded(cell) or bool(_meta(cell).get("locked", False))


def points(cell: Cell) -> float:
    """The points of a graded cell (0.0 for any other)."""
    return float(_meta(cell).get("points") or 0.0) if is_graded(cell) else 0.0


def tags(cell: Cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def seconds_from_tags(cell_tags: Iterable[str], kind: str) -> int | None:
    """Seconds from a ``KIND-NNN`` tag (``timeout-300``, ``budget-80``), or None."""
    for tag in cell_tags:
        match = re.fullmatch(rf"{re.escape(kind)}-(\d+)", tag)
        if match:
            return int(match[1])
    return None


def timeout(cell: Cell) -> int:
    """Seconds ``cell`` may run when graded: its ``timeout-NNN`` tag, else the default. The grader
    reads it from the *released* notebook's cell, never the learner's, and caps it."""
    return seconds_from_tags(tags(cell), "timeout") or DEFAULT_CELL_TIMEOUT


def budget(cell: Cell) -> int | None:
    """CPU seconds of a ``budget-NNN`` tag (a hand-in's budget), or None."""
    return seconds_from_tags(tags(cell), "budget")


def is_stretch(cell: Cell) -> bool:
    """A test cell tagged ``stretch``: beyond the reference solution, for learners who beat it."""
    return STRETCH_TAG in tags(cell)
