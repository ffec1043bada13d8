"""segkit.course.grading.assemble: the notebook to run, tests from the gradebook and answers from the
submission, whatever the submission did to its cells."""
from __future__ import annotations

import copy

import nbformat
import pytest

from course_fixtures import UNIT, edit_notebook, find_cell, solved_lesson
from segkit.course import grading
from segkit.course.config import CourseError
from segkit.course.grading import reattach_metadata
from segkit.course.learner.submit import FULL_MARKS, submit


def _graded(notebook) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id")]


def test_assemble_restores_tests_and_ignores_claimed_points(ref):
    sub = copy.deepcopy(ref.release)
    test = next(c for c in sub.cells if c.get("id") == "test_iou_per_class")
    test.source, test.metadata["nbgrader"]["points"] = "pass", 100
    sub.cells.append(nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {"grade": True, "points": 9, "grade_id": "bonus"}}))
    sub.cells.remove(next(c for c in sub.cells if c.get("id") == "test_mean_iou"))
    notebook, notes = grading.assemble_notebook(sub, ref)
    assert _graded(notebook) == _graded(ref.release)
    cells = {c.id: c for c in notebook.cells}
    assert "### BEGIN HIDDEN TESTS" in cells["test_iou_per_class"].source
    assert cells["test_iou_per_class"].metadata["nbgrader"]["points"] == 2
    assert any("bonus" in n for n in notes) and any("put back" in n for n in notes)


def test_assemble_handles_colab_copies_and_pasted_cells(ref):
    sub = copy.deepcopy(ref.release)
    for cell in sub.cells:
        cell.metadata = {}
        cell.pop("id")
    sub.nbformat_minor = 4
    twin = copy.deepcopy(sub.cells[[i for i, c in enumerate(ref.release.cells) if c.get("id") == "test_mean_iou"][0]])
    twin.metadata = copy.deepcopy(next(c for c in ref.release.cells if c.get("id") == "test_mean_iou").metadata)
    sub.cells.append(twin)
    notebook, notes = grading.assemble_notebook(sub, ref)
    assert _graded(notebook) == _graded(ref.release)
    assert len({c.id for c in notebook.cells}) == len(notebook.cells)
    assert any("re-attached" in n for n in notes) and any("second copy" in n for n in notes)


@pytest.mark.parametrize("text, why", [("", "empty"), ("{not json", "broken JSON"), ('{"a": 1}', "no list of cells")])
def test_unreadable_files_are_rejected_with_a_reason(tmp_path, text, why):
    path = tmp_path / "x.ipynb"
    path.write_text(text)
    with pytest.raises(CourseError, match=why):
        grading.read_submission(path)


def test_reattach_metadata_matches_by_position_when_ids_are_gone(course, tmp_path):
    reference = nbformat.read(str(course.release_notebook(UNIT)), as_version=4)
    notebook = nbformat.read(str(solved_lesson(course, tmp_path)), as_version=4)
    for cell in notebook.cells:
        cell.metadata = {}
        cell["id"] = "zz" + cell["id"]
    repaired = reattach_metadata(notebook, reference)
    graded = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata]
    assert graded == [c.metadata["nbgrader"]["grade_id"] for c in reference.cells if "nbgrader" in c.metadata]
    assert repaired == len(graded)


@pytest.mark.slow
def test_a_deleted_test_cell_is_put_back_and_graded(course, tmp_path):
    mine = solved_lesson(course, tmp_path)
    edit_notebook(mine, lambda n: n.cells.remove(find_cell(n, "test_double")))
    result = submit(course, UNIT, mine)
    assert result.exit_code == FULL_MARKS, result.table()
