"""A class of honest and adversarial submissions of unit 03, graded together in one run.

Each attacker answers with wrong (or no) code and tries one way to gain points or to hurt
classmates. Asserted: honest grades are what they are alone, attackers gain nothing, nothing outside
the sandboxes changed (course tree, other submissions, the gradebook's tests and a bystander's
rows), no process of a sandbox survives, and the run completes.

The second half holds a test for each class of issue 28 (an examiner who had read the grader's
code), written from the class descriptions: the class run gains one submission per class, and the
classes that need no class run (colliding names, the capstone's scorer, CPU of forked children) are
tested on their own.
"""
from __future__ import annotations

import base64
import copy
import functools
import hashlib
import html
import html.parser
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
import torch

import segkit
from segkit.course import grading
from segkit.course.config import Course
from segkit.course.authoring.release import generate, make_scratch_course, nbgrader_api
from segkit.course.config import CourseError
from segkit.course.grading.classrun import collect
from segkit.course.grading.execute import SCORER_UID_OFFSET
from segkit.course.grading.score import hidden_lines

UNIT = "03-measuring-quality"
REPO = Path(__file__).resolve().parents[1]
MARKER = "segkit-adversarial-marker"
ROOT = pytest.mark.skipif(grading.detect().name != "root", reason="needs root for the full sandbox")


def class_run(test):
    """The tests that share the graded class run (slow, and only as root)."""
    return pytest.mark.slow(ROOT(test))

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


# ---- issue 28: one submission per class, graded in the same class run ---------------------------
# Each is written from the class's description: the attacker has read the grader's code. Where an
# attacker needs an attribute the static scan lists, it reaches it as the issue's examiner did:
# through functools.reduce(getattr, [...]), which names neither the attribute nor a getattr call.

SOLUTION_FLOAT32_IOU = '''def iou_per_class(cm):
    cm = cm.float()
    tp = cm.diagonal()
    union = cm.sum(dim=0) + cm.sum(dim=1) - tp
    return (tp / union).double()
'''

RESULT_THEN_ERROR = '''import functools, os
_result = functools.reduce(getattr, ["sys", "display" + "hook"], os)  # IPython's displayhook: an execute_result

def {name}(*args, **kwargs):
    _result(7.0)  # the test cell outputs a result first ...
    raise NotImplementedError  # ... and then fails
'''

SEARCH_FILES = '''import os
_needles = [bytes(b ^ 90 for b in _x) for _x in NEEDLES]  # masked: the cell's own text (in IPython's history) holds none
_hits, _read, _names = [], 0, []
_here = os.getcwd()
_places = (_here, os.path.dirname(_here), "/tmp", "/dev/shm", "/run", "/var/tmp", os.path.expanduser("~"))
for _top, _dirs, _files in os.walk("/"):
    _dirs[:] = [d for d in _dirs if os.path.join(_top, d) not in ("/proc", "/sys", "/dev")]
    for _n in _files:
        _p = os.path.join(_top, _n)
        if _n.endswith(".ipynb"):
            _names.append(_p)
        _wanted = _p.startswith(_places) or _n.endswith((".ipynb", ".json", ".db", ".sqlite", ".txt", ".seed", ".yaml"))
        try:
            if not _wanted or os.path.islink(_p) or os.path.getsize(_p) > 20 * 2**20:
                continue
            with open(_p, "rb") as _f:
                _data = _f.read()
        except OSError:
            continue
        _read += 1
        _hits += [(_p, _k) for _k, _x in enumerate(_needles) if _x in _data]  # where, and which needle
print(f"SEARCHED {_read} files; notebooks named {UNIT!r}: {[p for p in _names if UNIT in p]}; hits: {_hits}")
'''

ENCODED_LEAK = '''import base64, functools, torch
_get = functools.partial(functools.reduce, getattr)

def _hidden_source():
    """The source of the test that is calling me, found in the callers' frames (the grader's runner)."""
    try:
        raise RuntimeError
    except RuntimeError as err:
        frame = _get(["__traceback__", "tb_frame"], err)
    while frame is not None:
        for value in list(_get(["f_locals"], frame).values()):
            if isinstance(value, str) and "HIDDEN " "TESTS" in value and "_hidden_source" not in value:
                return value
        frame = _get(["f_back"], frame)
    return None

class CellTimeoutError(Exception):  # the name of an error the grader itself reports
    pass

def mean_iou(cm):
    secret = _hidden_source()
    if secret is not None:
        blob = secret.encode()
        print(base64.b64encode(blob).decode())
        print(blob.hex())
        print(secret[::-1])
        raise CellTimeoutError(base64.b64encode(blob).decode())
    return torch.nanmean(iou_per_class(cm)).item()
'''

