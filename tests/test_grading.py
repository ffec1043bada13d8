"""The class grader's trusted parts, without kernels: assembling, scanning, scoring, collecting."""
from __future__ import annotations

import copy
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from segkit.course import grading
from segkit.course.authoring.check import _asserts
from segkit.course.config import Course, CourseError
from segkit.course.nbgrader_settings import ZIP_COLLECT_PATTERN
from segkit.course.sandbox import Limits, Mode, confine

REPO = Path(__file__).resolve().parents[1]
UNIT = "03-measuring-quality"
COURSE = Course(REPO)


@pytest.fixture(scope="module")
def ref() -> grading.Reference:
    """The reference built from the committed source (what the gradebook would hold)."""
    release = nbformat.read(str(COURSE.release_notebook(UNIT)), as_version=4)
    source = {c.get("id"): c for c in nbformat.read(str(COURSE.source_notebook(UNIT)), as_version=4).cells}
    locked = {c.id: source[c.id].source for c in release.cells if c.metadata.get("nbgrader", {}).get("locked")}
    points = {c.id: float(c.metadata["nbgrader"]["points"]) for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")}
    return grading.Reference(UNIT, release, locked, points)


def _graded(notebook) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id")]


def test_assemble_restores_tests_and_ignores_claimed_points(ref):
    sub = copy.deepcopy(ref.release)
    test = next(c for c in sub.cells if c.get("id") == "test_iou_per_class")
    test.source, test.metadata["nbgrader"]["points"] = "pass", 100
    sub.cells.append(nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {"grade": True, "points": 9, "grade_id": "bonus"}}))
    sub.cells.remove(next(c for c in sub.cells if c.get("id") == "test_mean_iou"))
    notebook, notes = grading.assemble(sub, ref)
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
    notebook, notes = grading.assemble(sub, ref)
    assert _graded(notebook) == _graded(ref.release)
    assert len({c.id for c in notebook.cells}) == len(notebook.cells)
    assert any("re-attached" in n for n in notes) and any("second copy" in n for n in notes)


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
def test_scan_leaves_every_solution_alone(unit):
    notebook = nbformat.read(str(COURSE.source_notebook(unit)), as_version=4)
    release = nbformat.read(str(COURSE.release_notebook(unit)), as_version=4)
    # as in grading: locked cells (test cells with their hidden tests) come from the gradebook
    locked = {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebook.cells
              if c.metadata.get("nbgrader", {}).get("locked")}
    assert grading.tamper_findings(notebook, grading.Reference(unit, release, locked, {})) == []


def test_score_follows_nbgrader_rules_and_the_tripwire(ref):
    executed = copy.deepcopy(ref.release)
    cells = {c.get("id"): c for c in executed.cells}
    nonces = {"test_confusion_matrix": "n1", "test_iou_per_class": "n2", "test_mean_iou": "n3", "test_dice_per_class": "n4"}
    err = lambda evalue, ename="AssertionError": nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])  # noqa: E731
    cells["test_confusion_matrix"].outputs = [err("n1")]  # passed, tripwire fired
    cells["test_iou_per_class"].outputs = [nbformat.v4.new_output("stream", name="stderr", text="warn"), err("n2")]
    cells["test_mean_iou"].outputs = [err("wrong answer")]
    cells["test_dice_per_class"].outputs = []  # the tripwire never fired
    scores, review = grading.score(executed, ref, nonces)
    assert [s.points for s in scores] == [2, 0, 0, 2]
    assert review == ["test_dice_per_class: the test cell did not run as released (its tripwire never fired)"]
    assert cells["test_confusion_matrix"].outputs == []


def test_redaction_removes_quoted_hidden_tests(ref):
    executed = copy.deepcopy(ref.release)
    line = "only_fp = torch.tensor([[5, 3], [0, 0]])"
    executed.cells.append(nbformat.v4.new_code_cell("print(In[-2])", outputs=[nbformat.v4.new_output("stream", name="stdout", text=line)]))
    assert grading.redact_hidden(executed, ref) == 1
    assert line not in nbformat.writes(executed)


@pytest.mark.parametrize("text, why", [("", "empty"), ("{not json", "broken JSON"), ('{"a": 1}', "no list of cells")])
def test_unreadable_files_are_rejected_with_a_reason(tmp_path, text, why):
    path = tmp_path / "x.ipynb"
    path.write_text(text)
    with pytest.raises(CourseError, match=why):
        grading.read_submission(path)


