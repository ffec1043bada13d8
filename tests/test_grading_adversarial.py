"""A class of honest and adversarial submissions of unit 03, graded together in one run.

Each attacker answers with wrong (or no) code and tries one way to gain points or to hurt
classmates. Asserted: honest grades are what they are alone, attackers gain nothing, nothing outside
the sandboxes changed (course tree, other submissions, the gradebook's tests and a bystander's
rows), no process of a sandbox survives, and the run completes.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import sqlite3
import time
from pathlib import Path

import nbformat
import pytest

import segkit
from segkit.course import grading
from segkit.course.config import Course
from segkit.course.authoring.release import generate, make_scratch_course, nbgrader_api

UNIT = "03-measuring-quality"
REPO = Path(__file__).resolve().parents[1]
MARKER = "segkit-adversarial-marker"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(grading.detect().name != "root", reason="needs root for the full sandbox")]

WRONG = {  # plausible-looking answers that earn nothing unless the tests are subverted
    "confusion_matrix": "import torch\ndef confusion_matrix(pred, target, num_classes, ignore_index=None):\n"
                        "    return torch.zeros(num_classes, num_classes, dtype=torch.int64)\n",
    "iou_per_class": "def iou_per_class(cm):\n    return torch.zeros(cm.shape[0], dtype=torch.float64)\n",
    "mean_iou": "def mean_iou(cm):\n    return 0.0\n",
    "dice_per_class": "def dice_per_class(cm):\n    return torch.zeros(cm.shape[0], dtype=torch.float64)\n",
}


def _search_code(what: str) -> str:
    """Attack helper: look for ``what`` everywhere a course could be (the grader's tree in an
    unconfined grader)."""
    return f'''
import glob, os
import segkit as _s
_roots = {{os.getcwd(), os.path.dirname(os.path.dirname(_s.__file__)), "/tmp", "/work", "/root", "/home"}}
_found = []
for _r in list(_roots):
    for _up in {{_r, os.path.dirname(_r), os.path.dirname(os.path.dirname(_r))}} - {{"/"}}:
        _found += glob.glob(os.path.join(_up, "**", {what!r}), recursive=True)[:50]
'''


ATTACKS = {
    # class: edit the editable-installed course sources hidden tests compare against
    "edit-sources": _search_code("metrics.py") + '''
for _p in _found + [os.path.join(os.path.dirname(_s.__file__), "metrics.py")]:
    try:
        open(_p, "a").write("\\ndef confusion_matrix(*a, **k):\\n    raise RuntimeError('sabotaged')\\n")
    except OSError:
        pass
''',
    # class: rewrite test sources in the gradebook, lock it, reach the network
    "gradebook": _search_code("gradebook.db") + '''
import sqlite3, socket, threading, time
for _p in _found:
    try:
        _db = sqlite3.connect(_p, timeout=1)
        _db.execute("update source_cell set source = 'pass'")
        _db.commit()
        _lock = sqlite3.connect(_p, timeout=1, check_same_thread=False)
        _lock.execute("begin exclusive")
        threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
    except Exception:
        pass
try:
    socket.create_connection(("pypi.org", 443), timeout=3)
    open("/tmp/net-ok", "w").write("reached the network")
except OSError:
    pass
''',
    # class: overwrite a classmate's submission
    "overwrite-classmate": _search_code("03-measuring-quality.ipynb") + '''
for _p in _found:
    if "overwrite-classmate" not in _p:
        try:
            open(_p, "w").write("{}")
        except OSError:
            pass
''',
    # class: a background process that outlives grading and writes grades later
    "background": '''
import os, time
if os.fork() == 0:
    os.setsid()
    time.sleep(8)
    for _p in [MARKER_HOST, "/tmp/" + MARKER_NAME]:
        try:
            open(_p, "w").write("still alive")
        except OSError:
            pass
    os._exit(0)
''',
    # class: input transformer that strips asserts (plain)
    "transformer-strip": '''
get_ipython().input_transformers_cleanup.append(lambda lines: [l for l in lines if not l.lstrip().startswith("assert")])
''',
    # class: input transformer that turns test cells into `pass`, reached without the names a scan looks for
    "transformer-pass-evasive": '''
import operator
_shell = operator.attrgetter("_" + "ip")(exit)
_hooks = operator.attrgetter("input_" + "transformers_" + "cleanup")(_shell)
_hooks.append(lambda lines: ["pass\\n"] if any("metrics" in l for l in lines) else lines)
''',
    # class: AST transformer removing every assert, reached evasively
    "ast-transformer-evasive": '''
import ast, operator
class _NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
_shell = operator.attrgetter("_" + "ip")(exit)
operator.attrgetter("ast_" + "transformers")(_shell).append(_NoAsserts())
''',
    # class: patched builtins / torch
    "patch-torch": '''
import torch
torch.equal = lambda *a, **k: True
torch.allclose = lambda *a, **k: True
torch.isnan = lambda x: torch.ones_like(x, dtype=torch.bool)
''',
    # class: rebinding the references hidden tests compare with
    "rebind-reference": '''
from segkit import metrics
metrics.confusion_matrix = lambda pred, target, c, ignore_index=None: confusion_matrix(pred, target, c)
metrics.mean_iou = lambda cm: 0.0
''',
    # class: trace function rewriting the test's locals
    "settrace": '''
import sys
def _tracer(frame, event, arg):
    return None
sys.settrace(_tracer)
''',
    # class: a learner's own huge timeout tag, an infinite loop, a loop that swallows KeyboardInterrupt
    "timeout-tag": '''
import time
while True:
    try:
        time.sleep(0.5)
    except KeyboardInterrupt:
        pass
''',
    # class: exhausting memory
    "memory": '''
try:
    _big = bytearray(200 * 2**30)
except MemoryError:
    pass
''',
    # class: reading hidden tests out into the feedback
    "exfiltrate": '''
print(In[-2])
''',
}


def _cells(notebook):
    return {c.get("id"): c for c in notebook.cells}


def _honest(course: Course) -> nbformat.NotebookNode:
    """The lesson with the solution's answers pasted in, as a learner who solved it would submit."""
    lesson = nbformat.read(str(course.release_notebook(UNIT)), as_version=4)
    solution = _cells(nbformat.read(str(course.source_notebook(UNIT)), as_version=4))
    for cell in lesson.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", "", solution[cell.id].source, flags=re.M)
    return lesson