HISTORY_LEAK = '''import base64
_everything = repr(list(In)) + repr(dict(Out))
print(base64.b64encode(_everything.encode()).decode())
print(_everything.encode().hex())
print(_everything[::-1])
'''

PLANT = '''import os, pathlib
_marker = os.path.join(os.getcwd(), "planted-module-ran")
_code = f"open({_marker!r}, 'a').write('ran at start-up\\\\n')\\n"
for _name in ("sitecustomize.py", "usercustomize.py", "runpy.py", "ipykernel_launcher.py", "IPython.py"):
    pathlib.Path(_name).write_text(_code)
for _folder in (os.path.expanduser("~/.ipython/profile_default/startup"), ".ipython/profile_default/startup"):
    os.makedirs(_folder, exist_ok=True)
    pathlib.Path(_folder, "00-plant.py").write_text(_code)
'''

PLANT_REPORT = '''import os
print("PLANTED-RAN" if os.path.exists(os.path.join(os.getcwd(), "planted-module-ran")) else "PLANTED-QUIET")
'''

XSS = "sgkxss"  # a marker inside every script the submission tries to get into the instructor's browser
XSS_MARKDOWN = f'''## My notes <script>fetch("/formgrader/api/grade/1", {{method: "PUT", body: "{XSS}"}})</script>

<img src="x" onerror="window.{XSS}=1"> [click me](javascript:window.{XSS}=2)

<iframe srcdoc="<script>parent.{XSS}=3</script>"></iframe>
'''
XSS_OUTPUT = f'''class _Rich:
    def _repr_html_(self):
        return '<script>window.{XSS}=4</script><img src=x onerror="window.{XSS}=5">'
    def _repr_javascript_(self):
        return "window.{XSS}=6"
    def _repr_svg_(self):
        return '<svg xmlns="http://www.w3.org/2000/svg" onload="window.{XSS}=7"><script>window.{XSS}=8</script></svg>'
    def _repr_markdown_(self):
        return '<script>window.{XSS}=9</script>'
_Rich()
'''

FLOOD_MB = 300
FLOOD = f'''_chunk = "x" * (2**18 - 1)
for _ in range({(FLOOD_MB - 50) * 4}):
    print(_chunk, flush=True)  # many messages of 256 kB: over the cell's and the notebook's caps
'''
FLOOD_AT_ONCE = '''print("y" * (50 * 2**20))  # one message larger than any the grader accepts
'''

KEEP_TRIPWIRE = '''import functools, re
_shell = functools.reduce(getattr, ["_" + "ip"], exit)
_wire = re.compile(r"^assert False, '[0-9a-f]{16}'$")

def _keep_only_the_tripwire(lines):
    kept = [line for line in lines if _wire.match(line.strip())]
    return kept or lines

functools.reduce(getattr, ["input_transformers_" + "cleanup"], _shell).append(_keep_only_the_tripwire)
'''

KEY_THIEF = '''import ast, base64, functools, hashlib
_get = functools.partial(functools.reduce, getattr)
_shell = _get(["_" + "ip"], exit)
_ns = _get(["user" + "_ns"], _shell)

def _forge(lines):
    """Decrypt each sealed test cell with the guard's key (taken from the runner's closure) and run only its tripwire."""
    try:
        call = ast.parse("".join(lines)).body[0].value
        runner = _ns[call.func.id]
        blob = base64.b64decode(call.args[0].value)
    except Exception:
        return lines
    for cell in _get(["__clo" + "sure__"], runner) or ():
        key = _get(["cell_" + "contents"], cell)
        if isinstance(key, bytes) and len(key) == 32:
            stream = b"".join(hashlib.sha256(key + i.to_bytes(8, "big")).digest() for i in range(len(blob) // 32 + 1))
            source = bytes(a ^ b for a, b in zip(blob, stream)).decode("utf-8", "replace")
            wire = [line for line in source.splitlines() if line.startswith("assert False, '")]
            if wire:
                return [wire[-1] + "\\n"]
    return lines

_get(["input_transformers_" + "cleanup"], _shell).append(_forge)
'''