def test_collect_reads_zips_and_folders(tmp_path):
    for student in ("ada", "bob.smith"):
        with zipfile.ZipFile(tmp_path / f"{student}_{UNIT}.zip", "w") as z:
            z.writestr(f"{UNIT}/{UNIT}.ipynb", "{}")
    found = grading.collect(COURSE, UNIT, zips=sorted(tmp_path.glob("*.zip")), staging=tmp_path / "s")
    assert sorted(found) == ["ada", "bob.smith"]
    (tmp_path / "nbs").mkdir()
    (tmp_path / "nbs" / "carl.ipynb").write_text("{}")
    assert list(grading.collect(COURSE, UNIT, folder=tmp_path / "nbs", staging=tmp_path)) == ["carl"]


@pytest.mark.parametrize("path, student", [
    (f"/c/downloaded/{UNIT}/extracted/ada_{UNIT}/{UNIT}.ipynb", "ada"),
    (f"/c/downloaded/{UNIT}/extracted/bob.smith_{UNIT}.ipynb", "bob.smith"),
])
def test_zip_collect_pattern(path, student):
    match = re.match(ZIP_COLLECT_PATTERN, path)
    assert match and match["student_id"] == student and match["file_id"] == f"{UNIT}.ipynb"


@pytest.mark.parametrize("source, ok", [
    ("pass", False), ("x = f(1)", False), ("assert f(1) == 2", True), ("if f(1) != 2:\n    raise ValueError", True),
    ("np.testing.assert_allclose(f(1), 2)", True), ("score = 0.5\nscore", True),
])
def test_check_requires_an_assertion_in_test_cells(source, ok):
    assert _asserts(source) is ok


def test_confine_without_a_sandbox_still_sets_the_environment(tmp_path):
    argv = confine(["python", "-V"], workdir=tmp_path, root=tmp_path, env={"A": "1"}, limits=Limits(), uid=1, mode=Mode("none"))
    assert argv[:3] == ["env", "-i", "-C"] and "A=1" in argv


@pytest.mark.slow
def test_check_private_accepts_other_hidden_tests_and_refuses_the_public_ones(tmp_path):
    from segkit.course.authoring.private import check_private

    source = nbformat.read(str(COURSE.source_notebook(UNIT)), as_version=4)
    for name, change in (("good", "assert 1 + 1 == 2, 'a private case'\n### END HIDDEN TESTS"), ("same", "### END HIDDEN TESTS")):
        notebook = copy.deepcopy(source)
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = cell.source.replace("### END HIDDEN TESTS", change)
        path = tmp_path / name / "solutions" / UNIT / f"{UNIT}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, str(path))
    assert check_private(COURSE, tmp_path / "good") == []
    assert any("are the public ones" in p for p in check_private(COURSE, tmp_path / "same"))


@pytest.mark.slow
def test_capstone_overlay_needs_only_new_seeds(tmp_path):
    """The capstone's tier cells have no hidden tests: an overlay changes the hidden split's seed and
    test_evaluate_miou's case seed, and nothing else."""
    from segkit.course.authoring.private import check_private

    unit = "12-capstone"
    text = COURSE.source_notebook(unit).read_text()
    assert "CAPSTONE_SEED = 4_406_118_027_913_577" in text and "manual_seed(2)   # a private" in text
    for name, replaced in (("both", text.replace("CAPSTONE_SEED = 4_406_118_027_913_577", "CAPSTONE_SEED = 1234").replace(
                               "manual_seed(2)   # a private", "manual_seed(9)   # a private")),
                           ("seed-only", text.replace("CAPSTONE_SEED = 4_406_118_027_913_577", "CAPSTONE_SEED = 1234"))):
        path = tmp_path / name / "solutions" / unit / f"{unit}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(replaced)
    comment = text.replace("CAPSTONE_SEED = 4_406_118_027_913_577   # the hidden split", "CAPSTONE_SEED = 4_406_118_027_913_577   # changed comment")
    path = tmp_path / "comment-only" / "solutions" / unit / f"{unit}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(comment)
    assert check_private(COURSE, tmp_path / "both") == []
    assert any("test_evaluate_miou are the public ones" in p for p in check_private(COURSE, tmp_path / "seed-only"))
    assert any("test_handin" in p and "are the public ones" in p for p in check_private(COURSE, tmp_path / "comment-only"))


def test_read_only_paths_under_tmp_survive_the_private_tmp(tmp_path):
    """A course cloned under /tmp (as CI may do) must stay visible once the sandbox mounts its own /tmp."""
    from segkit.course.sandbox import Limits, Mode, confine

    script = confine(["true"], workdir=tmp_path, root=tmp_path / "root", env={}, limits=Limits(), uid=65534,
                     mode=Mode("root"))[-1]
    private_tmp = script.find(f"tmpfs {tmp_path / 'root'}/tmp")
    first_bind = script.index("mount --rbind")
    assert 0 <= private_tmp < first_bind, "the private /tmp must be mounted before the read-only binds"
