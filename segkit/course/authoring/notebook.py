"""Build and tidy nbgrader source notebooks without JupyterLab.

JupyterLab's "Create Assignment" sidebar writes nbgrader's cell metadata by hand; these helpers
write the same metadata from code, which is how units can also be authored as a script::

    from segkit.course.authoring import notebook as nb

    cells = [
        nb.markdown("# 03 · Measuring quality", id="title"),
        nb.answer("def iou(a, b):\\n    ### BEGIN SOLUTION\\n    ...\\n    ### END SOLUTION", id="iou"),
        nb.tests("assert iou(x, x) == 1.0\\n### BEGIN HIDDEN TESTS\\n...\\n### END HIDDEN TESTS",
                 id="test_iou", points=2),
    ]
    nb.write(nb.new_notebook(cells), "solutions/03-measuring-quality/03-measuring-quality.ipynb")

Grade ids equal cell ids, as nbgrader's own tools expect.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

NBGRADER_SCHEMA_VERSION = 3
CELL_ID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

# Cell-level metadata keys we keep; editors add many others (execution, ExecuteTime, colab, ...).
KEEP_CELL_METADATA = ("nbgrader", "tags", "deletable", "editable")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _nbgrader_meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": NBGRADER_SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def _check_id(id: str) -> str:
    if not CELL_ID_PATTERN.match(id):
        raise ValueError(f"cell id {id!r} must be 1-64 letters, digits, '-' or '_'")
    return id


def markdown(source: str, *, id: str, locked: bool = False) -> nbformat.NotebookNode:
    """A markdown cell; ``locked=True`` makes nbgrader restore it if a learner edits it."""
    cell = new_markdown_cell(source.strip("\n"), id=_check_id(id))
    if locked:
        cell.metadata["nbgrader"] = _nbgrader_meta(id, grade=False, solution=False, locked=True)
    return cell


def code(source: str, *, id: str, tags: Iterable[str] = ()) -> nbformat.NotebookNode:
    """An ordinary code cell. Tag a long-running cell with ``"timeout-300"`` (seconds) to give
    it more than the default per-cell grading timeout (tags: segkit.course.cells)."""
    cell = new_code_cell(source.strip("\n"), id=_check_id(id))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def answer(source: str, *, id: str, tags: Iterable[str] = ()) -> nbformat.NotebookNode:
    """An answer cell: the learner's part, between ``### BEGIN SOLUTION`` / ``### END SOLUTION``."""
    if "### BEGIN SOLUTION" not in source:
        raise ValueError(f"answer cell {id!r} has no '### BEGIN SOLUTION' block")
    cell = code(source, id=id, tags=tags)
    cell.metadata["nbgrader"] = _nbgrader_meta(id, grade=False, solution=True, locked=False)
    return cell


def tests(source: str, *, id: str, points: float, tags: Iterable[str] = ()) -> nbformat.NotebookNode:
    """A locked, autograded test cell worth ``points``; ``### BEGIN HIDDEN TESTS`` blocks are
    removed from the learner's copy."""
    if not points > 0:
        raise ValueError(f"test cell {id!r} needs points > 0, got {points!r}")
    cell = code(source, id=id, tags=tags)
    cell.metadata["nbgrader"] = _nbgrader_meta(id, grade=True, solution=False, locked=True, points=points)
    return cell


def new_notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """A notebook with the course's kernel and the given cells (ids must be unique)."""
    ids = [c.id for c in cells]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate cell ids: {duplicates}")
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    return notebook


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip outputs, execution counts and editor metadata (in place; also returned).

    Keeps nbgrader's cell metadata and tags, and only the kernelspec and language name at the
    notebook level, so committed sources look the same whoever saved them last.
    """
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        if "attachments" in cell and not cell.attachments:
            del cell["attachments"]
    language = notebook.metadata.get("language_info", {}).get("name", "python")
    notebook.metadata = {
        "kernelspec": dict(notebook.metadata.get("kernelspec") or KERNELSPEC),
        "language_info": {"name": language},
    }
    return notebook


def read(path: str | Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write(notebook: nbformat.NotebookNode, path: str | Path) -> Path:
    """Validate and write ``notebook`` (cleaned) to ``path``, creating folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean(notebook)
    nbformat.validate(notebook)
    nbformat.write(notebook, str(path))
    return path
