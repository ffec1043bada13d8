"""Scaffold a new unit that passes ``check`` at once, and the header every unit shares."""
from __future__ import annotations

import nbformat

from segkit.course.authoring import notebook as nb
from segkit.course.config import BADGE_CELL_ID, OBJECTIVES_HEADING, SETUP_CELL_ID, UNIT_PATTERN, Course, CourseError
from segkit.course.authoring.release import release
from segkit.course.authoring.wrong_answers import wrong_answers_path


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


WRONG_ANSWERS_TEMPLATE = '''\
"""Plausible wrong answers for unit {number} (instructor side; never released to lessons/).

`python -m segkit.course wrong-answers {unit}` swaps each one into its answer cell, re-runs the
exercise's visible and hidden tests and fails if one keeps full marks. Write at least three per
graded exercise, as a learner would err after reading the statement (wrong axis, off-by-one,
ignore_index forgotten or 0 taken for "no ignore", NaN, dtype, in-place change of the input, only
the visible example handled, delegating to segkit's own version).
"""
WRONG_ANSWERS = [
    dict(
        cell="count_pixels",  # the answer cell's id (= its grade id)
        id="count-returns-tensor",  # unique in the unit, kebab-case
        description="returns the 0-d tensor of .sum() instead of a Python int",
        # (old, new) edits of the solution's answer cell; each `old` must occur exactly once, so
        # `check` fails when the solution changes under the wrong answer.
        patch=[("return int((mask == label).sum())", "return (mask == label).sum()")],
        # tests=("test_count_pixels",),  # optional; default: the graded cells after the answer
    ),
    dict(
        cell="count_pixels",
        id="count-fraction",
        description="divides by the number of pixels: a frequency, not a count",
        patch=[("return int((mask == label).sum())", "return int((mask == label).sum()) / mask.numel()")],
    ),
    dict(
        cell="count_pixels",
        id="count-first-row",
        description="only looks at the first two rows of the mask (the visible example has two rows)",
        # source= replaces the whole answer cell instead: for an answer written from scratch
        source="""
import torch


def count_pixels(mask: torch.Tensor, label: int) -> int:
    return int((mask[0] == label).sum()) + int((mask[1] == label).sum())
""",
    ),
]
'''


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
    wrong = wrong_answers_path(course, unit)
    wrong.write_text(WRONG_ANSWERS_TEMPLATE.format(number=unit.split("-")[0], unit=unit), encoding="utf-8")
    release(course, [unit])
    return [str(p.relative_to(course.root)) for p in (path, wrong, course.release_notebook(unit))]
