"""What a learner gets back from class grading, built so that no hidden test can reach it.

The graded run executes hidden tests in the learner's kernel, so anything the learner's code
printed after the first of them may carry them, in any encoding (no redaction can see through
base64). The learner's feedback therefore comes from a **second run without hidden tests**: the
same notebook with the released test cells (visible checks only), in a fresh sandbox. Test cells
keep the graded run's scores (the gradebook's); where a cell passed its visible checks but lost
points in the graded run, the feedback adds one line made only of what the hidden tests
themselves define (:func:`segkit.course.grading.score.hidden_failure_message`).

``submit`` (a learner grading their own notebook) has nobody to hide the tests from and skips the
second run: its feedback is the graded run, with quoted hidden lines removed.
"""
from __future__ import annotations

import copy

import nbformat

from segkit.course import cells
from segkit.course.grading.reference import Reference
from segkit.course.grading.score import CellScore, hidden_failure_message, strip_tripwire


def visible_notebook(notebook: nbformat.NotebookNode, ref: Reference) -> nbformat.NotebookNode:
    """``notebook`` (as assembled) with every locked cell's source as released: no hidden tests."""
    released = {cells.grade_id(c): c.source for c in ref.release.cells if cells.grade_id(c)}
    visible = copy.deepcopy(notebook)
    for cell in visible.cells:
        gid = cells.grade_id(cell)
        if gid in ref.locked_sources:
            cell.source = released[gid]
    return visible


def compose(visible_run: nbformat.NotebookNode, graded_run: nbformat.NotebookNode, ref: Reference,
            scores: list[CellScore], visible_nonces: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The learner's feedback notebook: the visible run's outputs (its tripwires, ``visible_nonces``,
    removed), the graded run's verdicts."""
    feedback = copy.deepcopy(visible_run)
    graded = {cells.grade_id(c): c for c in graded_run.cells if cells.grade_id(c)}
    lost = {s.grade_id for s in scores if s.points < s.max_points}
    for cell in feedback.cells:
        gid = cells.grade_id(cell)
        strip_tripwire(cell, (visible_nonces or {}).get(gid, ""))
        if gid not in lost or cell.cell_type != "code":
            continue
        visible_failed = any(o.output_type == "error" for o in cell.get("outputs", []))
        if not visible_failed:
            message = hidden_failure_message(ref, gid, graded[gid])
            cell.outputs = list(cell.get("outputs", [])) + [nbformat.v4.new_output(
                "error", ename="HiddenTests", evalue=message, traceback=[f"HiddenTests: {message}"])]
    return feedback
