"""segkit.course.grading.scan: the static scan of learner cells for tools that tamper with tests."""
from __future__ import annotations

import copy

import nbformat
import pytest

from course_fixtures import REPO
from segkit.course import grading
from segkit.course.config import Course

COURSE = Course(REPO)


@pytest.mark.parametrize("source, finding", [
    ("get_ipython().input_transformers_cleanup.append(f)", "get_ipython"),
    ("import sys\nsys.settrace(f)", "imports sys"),
    ("import torch\ntorch.allclose = lambda *a, **k: True", "assigns torch.allclose"),
    ("from segkit import metrics as m\nm.iou_per_class = iou_per_class", "assigns m.iou_per_class"),
    ("x = getattr(torch, name)", "computed name"),
    ("print(In[-2])", "uses In"),
    ("exec(code)", "uses exec"),
    ("setattr(torch, 'allclose', lambda *a, **k: True)", "uses setattr on torch"),
])
def test_scan_finds_tampering(ref, source, finding):
    notebook = copy.deepcopy(ref.release)
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    assert any(finding in f for f in grading.tamper_findings(notebook, ref))


@pytest.mark.parametrize("source", [
    "for m in model.modules():\n    m.eval()",  # nn.Module.modules(), not sys.modules
    "setattr(model, 'classifier', nn.Conv2d(8, 3, 1))",  # model surgery
])
def test_scan_leaves_ordinary_pytorch_alone(ref, source):
    notebook = copy.deepcopy(ref.release)
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    assert grading.tamper_findings(notebook, ref) == []


@pytest.mark.parametrize("unit", COURSE.units())
def test_scan_leaves_every_solution_alone(unit, released):
    """A solution handed in as it is (the gradebook's tests, the hand-in budget of the capstone) needs no review."""
    notebook = nbformat.read(str(COURSE.source_notebook(unit)), as_version=4)
    assert grading.tamper_findings(notebook, released(unit)) == []
