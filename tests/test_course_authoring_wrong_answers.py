"""segkit.course.authoring.wrong_answers: the harness that proves plausible wrong answers lose points,
and the structure of a unit's wrong_answers.py, on the demo course."""
from __future__ import annotations

import pytest

from course_fixtures import UNIT, add_wrong_answers, check_messages, edit_notebook, find_cell
from segkit.course.__main__ import main
from segkit.course.authoring.wrong_answers import load_wrong_answers, run_unit


def test_check_verifies_wrong_answers(course):
    add_wrong_answers(course, [
        dict(cell="nope", id="a-1", description="x", source="pass"),
        dict(cell="count_pixels", id="double-abs", description="x", source="pass"),
        dict(cell="count_pixels", id="b-1", description="x", source="pass", tests=("test_nope", "figure")),
        dict(cell="double", id="c-1", description="x", source="pass", tests=("test_count_pixels",)),
    ])
    messages = check_messages(course, sync=False)
    assert "names cell 'nope', which is not in the notebook" in messages
    assert "'double-abs' is used more than once" in messages
    assert "test cell 'test_nope' is not in the notebook" in messages
    assert "cell 'figure' is not a graded test cell" in messages
    assert "test cell 'test_count_pixels' comes before its answer cell 'double'" in messages


def test_a_patch_wrong_answer_is_the_solution_edited_and_fails_when_the_solution_moves_on(course):
    add_wrong_answers(course, [dict(cell="double", id="double-patched", description="x + 2", patch=[("2 * x", "x + 2")])])
    (patched,) = [wa for wa in load_wrong_answers(course, UNIT) if wa.id == "double-patched"]
    assert "return x + 2" in patched.source and "def double(x):" in patched.source
    assert not check_messages(course, sync=False)
    edit_notebook(course.source_notebook(UNIT), lambda n: setattr(find_cell(n, "double"), "source", find_cell(n, "double").source.replace("2 * x", "x * 2")))
    assert "the patch's text '2 * x' is no longer in the solution's cell 'double'" in check_messages(course, sync=False)
    edit_notebook(course.source_notebook(UNIT), lambda n: setattr(find_cell(n, "double"), "source", find_cell(n, "double").source.replace("x * 2", "2 * x")))
    add_wrong_answers(course, [dict(cell="double", id="both", description="x", source="pass", patch=[("a", "b")])])
    assert "give exactly one of source=" in check_messages(course, sync=False)


@pytest.mark.slow
def test_wrong_answers_are_caught_and_the_solution_restored(course, capsys):
    report = run_unit(course, UNIT)
    assert report.ok, report.problems
    assert {o.wrong.id: (o.score.earned, o.score.possible) for o in report.outcomes} == {
        "count-returns-tensor": (0, 1), "count-fraction": (0, 1), "count-first-row": (0, 1),
        "double-square": (0, 2), "double-abs": (0, 2), "double-plus-two": (0, 2),
    }
    assert all(o.restore_ok for o in report.outcomes)
    assert main(["--root", str(course.root), "wrong-answers", UNIT, "--only", "double-abs"]) == 0
    out = capsys.readouterr().out
    assert "double-abs" in out and "0 / 2" in out and "yes" in out and "double-square" not in out


@pytest.mark.slow
def test_a_wrong_answer_that_keeps_full_marks_fails(course, capsys):
    add_wrong_answers(course, [dict(cell="double", id="double-sum", description="x + x is right after all", source="def double(x):\n    return x + x")])
    report = run_unit(course, UNIT, only=["double-sum"])
    assert not report.ok
    assert "'double-sum' (x + x is right after all) keeps full marks 2 / 2" in "\n".join(report.problems)
    assert main(["--root", str(course.root), "wrong-answers", UNIT, "--only", "double-sum"]) == 1
    assert "NO" in capsys.readouterr().out


@pytest.mark.slow
def test_a_wrong_answer_that_leaves_state_behind_is_a_harness_failure(course):
    leak = "import torch\ntorch.tensor = lambda *a, **k: torch.zeros(2, 2, dtype=torch.int64)\ndef count_pixels(mask, label):\n    return 0"
    add_wrong_answers(course, [dict(cell="count_pixels", id="count-leaks", description="monkeypatches torch.tensor", source=leak)])
    report = run_unit(course, UNIT, only=["count-leaks"])
    (outcome,) = report.outcomes
    assert outcome.caught and not outcome.restore_ok
    assert "after wrong answer 'count-leaks' the restored solution earns 0 / 1" in "\n".join(report.problems)
    assert "harness/state-leak bug, not a catch" in "\n".join(report.problems)