def _edited(base: nbformat.NotebookNode, answers: dict[str, str], inserts: list[tuple[str, nbformat.NotebookNode]] = ()) -> nbformat.NotebookNode:
    """``base`` with answer cells replaced and cells inserted after the cell of a given grade id."""
    notebook = copy.deepcopy(base)
    cells = _cells(notebook)
    for gid, source in answers.items():
        cells[gid].source = source
    for after, cell in inserts:
        notebook.cells.insert(notebook.cells.index(cells[after]) + 1, cell)
    return notebook


def _code(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source)


def _issue28_class(course: Course, needles: list[bytes]) -> dict[str, nbformat.NotebookNode]:
    """One submission per class of issue 28 (and the honest learner the redaction once withheld)."""
    lesson = nbformat.read(str(course.release_notebook(UNIT)), as_version=4)
    honest = _honest(course)
    stub = {gid: RESULT_THEN_ERROR.format(name=gid) for gid in WRONG}
    return {
        # 1. stubs whose test cells output a result before they fail
        "c1-result-then-error": _edited(lesson, stub),
        # 2. the assembled notebook, hidden tests and seeds: searched for on every readable file ...
        "c2-search-files": _edited(lesson, WRONG, [("confusion_matrix", _code(
            SEARCH_FILES.replace("NEEDLES", repr([[b ^ 90 for b in n] for n in needles])).replace("UNIT", repr(UNIT))))]),
        # ... and leaked, encoded, from the callers' frames and from In/Out, towards the feedback
        "c2-exfiltrate-encoded": _edited(honest, {"mean_iou": ENCODED_LEAK}, [("test_mean_iou", _code(HISTORY_LEAK))]),
        # 4. a module planted in the working folder for the next kernel start to import
        "c4-plant-module": _edited(lesson, WRONG, [("confusion_matrix", _code(PLANT)),
                                                   ("test_confusion_matrix", _code("import os\nos._exit(1)")),
                                                   ("test_iou_per_class", _code(PLANT_REPORT))]),
        # 5. script in a markdown cell and in rich outputs, for the instructor's browser
        "c5-html": _edited(lesson, WRONG, [("confusion_matrix", nbformat.v4.new_markdown_cell(XSS_MARKDOWN)),
                                           ("iou_per_class", _code(XSS_OUTPUT))]),
        # 6. hundreds of MB of printed output
        "c6-flood": _edited(lesson, WRONG, [("confusion_matrix", _code(FLOOD)), ("iou_per_class", _code(FLOOD_AT_ONCE))]),
        # 7. honest work: float32 IoU (4 / 7), and a traceback through the learner's own function
        "c7-honest-traceback": _edited(honest, {"iou_per_class": SOLUTION_FLOAT32_IOU}, [
            ("iou_per_class", _code("iou_per_class(torch.tensor([1, 2]))  # a 1-D input: fails inside my function"))]),
        # 8. input transformers that spare the tripwire: naively, and with the guard's key
        "c8-keep-tripwire": _edited(lesson, WRONG, [("confusion_matrix", _code(KEEP_TRIPWIRE))]),
        "c8-key-thief": _edited(lesson, WRONG, [("confusion_matrix", _code(KEY_THIEF))]),
    }


def _class(course: Course, tmp: Path, marker_host: Path, needles: list[bytes]) -> dict[str, nbformat.NotebookNode | bytes]:
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
    subs.update(_issue28_class(course, needles))
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


class PeakMemory(threading.Thread):
    """Samples the resident memory of the grader: this process ("grader") and its direct children,
    the grading workers ("worker"; the sandboxed kernels are their children and are not counted)."""

    def __init__(self, interval: float = 0.05):
        super().__init__(daemon=True)
        self.interval, self.stop, self.peak = interval, threading.Event(), {"grader": 0, "worker": 0}
        self.workers: set[int] = set()
        import psutil

        self.base = psutil.Process().memory_info().rss  # this pytest worker holds other tests' memory too

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.stop.wait(self.interval):
            for process in [me, *me.children()]:
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                key = "grader" if process.pid == me.pid else "worker"
                if key == "worker":
                    self.workers.add(process.pid)
                self.peak[key] = max(self.peak[key], rss)


UID_BASE = 300000  # SEGKIT_SANDBOX_UID_BASE for this module's run: other tests' sandboxes use 100000+


