"""The hand-in budget (a test cell tagged ``budget-NNN``), enforced by the trusted parent.

Two synthetic units, released with a gradebook as ``release`` does and loaded as the grader loads
them, run through ``grading.execute`` in a real (confined where possible) kernel: the cells before
the hand-in spend CPU seconds, the grader adds them up (the kernel's whole process tree, threads
included), and over budget the hand-in block scores 0 while the rest of the notebook is graded as
usual.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import segkit
from course_fixtures import release_units, with_answers
from segkit.course import grading
from segkit.course.authoring import notebook as nb
from segkit.course.config import Course
from segkit.course.grading.budget import Budget
from segkit.course.sandbox import Limits, tree_cpu_seconds

pytestmark = pytest.mark.slow

BURN = "import time\n_t = time.process_time()\nwhile time.process_time() - _t < {seconds}:\n    pass\n"
CHILD_BURN = (
    "import subprocess, sys\n"
    "subprocess.run([sys.executable, '-c', 'import time\\nt = time.process_time()\\n"
    "while time.process_time() - t < {seconds}:\\n    pass'], check=True)\n"
)


ROOMY, TIGHT = "01-roomy-budget", "02-tight-budget"  # hand-ins with a budget of 30 and 1 CPU seconds


def _unit(budget: int):
    """Source of a unit: imports, answer `train`, hand-in (budget), a tier, answer `report`, its test."""
    return nb.new_notebook([
        nb.code("import time\nRELEASED = True", id="imports"),
        nb.answer("### BEGIN SOLUTION\nmodel = 1\n### END SOLUTION", id="train"),
        nb.tests("assert model == 1", id="test_handin", points=2, tags=[f"budget-{budget}"]),
        nb.tests("assert model == 1", id="test_tier", points=1),
        nb.answer("### BEGIN SOLUTION\nreport = 2\n### END SOLUTION", id="report"),
        nb.tests("assert report == 2", id="test_report", points=1),
    ])


@pytest.fixture(scope="module")
def budget_course(tmp_path_factory) -> Course:
    """Both units released into a course with a gradebook, as ``release`` leaves a real course."""
    return release_units(tmp_path_factory.mktemp("budget-course"), {ROOMY: _unit(budget=30), TIGHT: _unit(budget=1)})


def _grade(course: Course, unit: str, cells_before_handin: list[str], tmp_path: Path, extra_after_handin: str | None = None):
    """Grade the solved lesson with extra learner cells, as grade_one does (reference from the gradebook)."""
    ref = grading.Reference.load(course, unit)
    submission = with_answers(ref.release, nbformat.read(str(course.source_notebook(unit)), as_version=4))
    cells = list(submission.cells)
    train = next(i for i, c in enumerate(cells) if c.get("id") == "train")
    for k, source in enumerate(cells_before_handin):
        cells.insert(train + 1 + k, nbformat.v4.new_code_cell(source))
    if extra_after_handin is not None:
        handin = next(i for i, c in enumerate(cells) if c.get("id") == "test_handin")
        cells.insert(handin + 1, nbformat.v4.new_code_cell(extra_after_handin))
    submission.cells = cells
    notebook, _ = grading.assemble_notebook(submission, ref)
    pythonpath = str(Path(segkit.__file__).resolve().parent.parent)
    executed, nonces, events = grading.execute_notebook(notebook, ref, course.release_dir / unit, Limits(), grading.detect(), pythonpath)
    scores, _ = grading.score_notebook(executed, ref, nonces)
    return {s.grade_id: (s.points, s.message) for s in scores}, events, executed


def test_within_budget_everything_is_graded_and_the_spending_is_reported(budget_course, tmp_path):
    scores, events, _ = _grade(budget_course, ROOMY, [BURN.format(seconds=1.0)], tmp_path)
    assert {k: v[0] for k, v in scores.items()} == {"test_handin": 2, "test_tier": 1, "test_report": 1}
    spent = [e for e in events if e.startswith("budget:")]
    assert spent and "of 30 CPU seconds" in spent[0]
    assert float(spent[0].split("used ")[1].split(" of")[0]) >= 1.0


def test_over_budget_the_hand_in_block_scores_zero_and_the_rest_is_graded(budget_course, tmp_path):
    scores, events, executed = _grade(budget_course, TIGHT, [BURN.format(seconds=0.8), BURN.format(seconds=0.8)], tmp_path)
    assert scores["test_handin"][0] == 0 and scores["test_tier"][0] == 0
    assert "BudgetExceeded" in scores["test_handin"][1] and "the budget is 1 s" in scores["test_handin"][1]
    assert scores["test_report"][0] == 1, "cells after the hand-in block are graded as usual"
    assert any("the budget is 1 s" in e for e in events)


def test_work_done_in_a_child_process_is_counted_too(budget_course, tmp_path):
    """The kernel itself idles while a child process burns 1.5 CPU seconds: over a 1 s budget."""
    if tree_cpu_seconds(1) is None:
        pytest.skip("no /proc: the grader falls back to wall time")
    scores, events, _ = _grade(budget_course, TIGHT, [CHILD_BURN.format(seconds=1.5)], tmp_path)
    assert scores["test_handin"][0] == 0, events


def _order(executed) -> list[str]:
    return [c.metadata.get("nbgrader", {}).get("grade_id") or c.source[:20] for c in executed.cells if c.cell_type == "code"]


def test_no_learner_cell_runs_between_the_hand_in_and_its_scores(budget_course, tmp_path):
    """A cell the learner put right after the hand-in runs after the block, not inside it."""
    scores, _, executed = _grade(budget_course, ROOMY, [], tmp_path, extra_after_handin="model = 'changed after the hand-in'")
    order = _order(executed)
    changed = next(k for k, name in enumerate(order) if name.startswith("model = 'changed"))
    assert order.index("test_tier") < changed, order
    assert scores["test_tier"][0] == 1, "the tier sees the handed-in model, not the later change"


def test_the_block_keeps_the_release_order_whatever_the_submission_does(budget_course, tmp_path):
    """Moving the next answer cell above the tiers, or a tier above the hand-in, changes nothing."""
    ref = grading.Reference.load(budget_course, ROOMY)
    submission = nbformat.from_dict(ref.release)
    cells = {c.get("id"): c for c in submission.cells}
    report, tier = cells["report"], cells["test_tier"]
    report.source = "report = 2\nmodel = 'forged after the hand-in'"
    order = [c for c in submission.cells if c.get("id") not in ("report", "test_tier")]
    at = next(k for k, c in enumerate(order) if c.get("id") == "test_handin")
    submission.cells = order[:at] + [tier] + order[at:at + 1] + [report] + order[at + 1:]
    notebook, _ = grading.assemble_notebook(submission, ref)
    ids = [c.get("id") for c in notebook.cells]
    assert ids.index("test_handin") + 1 == ids.index("test_tier") < ids.index("report"), ids


def test_a_hand_in_that_kills_its_kernel_scores_nothing_after_the_replay(budget_course, tmp_path):
    """The model's == kills the kernel once; the replay would make the tier pass: the block is 0."""
    evil = (
        "import os\n"
        "class Model:\n"
        "    def __eq__(self, other):\n"
        "        if not os.path.exists('died'):\n"
        "            open('died', 'w').close()\n"
        "            os._exit(0)\n"
        "        return True\n"
        "model = Model()\n"
    )
    scores, events, _ = _grade(budget_course, ROOMY, [evil], tmp_path)
    assert scores["test_handin"][0] == 0 and scores["test_tier"][0] == 0, (scores, events)
    assert "did not finish" in scores["test_tier"][1]
    assert scores["test_report"][0] == 1


def test_only_the_released_notebook_can_set_a_budget(budget_course, tmp_path):
    ref = grading.Reference.load(budget_course, ROOMY)
    assert Budget.of(ref).seconds == 30
    plain = grading.Reference.load(budget_course, ROOMY)  # its own copy to change
    for cell in plain.release.cells:
        cell.metadata.pop("tags", None)
    assert Budget.of(plain) is None
