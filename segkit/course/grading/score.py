"""Scoring an executed notebook, outside the sandbox: points per graded cell, and redaction.

The rules, decided here on the trusted side: a test cell with an error or anything on stderr
**anywhere** in its outputs scores 0, whatever it output before; partial credit comes only from
a test cell whose *released* source ends with an expression (nbgrader's convention), and then only
from its last result; otherwise full marks. (nbgrader's own ``determine_grade`` takes the first
result a cell outputs, even when an error follows it, and a learner's code can make a test cell
output a result: that gave points without answers.) :func:`error_line` is the one way a cell's
failure is put into words, in ``submit``'s table, the class summary and the wrong-answer harness.
"""
from __future__ import annotations

import ast
import json
import re
import textwrap
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


def ends_with_expression(source: str) -> bool:
    """Whether ``source`` (a released test cell) ends with an expression: its value is a partial score."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and isinstance(body[-1], ast.Expr)


def grade_cell(cell: nbformat.NotebookNode, *, partial: bool = False) -> tuple[float, float, str]:
    """Points, maximum and the failure message of one executed graded cell (module docstring).

    ``partial``: the released cell ends with an expression, so its last result is a partial score.
    """
    max_points = cells.points(cell)
    if cell.get("cell_type") != "code" or cells.is_answer(cell):
        return 0.0, max_points, "graded by hand"  # a written answer: the instructor gives its points
    failure = first_failure(cell)
    if failure:
        return 0.0, max_points, failure
    if partial:
        results = [o for o in cell.get("outputs", []) if o.output_type == "execute_result"]
        if results:
            text = results[-1].get("data", {}).get("text/plain", "")
            text = ("".join(text) if isinstance(text, list) else str(text)).strip()  # nbformat multiline
            try:
                value = float(text)
            except ValueError:
                return max_points, max_points, ""  # not a number: nbgrader gives full marks too
            if value != value:  # NaN
                return 0.0, max_points, "the test cell's partial score is NaN"
            points = min(max(value, 0.0), max_points)
            return points, max_points, "" if points >= max_points else f"partial credit: {points:g} of {max_points:g}"
    return max_points, max_points, ""


def score(executed: nbformat.NotebookNode, ref: Reference, nonces: dict[str, str],
          tamper_tag: str | None = None) -> tuple[list[CellScore], list[str]]:
    """Points per graded cell, and reasons for review (a tripwire that never fired, tampering the
    guard saw). Strips the tripwire error from each test cell's outputs."""
    scores, review = [], []
    by_id = {cells.grade_id(c): c for c in executed.cells}
    for gid in ref.grade_ids():
        cell = by_id[gid]
        nonce = nonces.get(gid)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if tamper_tag and any(tamper_tag in str(o.get("evalue", "")) for o in errors):
            found = next(str(o.evalue) for o in errors if tamper_tag in str(o.get("evalue", "")))
            review.append(f"{gid}: {found.replace(tamper_tag + ': ', '')}")
            for o in errors:  # the learner's copy shows no tag
                o.evalue = str(o.evalue).replace(tamper_tag, "the grader's guard")
                o.traceback = [f"{o.ename}: {o.evalue}"]
        elif nonce:
            fired = [o for o in errors if o.ename == "AssertionError" and o.evalue == nonce]
            if fired:  # the tripwire did its job: it is the grader's, not the learner's, so it goes
                cell.outputs = [o for o in cell.outputs if o not in fired]
            elif not errors:
                review.append(f"{gid}: the test cell did not run as released (its tripwire never fired)")
        cell.metadata["nbgrader"]["points"] = ref.points[gid]  # the release's points, never the submission's
        scores.append(CellScore(gid, *grade_cell(cell, partial=ends_with_expression(ref.locked_sources.get(gid, "")))))
    return scores, review


def hidden_lines(ref: Reference, learner_lines: set[str] = frozenset()) -> set[str]:
    """Lines of hidden tests that are secret: long enough to be telling, and neither in the public
    lesson nor written by the learner (honest work that happens to equal a hidden line is not a leak)."""
    public = {line.strip() for c in ref.release.cells for line in c.source.splitlines()}
    lines = {line.split("  #")[0].strip() for src in ref.locked_sources.values()
             for block in HIDDEN_BLOCK.findall(src) for line in block.splitlines() if "HIDDEN TESTS" not in line}
    return {line for line in lines if len(line) >= 12 and line not in public and line not in learner_lines}


def redact_hidden(executed: nbformat.NotebookNode, ref: Reference, learner_lines: set[str] = frozenset()) -> int:
    """Remove outputs of learner cells that quote hidden tests (e.g. printing ``In[-2]``) from the
    graded notebook. Returns the number of outputs removed (each one is a reason for review)."""
    secret = hidden_lines(ref, learner_lines)
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


def learner_lines(notebook: nbformat.NotebookNode) -> set[str]:
    """Every line of the submission's own cells (answer cells and cells it added)."""
    return {line.strip() for c in notebook.cells if not cells.is_locked(c) for line in c.source.splitlines()}


# ---- what the learner is told about hidden tests -------------------------------------------------


def hidden_messages(source: str) -> list[tuple[re.Pattern, str]]:
    """For each ``assert ..., message`` in the hidden blocks of ``source``: a pattern that matches
    the message it produces, and the message as the learner may see it, with the values it formats
    (which the learner's code controls) left out as ``…``."""
    found = []
    for block in HIDDEN_BLOCK.findall(source):
        try:
            tree = ast.parse(textwrap.dedent(block))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assert) or node.msg is None:
                continue
            if isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str):
                found.append((re.compile(re.escape(node.msg.value) + r"\Z", re.S), node.msg.value))
            elif isinstance(node.msg, ast.JoinedStr):
                parts = [(v.value if isinstance(v, ast.Constant) else None) for v in node.msg.values]
                pattern = "".join(re.escape(p) if p is not None else ".*?" for p in parts)
                shown = "".join(p if p is not None else "…" for p in parts)
                found.append((re.compile(pattern + r"\Z", re.S), shown))
    return found


def hidden_failure_message(ref: Reference, gid: str, graded_cell: nbformat.NotebookNode) -> str:
    """What the learner's feedback says when ``gid`` passed its visible checks but lost points in
    the graded run: only what the hidden tests themselves define, never text the learner's code made."""
    errors = [o for o in graded_cell.get("outputs", []) if o.output_type == "error"]
    if not errors:
        return "a hidden test failed (or the cell wrote to stderr)"
    error = errors[-1]
    if error.ename in GRADER_ERRORS:
        return f"{error.ename}: {error.evalue}"  # the grader's own words (timeouts, kernel deaths, budget)
    if error.ename == "AssertionError":
        for pattern, shown in hidden_messages(ref.locked_sources.get(gid, "")):
            if pattern.match(str(error.evalue)):
                return f"a hidden test failed: {shown}"
        return "a hidden test failed"
    name = error.ename if error.ename in BUILTIN_ERRORS else "an exception"
    return f"your code raised {name} in a hidden test"


GRADER_ERRORS = {"CellTimeoutError", "DeadKernelError", "BudgetExceeded", "NotRun", "WallClockLimit"}
BUILTIN_ERRORS = {name for name, obj in vars(__import__("builtins")).items()
                  if isinstance(obj, type) and issubclass(obj, BaseException)}