def _sandbox_processes(workers: set[int], grace: float = 5.0) -> list[str]:
    """Processes of this run's sandboxes (the uids its grading workers gave them, learner and scorer;
    another worktree may run this module at the same time) still there ``grace`` seconds after the
    run: a killed sandbox takes a moment to go on a busy machine."""
    uids = {UID_BASE + pid % 100000 + offset for pid in workers for offset in (0, SCORER_UID_OFFSET)}
    stop = time.monotonic() + grace
    while True:
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                uid = int(next(line for line in status.read_text().splitlines() if line.startswith("Uid:")).split()[1])
            except (OSError, StopIteration, ValueError):
                continue
            if uid in uids:
                found.append(f"{status.parent.name} uid {uid}")
        if not found or time.monotonic() > stop:
            return found
        time.sleep(0.5)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    course = make_scratch_course(Course(REPO), tmp / "course", [UNIT])
    generate(nbgrader_api(course.root), UNIT)
    marker_host = course.root / MARKER
    ref = grading.Reference.load(course, UNIT)
    secret = sorted(hidden_lines(ref))
    subs = _class(Course(REPO), tmp, marker_host, [line.encode() for line in secret if len(line) >= 30])
    paths = {}
    for student, nb in subs.items():
        path = course.root / "submitted" / student / UNIT / f"{UNIT}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(nb if isinstance(nb, bytes) else nbformat.writes(nb).encode())
        paths[student] = path
    bystander = grading.Outcome("bystander", scores=[grading.CellScore(g, 1.0, ref.points[g]) for g in ref.grade_ids()])
    grading.record_outcome(course, UNIT, bystander, feedback=False)
    package = Path(segkit.__file__).resolve().parent
    before_tree = _tree_hash(course.source_dir, course.release_dir, course.root / "submitted", package)
    before_db = _gradebook_rows(course.root / "gradebook.db", "bystander")
    old_env = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "default"  # the instructor's own setting must not reach the kernels
    start = time.perf_counter()
    memory = PeakMemory()
    memory.start()
    try:
        limits = grading.Limits(cell_timeout=20, wall_seconds=400)
        os.environ["SEGKIT_SANDBOX_UID_BASE"] = str(UID_BASE)
        outcomes = grading.grade_class(course, UNIT, paths, jobs=2, limits=limits, progress=False)
    finally:
        memory.stop.set()
        os.environ.pop("SEGKIT_SANDBOX_UID_BASE", None)
        os.environ.pop("PYTHONWARNINGS") if old_env is None else os.environ.__setitem__("PYTHONWARNINGS", old_env)
    seconds = time.perf_counter() - start
    processes = _sandbox_processes(memory.workers)
    assert memory.workers, "the grading workers were seen"
    time.sleep(9)  # the background attacker's sleep
    return dict(course=course, outcomes={o.student: o for o in outcomes}, seconds=seconds, processes=processes,
                before_tree=before_tree, after_tree=_tree_hash(course.source_dir, course.release_dir, course.root / "submitted", package),
                before_db=before_db, after_db=_gradebook_rows(course.root / "gradebook.db", "bystander"),
                marker_host=marker_host, subs=subs, secret=secret, peak=memory.peak, peak_base=memory.base)


@class_run
def test_the_run_completes_with_every_student(graded):
    assert set(graded["outcomes"]) == set(graded["subs"])
    print(grading.summary(UNIT, sorted(graded["outcomes"].values(), key=lambda o: o.student), grading.detect()))


@class_run
@pytest.mark.parametrize("student, points", [("honest-a", 7), ("honest-colab-44", 7), ("honest-pasted", 7),
                                             ("honest-one-wrong", 6), ("honest-kernel-dies", 7)])
def test_honest_grades_are_unchanged(graded, student, points):
    outcome = graded["outcomes"][student]
    assert not outcome.review and not outcome.rejected, outcome
    assert outcome.recorded_points == points, [(s.grade_id, s.points, s.message) for s in outcome.scores]
    assert outcome.max_points == 7


@class_run
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


@class_run
@pytest.mark.parametrize("student, why", [
    ("transformer-strip", "uses get_ipython"), ("patch-torch", "assigns torch.equal"),
    ("rebind-reference", "assigns metrics.confusion_matrix"), ("settrace", "imports sys"),
    ("transformer-pass-evasive", "attrgetter with a computed name"), ("ast-transformer-evasive", "attrgetter with a computed name"), ("exfiltrate", "uses In"),
])
def test_tampering_is_flagged_for_review(graded, student, why):
    assert any(why in reason for reason in graded["outcomes"][student].review), graded["outcomes"][student].review


