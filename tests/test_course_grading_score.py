"""segkit.course.grading.score: points by nbgrader's rules, the tripwire, redaction of hidden tests."""
from __future__ import annotations

import copy

import nbformat
import pytest

from segkit.course import grading
from segkit.course.grading.score import cell_errors, error_line, first_failure, grade_cell


def test_score_follows_nbgrader_rules_and_the_tripwire(ref):
    executed = copy.deepcopy(ref.release)
    cells = {c.get("id"): c for c in executed.cells}
    nonces = {"test_confusion_matrix": "n1", "test_iou_per_class": "n2", "test_mean_iou": "n3", "test_dice_per_class": "n4"}
    err = lambda evalue, ename="AssertionError": nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])  # noqa: E731
    cells["test_confusion_matrix"].outputs = [err("n1")]  # passed, tripwire fired
    cells["test_iou_per_class"].outputs = [nbformat.v4.new_output("stream", name="stderr", text="warn"), err("n2")]
    cells["test_mean_iou"].outputs = [err("wrong answer")]
    cells["test_dice_per_class"].outputs = []  # the tripwire never fired
    scores, review = grading.score_notebook(executed, ref, nonces)
    assert [s.points for s in scores] == [2, 0, 0, 2]
    assert review == ["test_dice_per_class: the test cell did not run as released (its tripwire never fired)"]
    assert cells["test_confusion_matrix"].outputs == []


def test_redaction_removes_quoted_hidden_tests(ref):
    executed = copy.deepcopy(ref.release)
    line = "only_fp = torch.tensor([[5, 3], [0, 0]])"
    executed.cells.append(nbformat.v4.new_code_cell("print(In[-2])", outputs=[nbformat.v4.new_output("stream", name="stdout", text=line)]))
    assert grading.redact_hidden(executed, ref) == 1
    assert line not in nbformat.writes(executed)


# ---- one way to put a failure into words -----------------------------------------------------------


def _error(ename: str, evalue: str = ""):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])


def _stream(text: str, name: str = "stderr"):
    return nbformat.v4.new_output("stream", name=name, text=text)


@pytest.mark.parametrize("output, line", [
    (_error("AssertionError", "IoU of class 2 should be 0.5\n(second line)"), "AssertionError: IoU of class 2 should be 0.5"),
    (_error("AssertionError", "  padded  "), "AssertionError: padded"),
    (_error("NotImplementedError"), "NotImplementedError: not done yet"),
    (_error("NotImplementedError", "the stub"), "NotImplementedError: the stub"),
    (_error("KeyError"), "KeyError"),
    (_stream("UserWarning: something\nmore lines\n"), "stderr: UserWarning: something"),
    (_stream("  \n"), "stderr output"),
])
def test_error_line(output, line):
    assert error_line(output) == line


def test_first_failure_is_the_first_error_or_stderr_output():
    cell = nbformat.v4.new_code_cell("x", outputs=[_stream("fine\n", "stdout"), _stream("careful\n"), _error("ValueError", "bad")])
    assert first_failure(cell) == "stderr: careful"
    cell.outputs = [_stream("fine\n", "stdout"), _error("ValueError", "bad"), _error("TypeError", "worse")]
    assert first_failure(cell) == "ValueError: bad"
    cell.outputs = [_stream("fine\n", "stdout")]
    assert first_failure(cell) == ""


def test_cell_errors_names_each_cell_that_raised_by_its_first_error():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("a", id="quiet", outputs=[_stream("warn\n")]),
        nbformat.v4.new_code_cell("b", id="raised", outputs=[_error("ValueError", "first"), _error("TypeError", "second")]),
        nbformat.v4.new_code_cell("c", id="stub", outputs=[_error("NotImplementedError")]),
    ])
    assert cell_errors(notebook) == {"raised": "ValueError: first", "stub": "NotImplementedError: not done yet"}


# ---- points by the trusted rules (grading.score's docstring) -----------------------------------------


def _result(text):
    return nbformat.v4.new_output("execute_result", data={"text/plain": text}, execution_count=1)


def _graded(outputs, *, points=2, solution=False, cell_type="code"):
    meta = {"nbgrader": {"grade": True, "solution": solution, "locked": not solution, "points": points, "grade_id": "test_x"}}
    if cell_type == "markdown":
        return nbformat.v4.new_markdown_cell("an essay", metadata=meta)
    return nbformat.v4.new_code_cell("assert x", metadata=meta, outputs=outputs)


