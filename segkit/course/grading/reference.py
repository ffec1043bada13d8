"""What the trusted side knows about a unit: the released notebook and the gradebook's tests."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import nbformat

from segkit.course import cells
from segkit.course.config import Course, CourseError


@dataclass(frozen=True)
class Reference:
    """A released unit as the grader sees it. Built by :meth:`load` from ``lessons/UNIT`` and the
    gradebook that ``release`` filled (tests come from there, hidden tests included)."""

    unit: str
    release: nbformat.NotebookNode  # lessons/UNIT/UNIT.ipynb (metadata, order, stubs, timeouts)
    locked_sources: dict[str, str]  # grade id -> source of every locked cell (tests with hidden tests)
    points: dict[str, float]  # grade id -> points of every graded cell

    @classmethod
    def load(cls, course: Course, unit: str) -> "Reference":
        from nbgrader.api import Gradebook, MissingEntry

        release = nbformat.read(str(course.release_notebook(unit)), as_version=4)
        locked, points = {}, {}
        with quiet(), Gradebook(db_url(course)) as gb:
            for cell in release.cells:
                gid = cells.grade_id(cell)
                if not gid:
                    continue
                if cells.is_graded(cell):
                    points[gid] = cells.points(cell)
                if cells.is_locked(cell):
                    try:
                        locked[gid] = gb.find_source_cell(gid, unit, unit).source
                    except MissingEntry as err:
                        raise CourseError(f"the gradebook has no cell {gid!r} of {unit}: run "
                                          f"`python -m segkit.course release {unit}` first") from err
        return cls(unit, release, locked, points)

    def grade_ids(self) -> list[str]:
        """Grade ids of the graded cells, in the release's order."""
        return [cells.grade_id(c) for c in self.release.cells if cells.is_graded(c)]

    def released_cell(self, gid: str) -> nbformat.NotebookNode | None:
        return next((c for c in self.release.cells if cells.grade_id(c) == gid), None)


def db_url(course: Course) -> str:
    return f"sqlite:///{course.root / 'gradebook.db'}"


class quiet(warnings.catch_warnings):
    """nbgrader's own warnings (SQLAlchemy, checksums) are not the learner's business."""

    def __enter__(self):
        super().__enter__()
        warnings.simplefilter("ignore")
        return self