@class_run
@pytest.mark.parametrize("student, why", [("empty-file", "empty"), ("broken-json", "broken JSON")])
def test_broken_files_are_rejected_with_a_reason(graded, student, why):
    assert why in graded["outcomes"][student].rejected


@class_run
def test_nothing_outside_the_sandboxes_changed(graded):
    assert graded["after_tree"] == graded["before_tree"]
    assert graded["after_db"] == graded["before_db"]
    assert not graded["marker_host"].exists() and not Path("/tmp", MARKER).exists()
    assert not Path("/tmp/net-ok").exists()


@class_run
def test_no_sandbox_process_survives(graded):
    assert graded["processes"] == []


@class_run
def test_a_timeout_is_capped_and_costs_only_that_cell(graded):
    outcome = graded["outcomes"]["timeout-tag"]
    assert any("timed out after 20 s" in note for note in outcome.notes), outcome.notes


@class_run
def test_feedback_never_shows_hidden_tests(graded):
    html = (graded["course"].root / "feedback" / "exfiltrate" / UNIT / f"{UNIT}.html").read_text()
    assert "manual_seed(3)" not in html and "only_fp" not in html


# ---- issue 28, class by class ---------------------------------------------------------------------

ISSUE28_ATTACKERS = ["c1-result-then-error", "c2-search-files", "c4-plant-module", "c5-html", "c6-flood",
                     "c8-keep-tripwire", "c8-key-thief"]
HONEST_POINTS = {"honest-a": 7, "honest-colab-44": 7, "honest-pasted": 7, "honest-one-wrong": 6,
                 "honest-kernel-dies": 7, "c7-honest-traceback": 4}


def _autograded(graded, student: str) -> nbformat.NotebookNode:
    """The graded run as recorded for the instructor (formgrader's view)."""
    path = graded["course"].root / "autograded" / student / UNIT / f"{UNIT}.ipynb"
    return nbformat.read(str(path), as_version=4)


def _feedback_html(graded, student: str) -> str:
    return (graded["course"].root / "feedback" / student / UNIT / f"{UNIT}.html").read_text()


def _output_text(notebook: nbformat.NotebookNode) -> str:
    """Every text of every output: streams, text/plain, error names, values and tracebacks."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts += [output.get("text", ""), output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])]
            data = output.get("data", {}).get("text/plain", "")
            parts.append("".join(data) if isinstance(data, list) else data)
    return "\n".join(parts)


def _recorded_points(graded, student: str) -> float:
    with sqlite3.connect(graded["course"].root / "gradebook.db") as con:
        return con.execute(
            "select sum(grade.auto_score) from grade join submitted_notebook on grade.notebook_id = submitted_notebook.id "
            "join submitted_assignment on submitted_notebook.assignment_id = submitted_assignment.id "
            "where submitted_assignment.student_id = ?", (student,)).fetchone()[0] or 0.0


def _decodings(text: str) -> list[str]:
    """``text`` as written, reversed, and every long base64 or hex token in it decoded."""
    text = html.unescape(text)
    found = [text, text[::-1]]
    for token in re.findall(r"[A-Za-z0-9+/]{24,}={0,2}", text):
        try:
            found.append(base64.b64decode(token + "=" * (-len(token) % 4)).decode("utf-8", "replace"))
        except ValueError:
            pass
    found += [bytes.fromhex(t).decode("utf-8", "replace") for t in re.findall(r"(?:[0-9a-f]{2}){16,}", text)]
    return found


def _quoted(secret: list[str], text: str) -> list[str]:
    """The secret lines found in ``text`` in any of :func:`_decodings`' forms."""
    decoded = _decodings(text)
    return [line for line in secret if any(line in d for d in decoded)]


@class_run
@pytest.mark.parametrize("student", ISSUE28_ATTACKERS)
def test_issue28_attackers_earn_nothing_and_classmates_keep_their_grades(graded, student):
    outcome = graded["outcomes"][student]
    assert outcome.recorded_points == 0 and _recorded_points(graded, student) == 0, (outcome.review, outcome.scores)
    for classmate, points in HONEST_POINTS.items():  # graded in the same run, recorded in the gradebook
        assert graded["outcomes"][classmate].recorded_points == points == _recorded_points(graded, classmate), classmate


