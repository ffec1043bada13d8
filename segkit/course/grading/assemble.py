"""Assembling the notebook to run from a learner's file and the reference.

Test cells and other locked cells come from the gradebook (hidden tests included), answer cells
and the learner's own cells from the submission; nbgrader metadata and points come from the
released notebook only. A Colab copy that lost its metadata is re-attached, a duplicated graded
cell is dropped or demoted, a deleted one is put back, a cell that claims points earns none.
"""
from __future__ import annotations

import copy
import difflib
import json
import warnings
from pathlib import Path

import nbformat

from segkit.course import cells
from segkit.course.config import CourseError
from segkit.course.grading.budget import Budget, pin_hand_in_block
from segkit.course.grading.reference import Reference


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



def read_submission(path: Path) -> nbformat.NotebookNode:
    """The learner's notebook, or CourseError with the reason it cannot be graded."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CourseError(f"cannot read {path.name}: {err}") from err
    if not text.strip():
        raise CourseError(f"{path.name} is not a readable notebook: the file is empty")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise CourseError(f"{path.name} is not a readable notebook: broken JSON ({err})") from err
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise CourseError(f"{path.name} is not a readable notebook: it has no list of cells")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises several types
        raise CourseError(f"{path.name} is not a readable notebook: {err}") from err


def assemble(submission: nbformat.NotebookNode, ref: Reference) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook to execute, and notes on what was repaired. Never trusts the submission's
    test cells, their metadata or points."""
    notes: list[str] = []
    submission = copy.deepcopy(submission)
    for cell in submission.cells:
        cell.setdefault("metadata", {})
        if cell.cell_type == "code":
            cell.setdefault("source", "")
    if reattach_metadata(submission, ref.release):
        notes.append("grading metadata re-attached (saved without it, e.g. by Colab)")
    ref_cells = {cells.grade_id(c): c for c in ref.release.cells if cells.grade_id(c)}
    seen: set[str] = set()
    kept = []
    for cell in submission.cells:
        gid = cells.grade_id(cell)
        ref_cell = ref_cells.get(gid)
        if gid and (ref_cell is None or ref_cell.cell_type != cell.cell_type):
            if cells.is_graded(cell):
                notes.append(f"cell {gid!r} is not a graded cell of this unit: it earns nothing")
            cell.metadata.pop("nbgrader")
            gid = None
        if gid and gid in seen:
            if gid in ref.locked_sources:
                notes.append(f"a second copy of test cell {gid!r} was dropped")
                continue
            notes.append(f"a second copy of answer cell {gid!r} runs as an ordinary cell")
            cell.metadata.pop("nbgrader")
            gid = None
        if gid:
            seen.add(gid)
            cell = _from_reference(ref_cell, ref, cell)
        else:
            cell.metadata = {k: v for k, v in cell.metadata.items() if k not in ("tags", "nbgrader")}
        kept.append(cell)
    # Put back locked and answer cells the learner deleted, after the cell that precedes them in the release.
    for i, ref_cell in enumerate(ref.release.cells):
        gid = cells.grade_id(ref_cell)
        if not gid or gid in seen:
            continue
        notes.append(f"deleted cell {gid!r} put back")
        position = 0
        for before in reversed(ref.release.cells[:i]):
            bid = cells.grade_id(before)
            matches = [k for k, c in enumerate(kept) if cells.grade_id(c) == bid] if bid else []
            if matches:
                position = matches[0] + 1
                break
        kept.insert(position, _from_reference(ref_cell, ref, None))
        seen.add(gid)
    budget = Budget.of(ref)
    if budget is not None:
        kept = pin_hand_in_block(kept, budget)
    notebook = nbformat.v4.new_notebook(metadata=copy.deepcopy(ref.release.metadata))
    used: set[str] = set()
    for k, cell in enumerate(kept):
        gid = cells.grade_id(cell)
        cid = gid or cell.get("id") or f"cell-{k}"
        while cid in used:
            cid = f"{cid}-{k}"
        used.add(cid)
        cell["id"] = cid
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.pop("attachments", None) if cell.cell_type == "code" else None
    notebook.cells = kept
    return notebook, notes


def _from_reference(ref_cell: nbformat.NotebookNode, ref: Reference, cell: nbformat.NotebookNode | None) -> nbformat.NotebookNode:
    out = copy.deepcopy(ref_cell)
    gid = cells.grade_id(ref_cell)
    if gid in ref.locked_sources:
        out.source = ref.locked_sources[gid]
    elif cell is not None:
        out.source = cell.source
    return out