def _attacker(course: Course, name: str, code: str, marker_host: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(str(course.release_notebook(UNIT)), as_version=4)
    cells = _cells(notebook)
    for gid, source in WRONG.items():
        cells[gid].source = source
    code = code.replace("MARKER_HOST", repr(str(marker_host))).replace("MARKER_NAME", repr(MARKER))
    if name == "timeout-tag":
        cells["confusion_matrix"].metadata["tags"] = ["timeout-100000"]
    if name == "exfiltrate":  # right after a test cell, so the previous input holds hidden tests
        index = notebook.cells.index(cells["test_confusion_matrix"]) + 1
    else:
        index = notebook.cells.index(cells["confusion_matrix"]) + 1
    notebook.cells.insert(index, nbformat.v4.new_code_cell(code))
    return notebook


def _class(course: Course, tmp: Path, marker_host: Path) -> dict[str, nbformat.NotebookNode | bytes]:
    honest = _honest(course)
    subs: dict[str, nbformat.NotebookNode | bytes] = {"honest-a": honest}

    colab = copy.deepcopy(honest)  # saved by Colab, nbformat 4.4: metadata and ids gone
    for cell in colab.cells:
        cell.metadata = {"id": "x"}
        cell.pop("id", None)
    colab.nbformat_minor = 4
    colab.metadata = {"colab": {"provenance": []}}
    subs["honest-colab-44"] = colab

    pasted = copy.deepcopy(honest)  # a graded test cell and an answer cell duplicated
    cells = _cells(pasted)
    for gid in ("test_mean_iou", "iou_per_class"):
        twin = copy.deepcopy(cells[gid])
        twin["id"] = gid + "-copy"
        pasted.cells.insert(pasted.cells.index(cells[gid]) + 1, twin)
    subs["honest-pasted"] = pasted

    one_wrong = copy.deepcopy(honest)  # honest but wrong on mean IoU: 6 / 7
    _cells(one_wrong)["mean_iou"].source = "def mean_iou(cm):\n    return iou_per_class(cm).mean().item()\n"
    subs["honest-one-wrong"] = one_wrong

    died = copy.deepcopy(honest)  # the kernel dies after the first exercise: points are kept
    died.cells.insert(died.cells.index(_cells(died)["test_confusion_matrix"]) + 1, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    subs["honest-kernel-dies"] = died

    for name, code in ATTACKS.items():
        subs[name] = _attacker(course, name, code, marker_host)

    claims = nbformat.read(str(course.release_notebook(UNIT)), as_version=4)  # a cell that awards itself points
    claims.cells.append(nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 100, "grade_id": "bonus", "schema_version": 3}}))
    _cells(claims)["test_confusion_matrix"].source = "pass"  # and an edited test cell
    _cells(claims)["test_confusion_matrix"].metadata["nbgrader"]["locked"] = False
    subs["claims-points"] = claims
    subs["empty-file"] = b""
    subs["broken-json"] = b'{"cells": [ {"cell_type": "code", '
    subs["no-cells"] = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    return subs