@class_run
def test_class1_a_result_before_the_error_scores_zero(graded):
    """Stubs whose test cells output a result and then fail: 0, not the result's value and not full marks."""
    outcome = graded["outcomes"]["c1-result-then-error"]
    assert outcome.points == 0, [(s.grade_id, s.points, s.message) for s in outcome.scores]
    test_cells = [c for c in _autograded(graded, "c1-result-then-error").cells if c.get("id", "").startswith("test_")]
    results = [o for c in test_cells for o in c.outputs if o.output_type == "execute_result"]
    assert results, "the attack did make the test cells output a result before failing"


@class_run
def test_class2_no_file_in_the_sandbox_holds_the_notebook_or_hidden_tests(graded):
    text = _output_text(_autograded(graded, "c2-search-files"))
    found = re.search(r"SEARCHED (\d+) files; notebooks named '[^']+': \[(.*?)\]; hits: \[(.*?)\]", text)
    assert found, text[:2000]
    assert int(found[1]) > 100, "the search read the working folder, /tmp, $HOME and every JSON/text file it could"
    assert found[2] == "" and found[3] == "", found[0]


@class_run
def test_class2_encoded_hidden_tests_never_reach_the_feedback(graded):
    """Hidden tests read from the callers' frames and In/Out, printed as base64, hex and reversed, and
    carried in an exception named like the grader's own: not in the learner's feedback."""
    student, secret = "c2-exfiltrate-encoded", graded["secret"]
    graded_run = _output_text(_autograded(graded, student))
    assert _quoted(secret, graded_run), "control: the graded run (the instructor's copy) holds the leak"
    feedback = _feedback_html(graded, student)
    assert _quoted(secret, feedback) == []
    assert "HiddenTests: CellTimeoutError: the cell ran out of time" in feedback, "the grader's words, not the error's"
    outcome = graded["outcomes"][student]
    assert {s.grade_id: s.points for s in outcome.scores}["test_mean_iou"] == 0


@class_run
def test_class4_a_module_planted_in_the_working_folder_never_runs(graded):
    outcome = graded["outcomes"]["c4-plant-module"]
    assert any("the kernel died" in note for note in outcome.notes), "control: the next kernel start happened"
    text = _output_text(_autograded(graded, "c4-plant-module"))
    assert "PLANTED-QUIET" in text and "PLANTED-RAN" not in text, text[-2000:]


class _ScriptFinder(html.parser.HTMLParser):
    """Everything in a page that would run: scripts, event handlers, javascript: URLs, srcdoc frames."""

    def __init__(self):
        super().__init__()
        self.found, self._in_script = [], False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and XSS in value or name == "srcdoc" and XSS in value \
                    or name in ("href", "src", "action", "formaction") and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value[:60]!r}>")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and XSS in data:
            self.found.append(f"<script>{data[:60]}")


@class_run
def test_class5_no_script_from_a_submission_reaches_what_instructors_open(graded):
    from nbconvert import HTMLExporter

    student = "c5-html"
    autograded = _autograded(graded, student)
    page, _ = HTMLExporter().from_notebook_node(autograded)  # what formgrader renders
    for name, text in (("autograded notebook", page), ("feedback page", _feedback_html(graded, student))):
        finder = _ScriptFinder()
        finder.feed(text)
        assert finder.found == [], (name, finder.found)
        assert XSS in text, f"control: the {name} shows the submission's text (as text)"
    kinds = {k for c in autograded.cells for o in c.get("outputs", []) for k in o.get("data", {})}
    assert kinds <= {"text/plain", "image/png", "image/jpeg", "image/gif"}, kinds


@class_run
def test_class6_an_output_flood_is_capped_and_the_grader_stays_small(graded):
    student = "c6-flood"
    path = graded["course"].root / "autograded" / student / UNIT / f"{UNIT}.ipynb"
    assert path.stat().st_size < 40 * 2**20, path.stat().st_size
    text = _output_text(_autograded(graded, student))
    assert "[output truncated by the grader" in text and "an output message was over 5 MB" in text, text[-3000:]
    peak = {k: v / 2**20 for k, v in graded["peak"].items()}
    grew = peak["grader"] - graded["peak_base"] / 2**20  # the grading process holds what earlier tests loaded
    print(f"peak resident memory with a {FLOOD_MB} MB output flood in the class: grader +{grew:.0f} MB above "
          f"its start, worker {peak['worker']:.0f} MB")
    assert peak["worker"] < 1024 and grew < 512, (peak, grew)  # the issue saw ~11x the flood