CRAFTED = {
    "passes silently": _graded([]),
    "prints to stdout": _graded([_stream("hello\n", "stdout")]),
    "raises": _graded([_error("AssertionError", "x should be 1")]),
    "warns on stderr then passes": _graded([_stream("UserWarning: careful\n")]),
    "partial credit": _graded([_result("0.5")]),
    "partial credit as a list": _graded([_result(["1.5"])]),
    "a non-numeric last expression": _graded([_result("'done'")]),
    "a negative last expression": _graded([_result("-1")]),
    "output then error": _graded([_stream("step 1\n", "stdout"), _error("ValueError", "no")]),
    "result then error": _graded([_result("1.0"), _error("ValueError", "after")]),
    "zero points": _graded([], points=0),
    "fractional points": _graded([_result("0.25")], points=0.5),
    "manually graded answer": _graded([], solution=True),
    "markdown task": _graded([], cell_type="markdown"),
}


# name -> (partial: the released cell ends with an expression, expected points, expected message)
EXPECTED = {
    "passes silently": (False, 2.0, ""),
    "prints to stdout": (False, 2.0, ""),
    "raises": (False, 0.0, "AssertionError: x should be 1"),
    "warns on stderr then passes": (False, 0.0, "stderr: UserWarning: careful"),
    "partial credit": (True, 0.5, "partial credit: 0.5 of 2"),
    "partial credit as a list": (True, 1.5, "partial credit: 1.5 of 2"),
    "a non-numeric last expression": (True, 2.0, ""),
    "a negative last expression": (True, 0.0, "partial credit: 0 of 2"),
    "output then error": (False, 0.0, "ValueError: no"),
    "result then error": (True, 0.0, "ValueError: after"),
    "zero points": (False, 0.0, ""),
    "fractional points": (True, 0.25, "partial credit: 0.25 of 0.5"),
    "manually graded answer": (False, 0.0, "graded by hand"),
    "markdown task": (False, 0.0, "graded by hand"),
}


@pytest.mark.parametrize("name", CRAFTED)
def test_grade_cell_by_the_trusted_rules(name):
    partial, expected_points, expected_message = EXPECTED[name]
    points, max_points, message = grade_cell(copy.deepcopy(CRAFTED[name]), partial=partial)
    assert (points, message) == (expected_points, expected_message)
    assert isinstance(points, float) and isinstance(max_points, float)


@pytest.mark.parametrize("name", ["partial credit", "a negative last expression", "fractional points"])
def test_a_result_is_no_partial_score_unless_the_released_cell_ends_with_an_expression(name):
    """A learner's code can make a test cell output a result: only the release decides it counts."""
    cell = CRAFTED[name]
    assert grade_cell(copy.deepcopy(cell), partial=False) == (cells_points(cell), cells_points(cell), "")


def cells_points(cell):
    return float(cell.metadata["nbgrader"]["points"])


@pytest.mark.parametrize("outputs", [
    [_result("2"), _error("AssertionError", "x")],
    [_result("2"), _stream("boom\n")],
    [_stream("ok\n", "stdout"), _result("2"), _error("NotImplementedError")],
    [_error("AssertionError", "x"), _result("2")],
])
def test_an_error_or_stderr_anywhere_scores_zero_whatever_came_first(outputs):
    assert grade_cell(_graded(outputs), partial=True)[0] == 0.0
    assert grade_cell(_graded(outputs), partial=False)[0] == 0.0


def test_a_nan_partial_score_is_zero():
    assert grade_cell(_graded([_result("nan")]), partial=True)[:2] == (0.0, 2.0)


@pytest.mark.parametrize("name", ["passes silently", "prints to stdout", "raises", "output then error"])
def test_agrees_with_nbgrader_where_no_result_is_output(name):
    """Without results nbgrader's determine_grade and the trusted rules agree."""
    from nbgrader.utils import determine_grade

    expected_points, expected_max = determine_grade(copy.deepcopy(CRAFTED[name]))
    assert grade_cell(copy.deepcopy(CRAFTED[name]))[:2] == (float(expected_points or 0.0), float(expected_max))