def _tree_hash(*roots: Path) -> dict[str, str]:
    out = {}
    for root in roots:
        for f in sorted(root.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def _gradebook_rows(db: Path, bystander: str) -> tuple:
    with sqlite3.connect(db) as con:
        sources = con.execute("select name, source from source_cell order by name").fetchall()
        rows = con.execute(
            "select base_cell.name, grade.auto_score from grade join base_cell on grade.cell_id = base_cell.id "
            "join submitted_notebook on grade.notebook_id = submitted_notebook.id "
            "join submitted_assignment on submitted_notebook.assignment_id = submitted_assignment.id "
            "where submitted_assignment.student_id = ? order by base_cell.name", (bystander,)).fetchall()
    assert sources and rows, "the snapshot must see the tests and the bystander's grades"
    return sources, rows


UID_BASE = 300000  # SEGKIT_SANDBOX_UID_BASE for this module's run: other tests' sandboxes use 100000+


def _sandbox_processes() -> list[str]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid = int(next(line for line in status.read_text().splitlines() if line.startswith("Uid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            continue
        if UID_BASE <= uid < UID_BASE + 100000:  # this run's sandboxes only, not a concurrent test's
            found.append(f"{status.parent.name} uid {uid}")
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    course = make_scratch_course(Course(REPO), tmp / "course", [UNIT])
    generate(nbgrader_api(course.root), UNIT)
    marker_host = course.root / MARKER
    subs = _class(Course(REPO), tmp, marker_host)
    paths = {}
    for student, nb in subs.items():
        path = course.root / "submitted" / student / UNIT / f"{UNIT}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(nb if isinstance(nb, bytes) else nbformat.writes(nb).encode())
        paths[student] = path
    ref = grading.Reference.load(course, UNIT)
    bystander = grading.Outcome("bystander", scores=[grading.CellScore(g, 1.0, ref.points[g]) for g in ref.grade_ids()])
    grading.record_outcome(course, UNIT, bystander, feedback=False)
    package = Path(segkit.__file__).resolve().parent
    before_tree = _tree_hash(course.source_dir, course.release_dir, course.root / "submitted", package)
    before_db = _gradebook_rows(course.root / "gradebook.db", "bystander")
    old_env = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "default"  # the instructor's own setting must not reach the kernels
    start = time.perf_counter()
    try:
        limits = grading.Limits(cell_timeout=20, wall_seconds=400)
        os.environ["SEGKIT_SANDBOX_UID_BASE"] = str(UID_BASE)
        outcomes = grading.grade_class(course, UNIT, paths, jobs=2, limits=limits, progress=False)
    finally:
        os.environ.pop("SEGKIT_SANDBOX_UID_BASE", None)
        os.environ.pop("PYTHONWARNINGS") if old_env is None else os.environ.__setitem__("PYTHONWARNINGS", old_env)
    seconds = time.perf_counter() - start
    processes = _sandbox_processes()
    time.sleep(9)  # the background attacker's sleep
    return dict(course=course, outcomes={o.student: o for o in outcomes}, seconds=seconds, processes=processes,
                before_tree=before_tree, after_tree=_tree_hash(course.source_dir, course.release_dir, course.root / "submitted", package),
                before_db=before_db, after_db=_gradebook_rows(course.root / "gradebook.db", "bystander"),
                marker_host=marker_host, subs=subs)


def test_the_run_completes_with_every_student(graded):
    assert set(graded["outcomes"]) == set(graded["subs"])
    print(grading.summary(UNIT, sorted(graded["outcomes"].values(), key=lambda o: o.student), grading.detect()))


@pytest.mark.parametrize("student, points", [("honest-a", 7), ("honest-colab-44", 7), ("honest-pasted", 7),
                                             ("honest-one-wrong", 6), ("honest-kernel-dies", 7)])
def test_honest_grades_are_unchanged(graded, student, points):
    outcome = graded["outcomes"][student]
    assert not outcome.review and not outcome.rejected, outcome
    assert outcome.recorded_points == points, [(s.grade_id, s.points, s.message) for s in outcome.scores]
    assert outcome.max_points == 7


@pytest.mark.parametrize("student", [*ATTACKS, "claims-points", "empty-file", "broken-json", "no-cells"])
def test_attackers_gain_nothing(graded, student):
    outcome = graded["outcomes"][student]
    assert outcome.recorded_points == 0 and outcome.max_points == 7, (outcome.review, outcome.notes, outcome.scores)
    with sqlite3.connect(graded["course"].root / "gradebook.db") as con:
        recorded = con.execute(
            "select sum(grade.auto_score) from grade join submitted_notebook on grade.notebook_id = submitted_notebook.id "
            "join submitted_assignment on submitted_notebook.assignment_id = submitted_assignment.id "
            "where submitted_assignment.student_id = ?", (student,)).fetchone()[0]
    assert (recorded or 0) == 0


@pytest.mark.parametrize("student, why", [
    ("transformer-strip", "uses get_ipython"), ("patch-torch", "assigns torch.equal"),
    ("rebind-reference", "assigns metrics.confusion_matrix"), ("settrace", "imports sys"),
    ("transformer-pass-evasive", "attrgetter with a computed name"), ("ast-transformer-evasive", "attrgetter with a computed name"), ("exfiltrate", "uses In"),
])
def test_tampering_is_flagged_for_review(graded, student, why):
    assert any(why in reason for reason in graded["outcomes"][student].review), graded["outcomes"][student].review


@pytest.mark.parametrize("student, why", [("empty-file", "empty"), ("broken-json", "broken JSON")])
def test_broken_files_are_rejected_with_a_reason(graded, student, why):
    assert why in graded["outcomes"][student].rejected


def test_nothing_outside_the_sandboxes_changed(graded):
    assert graded["after_tree"] == graded["before_tree"]
    assert graded["after_db"] == graded["before_db"]
    assert not graded["marker_host"].exists() and not Path("/tmp", MARKER).exists()
    assert not Path("/tmp/net-ok").exists()


def test_no_sandbox_process_survives(graded):
    assert graded["processes"] == []


def test_a_timeout_is_capped_and_costs_only_that_cell(graded):
    outcome = graded["outcomes"]["timeout-tag"]
    assert any("timed out after 20 s" in note for note in outcome.notes), outcome.notes


def test_feedback_never_shows_hidden_tests(graded):
    html = (graded["course"].root / "feedback" / "exfiltrate" / UNIT / f"{UNIT}.html").read_text()
    assert "manual_seed(3)" not in html and "only_fp" not in html