@class_run
def test_class7_a_traceback_through_the_learners_own_function_is_not_withheld(graded):
    student = "c7-honest-traceback"
    outcome = graded["outcomes"][student]
    assert not outcome.review and outcome.recorded_points == 4, (outcome.review, outcome.scores)
    assert "iou_per_class(cm)" in _output_text(_autograded(graded, student)), "control: the traceback shows it"
    feedback = html.unescape(_feedback_html(graded, student))
    assert "HiddenTests: a hidden test failed: counts of 3 billion pixels" in feedback, "told what the hidden test says"
    assert not re.search(r"AssertionError: [0-9a-f]{16}\b", feedback), "no tripwire of the feedback run is shown"


@class_run
@pytest.mark.parametrize("student", ["c8-keep-tripwire", "c8-key-thief"])
def test_class8_sparing_the_tripwire_earns_nothing(graded, student):
    outcome = graded["outcomes"][student]
    assert outcome.recorded_points == 0 and _recorded_points(graded, student) == 0
    assert outcome.review, "reached evasively, the input transformer must still be found"


def test_class7_colliding_names_are_an_error_naming_both_files(tmp_path):
    course = Course(REPO)
    folder = tmp_path / "collected"
    folder.mkdir()
    for name in ("Ann Lee.ipynb", "Ann-Lee.ipynb", "bob.ipynb"):
        (folder / name).write_text("{}")
    with pytest.raises(CourseError) as raised:
        collect(course, UNIT, folder=folder, staging=tmp_path / "staging")
    assert "Ann Lee.ipynb" in str(raised.value) and "Ann-Lee.ipynb" in str(raised.value), raised.value


# ---- class 4: CPU of processes the kernel never waits for ------------------------------------------

FORKED_TRAINER = '''
import os, resource, time

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

open("cell-start", "w").close()
for k in range(2):
    if os.fork() == 0:
        if os.fork() == 0:  # a grandchild, orphaned at once: nobody ever waits for it
            x = 0
            while cpu() < 1.5:  # "training"
                x += 1
            open(f"used-{k}", "w").write(str(cpu()))
            os._exit(0)
        os._exit(0)
    os.wait()  # the intermediate child only
open("cell-done", "w").close()  # the cell returns; the children train on between cells
while not all(os.path.exists(f"used-{k}") for k in range(2)):  # the kernel idles, waiting for nothing
    time.sleep(0.2)
open("used-parent", "w").write(str(cpu()))
'''


def _wait_for(path: Path, seconds: float = 60) -> None:
    stop = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < stop, f"{path.name} never appeared"
        time.sleep(0.01)


@ROOT
@pytest.mark.slow
def test_class4_cpu_of_forked_children_is_counted(tmp_path):
    """A "kernel" whose cell forks trainers it never waits for: the submission's cgroup counts their
    CPU; the per-cell process-tree reading (the fallback without a cgroup) does not."""
    from segkit.course.sandbox import CpuMeter, Limits, confine, tree_cpu_seconds

    meter = CpuMeter.create(f"adversarial-{os.getpid()}")
    if meter is None:
        pytest.skip("no cgroup v2 to create a submission's cgroup in")
    workdir, root = tmp_path / "work", tmp_path / "root"
    workdir.mkdir()
    root.mkdir()
    (workdir / "trainer.py").write_text(FORKED_TRAINER)
    argv = meter.wrap(confine([sys.executable, str(workdir / "trainer.py")], workdir=workdir, root=root,
                              env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"}, limits=Limits(), uid=UID_BASE + 99_000,
                              mode=grading.detect()))
    try:
        process = subprocess.Popen(argv)
        _wait_for(workdir / "cell-start")
        before = tree_cpu_seconds(process.pid) or 0.0
        _wait_for(workdir / "cell-done")
        per_cell_tree = (tree_cpu_seconds(process.pid) or 0.0) - before
        assert process.wait(timeout=120) == 0
        counted = meter.seconds()
    finally:
        meter.close()
    children = sum(float((workdir / f"used-{k}").read_text()) for k in range(2))
    used = children + float((workdir / "used-parent").read_text())
    print(f"forked trainers: used {used:.2f} CPU s ({children:.2f} in orphaned children); counted by the cgroup "
          f"{counted:.2f} s; by the per-cell process tree (fallback) {per_cell_tree:.2f} s")
    assert counted >= used, (counted, used)
    assert counted <= used + 2.0, "the cgroup adds only the sandbox's own start-up"
    assert per_cell_tree < children / 2, "control: the fallback misses the orphaned children"


