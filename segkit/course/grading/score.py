"""Scoring an executed notebook, outside the sandbox: points per graded cell, and redaction.

Points follow nbgrader's rules (``nbgrader.utils.determine_grade``): an error or anything on
stderr in a test cell gives 0, a numeric last expression gives partial credit, otherwise full
marks. :func:`error_line` is the one way a cell's failure is put into words, in ``submit``'s
table, the class summary and the wrong-answer harness alike.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import nbformat

from segkit.course import cells
from segkit.course.grading.reference import Reference
from segkit.course.nbgrader_settings import HIDDEN_BLOCK


@dataclass
class CellScore:
    grade_id: str
    points: float
    max_points: float
    message: str = ""


class ScoreTotals:
    """``points`` and ``max_points`` summed over ``self.scores`` (a list of :class:`CellScore`)."""

    scores: list[CellScore]

    @property
    def points(self) -> float:
        return sum(s.points for s in self.scores)

    @property
    def max_points(self) -> float:
        return sum(s.max_points for s in self.scores)


def error_line(output) -> str:
    """One line for an error output (``AssertionError: IoU of ...``) or a stderr stream."""
    if output.get("output_type") == "stream":
        text = output.get("text", "").strip()
        return f"stderr: {text.splitlines()[0]}" if text else "stderr output"
    evalue = (output.get("evalue", "").strip().splitlines() or [""])[0]
    evalue = evalue or ("not done yet" if output.get("ename") == "NotImplementedError" else "")
    return f"{output.get('ename')}: {evalue}" if evalue else str(output.get("ename"))


def first_failure(cell) -> str:
    """:func:`error_line` of the first error (or stderr) output of ``cell``, or ''."""
    for output in cell.get("outputs", []):
        if output.output_type == "error" or (output.output_type == "stream" and output.get("name") == "stderr"):
            return error_line(output)
    return ""


def cell_errors(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Cell id -> the first error line, for every cell that raised."""
    return {c.get("id"): error_line(o) for c in notebook.cells for o in reversed(c.get("outputs", []))
            if o.output_type == "error"}


def grade_cell(cell: nbformat.NotebookNode) -> tuple[float, float, str]:
    """Points, maximum and the failure message of one executed graded cell, by nbgrader's rules."""
    from nbgrader.utils import determine_grade

    points, max_points = determine_grade(cell)
    points = float(points or 0.0)
    message = "" if points >= max_points else (first_failure(cell) or "no points (a failed check)")
    return points, float(max_points), message


def score(executed: nbformat.NotebookNode, ref: Reference, nonces: dict[str, str]) -> tuple[list[CellScore], list[str]]:
    """Points per graded cell by nbgrader's rules, and tripwire findings. Strips the tripwire
    error from each test cell's outputs."""
    scores, review = [], []
    by_id = {cells.grade_id(c): c for c in executed.cells}
    for gid in ref.grade_ids():
        cell = by_id[gid]
        nonce = nonces.get(gid)
        if nonce:
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if errors and errors[-1].ename == "AssertionError" and errors[-1].evalue == nonce:
                cell.outputs = [o for o in cell.outputs if o is not errors[-1]]
            elif not errors:
                review.append(f"{gid}: the test cell did not run as released (its tripwire never fired)")
        cell.metadata["nbgrader"]["points"] = ref.points[gid]  # the release's points, never the submission's
        scores.append(CellScore(gid, *grade_cell(cell)))
    return scores, review


def redact_hidden(executed: nbformat.NotebookNode, ref: Reference) -> int:
    """Remove outputs of learner cells that quote hidden tests (e.g. printing ``In[-2]``), which
    would otherwise reach the feedback. Returns the number of outputs removed."""
    lines = [line.split("  #")[0].strip() for src in ref.locked_sources.values()
             for block in HIDDEN_BLOCK.findall(src) for line in block.splitlines() if "HIDDEN TESTS" not in line]
    secret = {line for line in lines if len(line) >= 12}
    removed = 0
    for cell in executed.cells:
        if cell.cell_type != "code" or cells.grade_id(cell) in ref.locked_sources:
            continue
        kept = []
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            if any(json.dumps(line)[1:-1] in text for line in secret):
                removed += 1
                kept.append(nbformat.v4.new_output("stream", name="stdout", text="[output removed: it quoted hidden tests]\n"))
            else:
                kept.append(output)
        cell.outputs = kept
    return removed
