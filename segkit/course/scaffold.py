"""Scaffold a new unit that passes ``check`` at once, and the header every unit shares."""
from __future__ import annotations

import nbformat

from segkit.course import notebook as nb
from segkit.course.config import BADGE_CELL_ID, OBJECTIVES_HEADING, SETUP_CELL_ID, UNIT_PATTERN, Course, CourseError
from segkit.course.release import release


def header_cells(course: Course, unit: str, title: str, objectives: list[str], intro: str = "") -> list[nbformat.NotebookNode]:
    """Badge, title with learning objectives, and the setup cell: the first cells of every unit."""
    if not objectives:
        raise ValueError("a unit needs at least one learning objective")
    number = unit.split("-")[0]
    text = f"# {number} · {title}\n\n"
    if intro:
        text += intro.strip() + "\n\n"
    text += f"{OBJECTIVES_HEADING}\n\n" + "\n".join(f"- {o}" for o in objectives)
    return [
        nb.markdown(course.badge_markdown(unit), id=BADGE_CELL_ID),
        nb.markdown(text, id="title"),
        nb.code(course.setup_source(), id=SETUP_CELL_ID),
    ]


def new_unit(course: Course, unit: str, title: str) -> list[str]:
    """Create ``solutions/UNIT/UNIT.ipynb`` from the template and generate its lesson.

    Returns the paths written, relative to the course root.
    """
    if not UNIT_PATTERN.match(unit):
        raise CourseError(f"unit name {unit!r} must look like NN-slug, e.g. 13-video-segmentation")
    if unit in course.units() or (course.release_dir / unit).exists():
        raise CourseError(f"unit {unit!r} exists already")
    if unit.split("-")[0] in {u.split("-")[0] for u in course.units()}:
        raise CourseError(f"another unit already uses the number {unit.split('-')[0]}")
    if not title.strip():
        raise CourseError("the unit needs a title")
    cells = header_cells(
        course,
        unit,
        title.strip(),
        ["state what the learner will be able to do", "one line per objective"],
        intro="One paragraph on why this unit matters.",
    )
    cells += [
        nb.markdown(
            "## Exercise 1: count the pixels of a class\n\n"
            "Write `count_pixels(mask, label)`: the number of pixels of `mask` (an int64 tensor of shape "
            "`(H, W)`) equal to `label`, as a Python `int`.\n\n"
            "Example: `count_pixels(torch.tensor([[0, 1], [1, 1]]), 1)` is `3`.",
            id="exercise-count-pixels",
        ),
        nb.answer(
            "import torch\n\n\ndef count_pixels(mask: torch.Tensor, label: int) -> int:\n"
            "    ### BEGIN SOLUTION\n    return int((mask == label).sum())\n    ### END SOLUTION",
            id="count_pixels",
        ),
        nb.tests(
            "mask = torch.tensor([[0, 1], [1, 1]])\n"
            'assert count_pixels(mask, 1) == 3, f"expected 3 pixels of class 1, got {count_pixels(mask, 1)}"\n'
            'assert isinstance(count_pixels(mask, 0), int), "return a Python int, e.g. with int(...)"\n'
            "### BEGIN HIDDEN TESTS\n"
            'assert count_pixels(mask, 7) == 0, "a class that is absent has 0 pixels"\n'
            "assert count_pixels(torch.zeros(5, 4, dtype=torch.int64), 0) == 20\n"
            "### END HIDDEN TESTS",
            id="test_count_pixels",
            points=1,
        ),
        nb.markdown("## Summary\n\n- what was learnt\n\n## Going further\n\n- papers and links", id="summary"),
    ]
    path = nb.write(nb.new_notebook(cells), course.source_notebook(unit))
    release(course, [unit])
    return [str(path.relative_to(course.root)), str(course.release_notebook(unit).relative_to(course.root))]