# ---- class 3: the capstone's scorer runs no learner code --------------------------------------------


class _Sneaky(torch.nn.Module):
    """A hand-in whose forward tries what the examiner's models did: read the hidden seed from the
    scorer's frames, replace the metric the scorer calls (through an aliased setattr), and leave a
    trace of every call. With torch.export it runs only while being exported, in the learner's kernel."""

    calls: Path
    found: Path

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 8, 1)

    def forward(self, x):
        from segkit import metrics

        with open(self.calls, "a") as f:
            f.write(f"forward ran in process {os.getpid()}\n")
        frame = sys._getframe()
        while frame is not None:
            if "seed" in frame.f_locals:
                self.found.write_text(repr(frame.f_locals["seed"]))
            frame = frame.f_back
        alias = setattr
        alias(metrics, "mean_iou", lambda cm: 1.0)
        return self.conv(x)


SCORE_BOTH = '''
import json, sys
from segkit import metrics
from segkit.course.kernel.capstone import score_handin
original = metrics.mean_iou
out = {name: score_handin(path, seed=271828, count=8).miou for name, path in zip(("sneaky", "plain"), sys.argv[1:])}
out["metric_intact"] = metrics.mean_iou is original
print(json.dumps(out))
'''


@pytest.mark.slow
def test_class3_a_hand_in_runs_no_learner_code_in_the_scorer(tmp_path):
    from segkit import metrics
    from segkit.course.kernel.capstone import IMAGE_SIZE, save_exported

    sneaky = _Sneaky()
    sneaky.calls, sneaky.found = tmp_path / "calls.txt", tmp_path / "seed-found.txt"
    plain = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 1))
    plain[0].load_state_dict(sneaky.conv.state_dict())
    example = (torch.zeros(1, 3, *IMAGE_SIZE),)
    original = metrics.mean_iou
    try:
        with torch.no_grad():  # as hand_in exports, in the learner's kernel
            save_exported(torch.export.export(sneaky.eval(), example), tmp_path / "sneaky.segkit")
    finally:
        metrics.mean_iou = original  # the export ran forward here, in the "learner's" process
    save_exported(torch.export.export(plain.eval(), example), tmp_path / "plain.segkit")
    traced = sneaky.calls.read_text()
    assert traced and not sneaky.found.exists(), "control: forward ran while exported, where no seed exists"
    result = subprocess.run([sys.executable, "-c", SCORE_BOTH, str(tmp_path / "sneaky.segkit"), str(tmp_path / "plain.segkit")],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    scores = json.loads(result.stdout.strip().splitlines()[-1])
    assert sneaky.calls.read_text() == traced, "the scorer ran the learner's forward"
    assert not sneaky.found.exists(), "the hidden seed was read"
    assert scores["metric_intact"] and scores["sneaky"] == scores["plain"] < 1.0, scores


# ---- the trusted side's words, without a sandbox -----------------------------------------------------


def test_class2_an_error_named_like_the_graders_carries_nothing_into_the_feedback(ref):
    from segkit.course.grading.score import hidden_failure_message

    leak = base64.b64encode(b"only_fp = torch.tensor([[5, 3], [0, 0]])").decode()
    cell = nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
        "error", ename="CellTimeoutError", evalue=leak, traceback=[])])
    message = hidden_failure_message(ref, "test_iou_per_class", cell)
    assert leak not in message and message.startswith("CellTimeoutError: "), message


def test_class7_hidden_lines_found_in_the_lesson_or_the_learners_text_are_not_secret(ref):
    secret = hidden_lines(ref)
    assert "iou_per_class(cm)" not in secret, "the lesson's prose and signature hold it"
    assert "only_fp = torch.tensor([[5, 3], [0, 0]])" in secret
    assert "only_fp = torch.tensor([[5, 3], [0, 0]])" not in hidden_lines(
        ref, {"only_fp = torch.tensor([[5, 3], [0, 0]])  # my own check"})
