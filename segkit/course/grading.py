"""Grade submissions you cannot trust: each one runs in its own sandbox, scores are computed outside.

The trusted parent (this module, run by the instructor or by ``submit``)

1. **assembles** the notebook to run from the learner's file and the gradebook: test cells and other
   locked cells come from the gradebook (hidden tests included), answer cells and the learner's own
   cells from the submission; nbgrader metadata comes from the released notebook only (a Colab
   copy that lost it is re-attached, a duplicated graded cell is dropped or demoted, a deleted test
   cell is put back, a cell that claims points of its own gets none);
2. **scans** the learner's code (the cells that differ from the released notebook) for the tools
   that tamper with test execution (input/AST transformers, trace and audit hooks, patched
   builtins or modules, frame and code-object access, process control): a hit withholds the score
   with a "needs review" reason, the points it would have earned shown beside it;
3. **executes** the notebook cell by cell from outside: nbclient talks over Unix sockets to an
   IPython kernel confined by :mod:`segkit.course.sandbox` in a throwaway folder holding only the
   released unit and this notebook. Per-cell timeouts come from the released notebook (tags
   ``timeout-NNN``), capped; a timeout or a kernel death costs that cell only: the kernel is killed
   and a fresh one replays the earlier non-test cells and continues with the next cell. A test
   cell tagged ``budget-NNN`` is a **hand-in** (the capstone's): every cell up to and including it
   (test cells too: they run learner functions) may use NNN CPU seconds in total, as this parent
   measures them from ``/proc`` (the kernel's whole process tree and all its threads, so more
   threads buy nothing; wall time where there is no ``/proc``). The graded cells scored from the
   hand-in (those after it in the release, up to the next answer cell) are kept right after it in
   the release's order, so no learner cell runs between the hand-in and its scores. Over budget,
   or when the kernel dies or times out during the hand-in or its block, they score 0 (a fresh
   kernel would replay the learner's cells, forged results included);
4. adds a **tripwire** to every test cell: a failing check with a random nonce at its end, which must
   fail exactly so; a test cell that ends without it was rewritten in the kernel (assert stripping,
   cells turned into ``pass``): needs review;
5. **scores** each test cell itself by nbgrader's rules (an error or stderr output gives 0, a
   numeric last expression gives partial credit, else full marks), writes the autograded notebook
   and the gradebook rows through nbgrader's ``Gradebook`` API (so ``nbgrader export`` and
   formgrader keep working) and the feedback HTML (hidden tests redacted) with nbgrader.
"""
from __future__ import annotations

import ast
import copy
import json
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from segkit.course.config import Course, CourseError
from segkit.course.nbgrader_settings import DEFAULT_CELL_TIMEOUT, QUIET_KERNEL_ENV
from segkit.course.notebook import budget_from_tags, timeout_from_tags
from segkit.course.sandbox import Limits, Mode, confine, data_paths, detect

MAX_KERNEL_DEATHS = 3
CANARY_NAME = "SegkitTripwire"


# ---- results --------------------------------------------------------------------------------


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


@dataclass
class Outcome(ScoreTotals):
    """What grading one submission gave; plain data, sent back from a worker process."""

    student: str
    scores: list[CellScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # repairs made to the submission
    review: list[str] = field(default_factory=list)  # why the score is withheld
    rejected: str = ""  # why nothing could be graded
    executed: dict | None = None  # the executed notebook (JSON)
    seconds: float = 0.0
    sandbox: str = ""

    @property
    def recorded_points(self) -> float:
        return 0.0 if self.review or self.rejected else self.points


# ---- 1. assembling the notebook to run --------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """What the trusted side knows about a unit: the released notebook and the gradebook's tests."""

    unit: str
    release: nbformat.NotebookNode  # lessons/UNIT/UNIT.ipynb (metadata, order, stubs, timeouts)
    locked_sources: dict[str, str]  # grade id -> source of every locked cell (tests with hidden tests)
    points: dict[str, float]  # grade id -> points of every graded cell

    @classmethod
    def load(cls, course: Course, unit: str) -> "Reference":
        from nbgrader.api import Gradebook, MissingEntry

        release = nbformat.read(str(course.release_notebook(unit)), as_version=4)
        locked, points = {}, {}
        with _quiet(), Gradebook(_db_url(course)) as gb:
            for cell in release.cells:
                meta = cell.metadata.get("nbgrader", {})
                gid = meta.get("grade_id")
                if not gid:
                    continue
                if meta.get("grade"):
                    points[gid] = float(meta.get("points", 0))
                if meta.get("locked") and not meta.get("solution"):
                    try:
                        locked[gid] = gb.find_source_cell(gid, unit, unit).source
                    except MissingEntry as err:
                        raise CourseError(f"the gradebook has no cell {gid!r} of {unit}: run "
                                          f"`python -m segkit.course release {unit}` first") from err
        return cls(unit, release, locked, points)

    def grade_ids(self) -> list[str]:
        return [c.metadata["nbgrader"]["grade_id"] for c in self.release.cells if c.metadata.get("nbgrader", {}).get("grade")]


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The learner's notebook, or CourseError with the reason it cannot be graded."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CourseError(f"cannot read {path.name}: {err}") from err
    if not text.strip():
        raise CourseError(f"{path.name} is not a readable notebook: the file is empty")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise CourseError(f"{path.name} is not a readable notebook: broken JSON ({err})") from err
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise CourseError(f"{path.name} is not a readable notebook: it has no list of cells")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises several types
        raise CourseError(f"{path.name} is not a readable notebook: {err}") from err


def assemble(submission: nbformat.NotebookNode, ref: Reference) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook to execute, and notes on what was repaired. Never trusts the submission's
    test cells, their metadata or points."""
    from segkit.course.submit import reattach_metadata

    notes: list[str] = []
    submission = copy.deepcopy(submission)
    for cell in submission.cells:
        cell.setdefault("metadata", {})
        if cell.cell_type == "code":
            cell.setdefault("source", "")
    if reattach_metadata(submission, ref.release):
        notes.append("grading metadata re-attached (saved without it, e.g. by Colab)")
    ref_cells = {c.metadata["nbgrader"]["grade_id"]: c for c in ref.release.cells if c.metadata.get("nbgrader", {}).get("grade_id")}
    seen: set[str] = set()
    cells = []
    for cell in submission.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        ref_cell = ref_cells.get(gid)
        if gid and (ref_cell is None or ref_cell.cell_type != cell.cell_type):
            if cell.metadata["nbgrader"].get("grade"):
                notes.append(f"cell {gid!r} is not a graded cell of this unit: it earns nothing")
            cell.metadata.pop("nbgrader")
            gid = None
        if gid and gid in seen:
            if gid in ref.locked_sources:
                notes.append(f"a second copy of test cell {gid!r} was dropped")
                continue
            notes.append(f"a second copy of answer cell {gid!r} runs as an ordinary cell")
            cell.metadata.pop("nbgrader")
            gid = None
        if gid:
            seen.add(gid)
            cell = _from_reference(ref_cell, ref, cell)
        else:
            cell.metadata = {k: v for k, v in cell.metadata.items() if k not in ("tags", "nbgrader")}
        cells.append(cell)
    # Put back locked and answer cells the learner deleted, after the cell that precedes them in the release.
    for i, ref_cell in enumerate(ref.release.cells):
        gid = ref_cell.metadata.get("nbgrader", {}).get("grade_id")
        if not gid or gid in seen:
            continue
        notes.append(f"deleted cell {gid!r} put back")
        position = 0
        for before in reversed(ref.release.cells[:i]):
            bid = before.metadata.get("nbgrader", {}).get("grade_id")
            matches = [k for k, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == bid] if bid else []
            if matches:
                position = matches[0] + 1
                break
        cells.insert(position, _from_reference(ref_cell, ref, None))
        seen.add(gid)
    budget = _Budget.of(ref)
    if budget is not None:
        cells = pin_hand_in_block(cells, budget)
    notebook = nbformat.v4.new_notebook(metadata=copy.deepcopy(ref.release.metadata))
    used: set[str] = set()
    for k, cell in enumerate(cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cid = gid or cell.get("id") or f"cell-{k}"
        while cid in used:
            cid = f"{cid}-{k}"
        used.add(cid)
        cell["id"] = cid
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.pop("attachments", None) if cell.cell_type == "code" else None
    notebook.cells = cells
    return notebook, notes


def _from_reference(ref_cell: nbformat.NotebookNode, ref: Reference, cell: nbformat.NotebookNode | None) -> nbformat.NotebookNode:
    out = copy.deepcopy(ref_cell)
    gid = ref_cell.metadata["nbgrader"]["grade_id"]
    if gid in ref.locked_sources:
        out.source = ref.locked_sources[gid]
    elif cell is not None:
        out.source = cell.source
    return out


# ---- 2. static scan for tampering ---------------------------------------------------------------

TAMPER_ATTRS = {
    "input_transformers_cleanup", "input_transformers_post", "input_transformer_manager", "ast_transformers",
    "events", "set_custom_exc", "set_hook", "register_magic_function", "run_cell", "run_ast_nodes", "user_ns",
    "settrace", "setprofile", "addaudithook", "_getframe", "f_back", "f_globals", "f_locals", "f_builtins",
    "tb_frame", "gi_frame", "cr_frame", "__builtins__", "__subclasses__", "__globals__", "__code__",
    "__closure__", "__dict__", "__getattribute__", "__setattr__", "co_code", "displayhook", "excepthook",
    "meta_path", "path_hooks", "_ip", "history_manager",
}  # not "modules": nn.Module.modules() is everyday PyTorch, and sys.modules needs `import sys` (flagged)
# Process control (subprocess, os.fork, os._exit, signals, sockets) is not listed: the sandbox
# contains it. These reach into the interpreter that runs the tests.
TAMPER_MODULES = {
    "builtins", "ctypes", "gc", "importlib", "IPython", "pickle", "marshal", "types", "code", "codeop",
    "inspect", "sys", "dill", "cloudpickle",
}
# setattr / delattr only count on a module (setattr(torch, ...)); on a model they are model surgery.
MODULE_SETTERS = {"setattr", "delattr"}
TAMPER_CALLS = {"exec", "eval", "compile", "__import__", "globals", "locals", "vars",
                "breakpoint", "get_ipython", "In", "Out", "_ih", "_oh", "_i", "_ii", "_iii"}
MAX_BUDGET_CELL_CHARS = 20_000  # in a unit with a hand-in budget, a longer learner cell needs review
MODULE_NAMES = {"np", "numpy", "torch", "F", "nn", "segkit", "metrics", "math", "plt", "matplotlib", "builtins"}


def tamper_findings(notebook: nbformat.NotebookNode, ref: Reference) -> list[str]:
    """Reasons to review the learner's code by hand: uses of the tools that can change how test
    cells run or what they compare with. Only cells that differ from the released notebook are read."""
    from IPython.core.inputtransformer2 import TransformerManager

    released = {c.source.strip() for c in ref.release.cells if c.cell_type == "code"}
    released |= {s.strip() for s in ref.locked_sources.values()}
    findings: list[str] = []
    budgeted = _Budget.of(ref) is not None
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.source.strip() in released:
            continue
        name = cell.metadata.get("nbgrader", {}).get("grade_id") or cell.get("id")
        if budgeted and len(cell.source) > MAX_BUDGET_CELL_CHARS:
            # weights trained elsewhere can ride in as text (base64): a hand-in under a budget has no use for it
            findings.append(f"cell {name}: {len(cell.source) // 1000} kB of source (data or weights pasted into the notebook?)")
        try:
            tree = ast.parse(TransformerManager().transform_cell(cell.source))
        except (SyntaxError, ValueError):
            continue  # it fails when it runs, like any syntax error
        imported = set(MODULE_NAMES)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                imported |= {a.asname or a.name.split(".")[0] for a in node.names}
                bad = [m for m in mods if m.split(".")[0] in TAMPER_MODULES]
                if bad:
                    findings.append(f"cell {name}: imports {bad[0]}")
                if isinstance(node, ast.ImportFrom) and any(a.name in TAMPER_ATTRS for a in node.names):
                    findings.append(f"cell {name}: imports {node.module}.{next(a.name for a in node.names if a.name in TAMPER_ATTRS)}")
            elif isinstance(node, ast.Attribute) and node.attr in TAMPER_ATTRS:
                findings.append(f"cell {name}: uses .{node.attr}")
            elif isinstance(node, ast.Name) and (node.id in TAMPER_CALLS or node.id == "__builtins__"):
                findings.append(f"cell {name}: uses {node.id}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MODULE_SETTERS:
                base = node.args[0] if node.args else None
                while isinstance(base, ast.Attribute):
                    base = base.value
                if not isinstance(base, ast.Name) or base.id in imported:
                    findings.append(f"cell {name}: uses {node.func.id} on {ast.unparse(node.args[0]) if node.args else '?'}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" and (
                    len(node.args) < 2 or not isinstance(node.args[1], ast.Constant)):
                findings.append(f"cell {name}: getattr with a computed name")
        for node in ast.walk(tree):  # assignments to attributes of modules: patching what tests use
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else node.targets if isinstance(node, ast.Delete) else []
            for target in targets:
                base = target
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(target, ast.Attribute) and isinstance(base, ast.Name) and base.id in imported:
                    dotted = ast.unparse(target)
                    if not dotted.startswith("torch.backends."):
                        findings.append(f"cell {name}: assigns {dotted}")
    return list(dict.fromkeys(findings))


# ---- 3. execution -------------------------------------------------------------------------------


def cell_timeout(cell: nbformat.NotebookNode, ref: Reference, limits: Limits) -> int:
    """From the released notebook's tags (never the learner's), capped by the instructor's limit."""
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    tags: list[str] = []
    for ref_cell in ref.release.cells:
        if (gid and ref_cell.metadata.get("nbgrader", {}).get("grade_id") == gid) or (not gid and ref_cell.get("id") == cell.get("id") and ref_cell.source == cell.source):
            tags = ref_cell.metadata.get("tags", [])
            break
    return min(timeout_from_tags(tags) or DEFAULT_CELL_TIMEOUT, limits.cell_timeout)


@dataclass
class _Budget:
    """The hand-in budget of a unit (a released test cell tagged ``budget-NNN``), and its spending.

    Every cell up to and including the hand-in spends budget, test cells too (they run learner
    functions). The hand-in's *block* is the graded cells that follow it in the release, up to the
    next answer cell (the capstone's tiers); :func:`assemble` keeps them right after the hand-in,
    in the release's order, whatever order the submission has.
    """

    hand_in: str  # grade id of the hand-in cell
    seconds: int
    block: tuple[str, ...]  # grade ids of the graded cells scored from the hand-in's result
    spent: float = 0.0
    state: str = "before"  # "before" the hand-in has run, "block" (its graded cells), "after"
    failure: str = ""  # why the block scores 0 (over budget, the kernel died during the hand-in)

    @classmethod
    def of(cls, ref: "Reference") -> "_Budget | None":
        cells = [c for c in ref.release.cells if c.cell_type == "code"]
        for k, cell in enumerate(cells):
            seconds = budget_from_tags(cell.metadata.get("tags", []))
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if seconds is None or gid not in ref.points:
                continue
            block = []
            for after in cells[k + 1:]:
                meta = after.metadata.get("nbgrader", {})
                if meta.get("solution"):
                    break
                if meta.get("grade"):
                    block.append(meta["grade_id"])
            return cls(gid, seconds, tuple(block))
        return None

    def over(self) -> bool:
        return self.spent > self.seconds

    def message(self) -> str:
        return (f"the notebook used {self.spent:.1f} CPU seconds up to the end of the hand-in ({self.hand_in}); "
                f"the budget is {self.seconds} s")


def pin_hand_in_block(cells: list, budget: _Budget) -> list:
    """``cells`` with the hand-in's block moved right after the hand-in, in the release's order,
    so no learner cell runs between the hand-in and its scores."""
    def gid(cell):
        return cell.metadata.get("nbgrader", {}).get("grade_id")

    block = {gid(c): c for c in cells if gid(c) in budget.block}
    rest = [c for c in cells if gid(c) not in budget.block]
    at = next((k for k, c in enumerate(rest) if gid(c) == budget.hand_in), None)
    if at is None:
        return cells
    return rest[: at + 1] + [block[g] for g in budget.block if g in block] + rest[at + 1:]


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, every thread, reaped children included) used so far by process
    ``pid`` and all its live descendants; None where there is no ``/proc``."""
    from segkit.course.sandbox import processes

    table = processes()
    if table is None or pid not in table:
        return None
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        total += table[current].cpu_seconds
        stack.extend(children.get(current, []))
    return total


def _timed_run(kernel, cell, index: int, timeout: int, budget: "_Budget | None") -> None:
    """``kernel.run``; up to the end of the hand-in, the CPU time it took (the kernel's whole process tree,
    all threads; wall time where /proc is missing) is added to the budget."""
    counting = budget is not None and budget.state == "before"
    pid = kernel.pid
    cpu, wall = (tree_cpu_seconds(pid) if counting and pid else None), time.monotonic()
    try:
        kernel.run(cell, index, timeout)
    finally:
        if counting:
            after = tree_cpu_seconds(pid) if cpu is not None else None
            budget.spent += (after - cpu) if after is not None else (time.monotonic() - wall)


def kernel_env(course_pythonpath: str, home: str = "/tmp/home") -> dict[str, str]:
    """The kernels' whole environment, set by the grader (nothing inherited from whoever runs it)."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "PYTHONPATH": course_pythonpath,
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "IPYTHONDIR": f"{home}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter-runtime",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        **{name: str(path) for name, path in data_paths().items()},  # mounted read-only
        **QUIET_KERNEL_ENV,
    }


def _tripwire(source: str) -> tuple[str, str]:
    """The test cell's source with a check at its end that must fail with ``nonce``: if the cell
    ends without that failure, something in the kernel rewrote or skipped it."""
    nonce = secrets.token_hex(8)
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return source, ""
    if body and isinstance(body[-1], ast.Expr):
        return source, ""  # a last expression may give partial credit: leave it last
    return f"{source.rstrip()}\nassert False, {nonce!r}\n", nonce


class _Kernel:
    """One confined IPython kernel and its nbclient, started in ``workdir``."""

    def __init__(self, notebook, workdir: Path, limits: Limits, mode: Mode, uid: int, pythonpath: str, home_seed: Path | None):
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager
        from nbclient import NotebookClient

        control = Path(tempfile.mkdtemp(prefix=".k", dir=workdir))
        spec_dir = Path(tempfile.mkdtemp(prefix="segkit-spec-")) / "segkit-sandbox"
        spec_dir.mkdir()
        self._spec_root = spec_dir.parent
        root = Path(tempfile.mkdtemp(prefix="segkit-root-"))
        home = "/tmp/home"  # the sandbox's private /tmp
        if not mode.confined:  # no private /tmp: a home of its own beside the sockets
            home = str(control / "home")
            shutil.copytree(home_seed, home) if home_seed else Path(home).mkdir()
        argv = confine(
            [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--IPKernelApp.log_level=ERROR"],
            workdir=workdir, root=root, env=kernel_env(pythonpath, home), limits=limits, uid=uid, mode=mode,
            home_seed=home_seed, quiet=True)
        (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "segkit sandbox", "language": "python", "interrupt_mode": "message"}))
        ksm = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)], ensure_native_kernel=False)
        self.km = AsyncKernelManager(kernel_name="segkit-sandbox", kernel_spec_manager=ksm, transport="ipc", ip=str(control / "s"))
        self.km.connection_file = str(control / "kernel.json")
        self.client = NotebookClient(notebook, km=self.km, timeout=DEFAULT_CELL_TIMEOUT, allow_errors=True,
                                     interrupt_on_timeout=False, kernel_name="segkit-sandbox", record_timing=False,
                                     shutdown_kernel="immediate", startup_timeout=180)
        self._root = root
        try:
            self.client.start_new_kernel(cwd=str(workdir))
            self.client.start_new_kernel_client()
        except BaseException:
            self.close()
            raise

    @property
    def pid(self) -> int | None:
        """The process the sandbox (or the bare kernel) runs as, seen from this side."""
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        return getattr(proc, "pid", None)

    def run(self, cell, index: int, timeout: int):
        self.client.timeout = timeout
        return self.client.execute_cell(cell, index)

    def kill(self) -> None:
        """SIGKILL ``unshare``: the sandbox's process 1 gets SIGKILL with it, and then every
        process of its pid namespace."""
        try:
            proc = getattr(self.km.provisioner, "process", None)
            if proc is not None and proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
        except (OSError, AttributeError):
            pass

    def close(self) -> None:
        self.kill()
        try:
            proc = getattr(self.km.provisioner, "process", None)
            if proc is not None:
                proc.wait(timeout=30)
            if self.client.kc is not None:
                self.client.kc.stop_channels()
            self.km.context.destroy(linger=0)
        except Exception:  # noqa: BLE001 - cleanup of a dead kernel
            pass
        shutil.rmtree(self._spec_root, ignore_errors=True)
        try:
            self._root.rmdir()
        except OSError:
            pass


def execute(notebook: nbformat.NotebookNode, ref: Reference, unit_dir: Path, limits: Limits, mode: Mode,
            pythonpath: str, home_seed: Path | None = None, uid: int | None = None) -> tuple[nbformat.NotebookNode, dict[str, str], list[str]]:
    """Run ``notebook`` confined, cell by cell. Returns it executed (tripwires removed), the
    tripwire nonce of each test cell, and events (timeouts, kernel deaths)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    # one uid per grading process; SEGKIT_SANDBOX_UID_BASE moves the range (tests tell runs apart)
    uid = uid or int(os.environ.get("SEGKIT_SANDBOX_UID_BASE", "100000")) + os.getpid() % 100000
    events: list[str] = []
    nonces: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="sgk-") as tmp:
        workdir = Path(tmp) / "unit"
        shutil.copytree(unit_dir, workdir, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        nbformat.write(notebook, str(workdir / f"{ref.unit}.ipynb"))
        run = copy.deepcopy(notebook)
        for cell in run.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in ref.points and cell.cell_type == "code":
                cell.source, nonces[gid] = _tripwire(cell.source)
        deadline = time.monotonic() + limits.wall_seconds
        kernel: _Kernel | None = None
        timer: threading.Timer | None = None
        done_ok: list[int] = []  # non-test cells that ran without killing the kernel, replayed after a restart
        deaths = 0
        index = 0
        budget = _Budget.of(ref)
        try:
            while index < len(run.cells):
                cell = run.cells[index]
                if cell.cell_type != "code":
                    index += 1
                    continue
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if budget is not None and budget.state == "block" and gid not in budget.block:
                    budget.state = "after"
                if budget is not None and budget.failure and gid in budget.block:
                    _fail(cell, "BudgetExceeded" if budget.over() else "NotRun", f"not run: {budget.failure}")
                    index += 1
                    continue
                if budget is not None and gid == budget.hand_in and budget.state == "before" and budget.over():
                    budget.state, budget.failure = "block", budget.message()
                    events.append(f"budget: {budget.message()}")
                    _fail(cell, "BudgetExceeded", f"not run: {budget.failure}")
                    index += 1
                    continue
                if time.monotonic() > deadline:
                    _fail(cell, "WallClockLimit", f"not run: the submission used its {limits.wall_seconds} s")
                    index += 1
                    continue
                if kernel is None:
                    kernel = _Kernel(run, workdir, limits, mode, uid, pythonpath, home_seed)
                    timer = threading.Timer(max(1.0, deadline - time.monotonic()), kernel.kill)
                    timer.daemon = True
                    timer.start()
                    for k in done_ok:  # a fresh kernel after a death: rebuild the learner's state
                        replay = copy.deepcopy(run.cells[k])
                        try:
                            _timed_run(kernel, replay, k, cell_timeout(replay, ref, limits), budget)
                        except (CellTimeoutError, DeadKernelError):
                            break
                timeout = cell_timeout(cell, ref, limits)
                try:
                    _timed_run(kernel, cell, index, timeout, budget)
                    if cell.metadata.get("nbgrader", {}).get("grade_id") not in ref.points:
                        done_ok.append(index)
                    if budget is not None and gid == budget.hand_in and budget.state == "before":
                        budget.state = "block"
                        events.append(f"budget: {budget.message()}" if budget.over() else
                                      f"budget: the notebook used {budget.spent:.1f} of {budget.seconds} CPU seconds "
                                      "up to the end of the hand-in")
                        if budget.over():
                            budget.failure = budget.message()
                            _fail(cell, "BudgetExceeded", budget.failure)
                except (CellTimeoutError, DeadKernelError, RuntimeError) as err:
                    timed_out = isinstance(err, CellTimeoutError)
                    over = time.monotonic() > deadline
                    reason = (f"the submission used its {limits.wall_seconds} s" if over else
                              f"timed out after {timeout} s" if timed_out else
                              "the kernel died (os._exit, a crash or too much memory)")
                    _fail(cell, "CellTimeoutError" if timed_out else "DeadKernelError", reason)
                    events.append(f"cell {cell.get('id')}: {reason}")
                    if budget is not None and (gid == budget.hand_in or budget.state == "block") and not budget.failure:
                        # a fresh kernel would replay the learner's cells, results they forged included
                        budget.state, budget.failure = "block", f"the hand-in ({budget.hand_in}) did not finish: {reason}"
                    deaths += 1
                    timer.cancel()
                    kernel.close()
                    kernel = None
                    if deaths > MAX_KERNEL_DEATHS:
                        for rest in run.cells[index + 1:]:
                            if rest.cell_type == "code":
                                _fail(rest, "DeadKernelError", f"not run: the kernel died {deaths} times")
                        break
                index += 1
        finally:
            if timer is not None:
                timer.cancel()
            if kernel is not None:
                kernel.close()
    for cell, original in zip(run.cells, notebook.cells):
        cell.source = original.source
    return run, nonces, events


def _fail(cell, ename: str, message: str) -> None:
    cell.outputs = list(cell.get("outputs", [])) + [nbformat.v4.new_output("error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"])]


# ---- 4. scoring (outside the sandbox) -----------------------------------------------------------


def score(executed: nbformat.NotebookNode, ref: Reference, nonces: dict[str, str]) -> tuple[list[CellScore], list[str]]:
    """Points per graded cell by nbgrader's rules, and tripwire findings. Strips the tripwire
    error from each test cell's outputs."""
    from nbgrader.utils import determine_grade

    scores, review = [], []
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in executed.cells}
    for gid in ref.grade_ids():
        cell = cells[gid]
        nonce = nonces.get(gid)
        message = ""
        if nonce:
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if errors and errors[-1].ename == "AssertionError" and errors[-1].evalue == nonce:
                cell.outputs = [o for o in cell.outputs if o is not errors[-1]]
            elif not errors:
                review.append(f"{gid}: the test cell did not run as released (its tripwire never fired)")
        cell.metadata["nbgrader"]["points"] = ref.points[gid]
        points, max_points = determine_grade(cell)
        points = float(points or 0.0)
        if points < max_points:
            message = next((_error_line(o) for o in cell.outputs if o.output_type == "error"),
                           "no points (stderr output or a failed check)")
        scores.append(CellScore(gid, points, float(max_points), message.splitlines()[0] if message else ""))
    return scores, review


def redact_hidden(executed: nbformat.NotebookNode, ref: Reference) -> int:
    """Remove outputs of learner cells that quote hidden tests (e.g. printing ``In[-2]``), which
    would otherwise reach the feedback. Returns the number of outputs removed."""
    from segkit.course.nbgrader_settings import HIDDEN_BLOCK

    lines = [line.split("  #")[0].strip() for src in ref.locked_sources.values()
             for block in HIDDEN_BLOCK.findall(src) for line in block.splitlines() if "HIDDEN TESTS" not in line]
    secret = {line for line in lines if len(line) >= 12}
    removed = 0
    for cell in executed.cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade_id") in ref.locked_sources:
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


def _error_line(output) -> str:
    evalue = output.evalue.strip() or ("not done yet" if output.ename == "NotImplementedError" else "")
    return f"{output.ename}: {evalue}" if evalue else output.ename


def grade_one(student: str, notebook_path: Path, ref: Reference, unit_dir: Path, limits: Limits, mode: Mode,
              pythonpath: str, home_seed: Path | None = None) -> Outcome:
    """Grade one submission: assemble, scan, execute confined, score. Never raises for the
    submission's sake: a submission that cannot be graded comes back ``rejected`` with the reason."""
    start = time.perf_counter()
    outcome = Outcome(student=student, sandbox=mode.name)
    try:
        submission = read_submission(notebook_path)
        notebook, outcome.notes = assemble(submission, ref)
        outcome.review = tamper_findings(notebook, ref)
        executed, nonces, events = execute(notebook, ref, unit_dir, limits, mode, pythonpath, home_seed)
        outcome.notes += events
        outcome.scores, tripped = score(executed, ref, nonces)
        outcome.review += tripped
        if redact_hidden(executed, ref):
            outcome.review.append("an output quoted hidden tests (removed from the feedback)")
        outcome.executed = json.loads(nbformat.writes(executed))
    except CourseError as err:
        outcome.rejected = str(err)
    except Exception as err:  # noqa: BLE001 - one submission must never stop a class run
        outcome.rejected = f"grading failed: {type(err).__name__}: {err}"
    if not outcome.scores:
        outcome.scores = [CellScore(g, 0.0, ref.points[g], outcome.rejected) for g in ref.grade_ids()]
    outcome.seconds = time.perf_counter() - start
    return outcome


# ---- 5. recording (outside the sandbox) ---------------------------------------------------------


def record(course: Course, unit: str, outcome: Outcome, *, feedback: bool = True) -> Path | None:
    """Write the autograded notebook, the gradebook rows and the feedback HTML for ``outcome``.
    A withheld score is recorded as 0 with "needs manual grade" (formgrader lists it)."""
    from nbgrader.api import Gradebook, MissingEntry

    student = outcome.student
    autograded = course.root / "autograded" / student / unit
    if autograded.exists():
        shutil.rmtree(autograded)
    autograded.mkdir(parents=True)
    executed = nbformat.from_dict(outcome.executed) if outcome.executed else None
    if executed is not None:
        nbformat.write(executed, str(autograded / f"{unit}.ipynb"))
    (autograded / "timestamp.txt").write_text(time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC", time.gmtime()))
    report = {"student": student, "points": outcome.points, "recorded": outcome.recorded_points,
              "max_points": outcome.max_points, "review": outcome.review, "rejected": outcome.rejected,
              "notes": outcome.notes, "sandbox": outcome.sandbox, "scores": [asdict(s) for s in outcome.scores]}
    (autograded.parent / f"{unit}.grading.json").write_text(json.dumps(report, indent=1))  # not copied into feedback
    withheld = bool(outcome.review or outcome.rejected)
    with _quiet(), Gradebook(_db_url(course)) as gb:
        gb.update_or_create_student(student)
        try:
            gb.remove_submission(unit, student)
        except MissingEntry:
            pass
        gb.add_submission(unit, student)
        for s in outcome.scores:
            grade = gb.find_grade(s.grade_id, unit, unit, student)
            grade.auto_score = 0.0 if withheld else s.points
            grade.needs_manual_grade = bool(outcome.review)
        gb.db.commit()
    if not feedback or executed is None:
        return None
    from segkit.course.release import nbgrader_api

    with _quiet():
        nbgrader_api(course.root).generate_feedback(unit, student, force=True)
    html = course.root / "feedback" / student / unit / f"{unit}.html"
    return html if html.is_file() else None


def _db_url(course: Course) -> str:
    return f"sqlite:///{course.root / 'gradebook.db'}"


class _quiet(warnings.catch_warnings):
    def __enter__(self):
        super().__enter__()
        warnings.simplefilter("ignore")
        return self


# ---- 6. a class -------------------------------------------------------------------------------


STUDENT = re.compile(r"[^A-Za-z0-9_.-]+")


def student_name(text: str) -> str:
    return STUDENT.sub("-", text).strip("-.")[:64] or "student"


def collect(course: Course, unit: str, *, submitted: Path | None = None, zips: list[Path] = (), folder: Path | None = None,
            staging: Path) -> dict[str, Path]:
    """``{student: notebook}`` from nbgrader's ``submitted/STUDENT/UNIT/UNIT.ipynb``, zips, or a folder
    of notebooks (student = file name without ``.ipynb``). Zips are unpacked into ``staging``."""
    import zipfile

    found: dict[str, Path] = {}
    if zips:
        for z in zips:
            student = student_name(Path(z).stem.split("_")[0] if "_" in Path(z).stem else Path(z).stem)
            target = staging / student
            with zipfile.ZipFile(z) as archive:
                names = [n for n in archive.namelist() if n.endswith(".ipynb") and "/." not in f"/{n}" and not n.startswith("__MACOSX")]
                pick = [n for n in names if Path(n).name == f"{unit}.ipynb"] or names
                if not pick:
                    raise CourseError(f"{z}: no notebook inside")
                target.mkdir(parents=True, exist_ok=True)
                info = archive.getinfo(pick[0])
                if info.file_size > 64 * 2**20:
                    raise CourseError(f"{z}: {pick[0]} is larger than 64 MB")
                (target / f"{unit}.ipynb").write_bytes(archive.read(info))
            found[student] = target / f"{unit}.ipynb"
    elif folder is not None:
        for path in sorted(Path(folder).glob("*.ipynb")):
            found[student_name(path.stem)] = path
    else:
        root = Path(submitted or course.root / "submitted")
        for path in sorted(root.glob(f"*/{unit}/{unit}.ipynb")):
            found[path.parent.parent.name] = path
    if not found:
        raise CourseError("no submissions found")
    return found


def _worker(args):
    return grade_one(*args)


def matplotlib_seed(directory: Path) -> Path:
    """A matplotlib font cache built once by the parent and copied into each sandbox's $HOME."""
    import subprocess

    seed = directory / "home"
    (seed / ".matplotlib").mkdir(parents=True, exist_ok=True)
    env = {"MPLCONFIGDIR": str(seed / ".matplotlib"), "PATH": os.environ.get("PATH", ""), "HOME": str(seed)}
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, capture_output=True, timeout=300)
    return seed


def grade_class(course: Course, unit: str, notebooks: dict[str, Path], *, jobs: int | None = None,
                limits: Limits = Limits(), mode: Mode | None = None, feedback: bool = True,
                progress: bool = True, ref: Reference | None = None) -> list[Outcome]:
    """Grade every notebook in its own sandbox, ``jobs`` at a time, and record the results."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    unit = course.require_unit(unit)
    mode = mode or detect()
    ref = ref or Reference.load(course, unit)
    jobs = max(1, jobs or os.cpu_count() or 1)
    import segkit

    pythonpath = str(Path(segkit.__file__).resolve().parent.parent)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="segkit-grade-") as tmp:
        seed = matplotlib_seed(Path(tmp))
        args = [(s, p, ref, course.release_dir / unit, limits, mode, pythonpath, seed) for s, p in notebooks.items()]
        bar = tqdm(total=len(args), desc=f"grading {unit}", unit="nb", disable=not progress)
        if jobs == 1:
            for a in args:
                outcomes.append(grade_one(*a))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = {pool.submit(_worker, a): a[0] for a in args}
                for future in as_completed(futures):
                    try:
                        outcomes.append(future.result())
                    except Exception as err:  # noqa: BLE001 - a worker crash costs that submission only
                        outcomes.append(Outcome(futures[future], rejected=f"grading failed: {err}",
                                                scores=[CellScore(g, 0.0, ref.points[g]) for g in ref.grade_ids()]))
                    bar.update()
        bar.close()
    outcomes.sort(key=lambda o: o.student)
    for outcome in outcomes:
        record(course, unit, outcome, feedback=feedback)
    return outcomes


def summary(unit: str, outcomes: list[Outcome], mode: Mode) -> str:
    width = max([len("student"), *(len(o.student) for o in outcomes)])
    lines = [f"{unit}: {len(outcomes)} submission(s), sandbox: {mode.name}" + (f" ({mode.reason})" if mode.reason else ""),
             f"{'student':<{width}}  {'points':>9}  {'time':>6}  status", "-" * (width + 40)]
    for o in outcomes:
        status = ("rejected: " + o.rejected) if o.rejected else ("NEEDS REVIEW: " + "; ".join(o.review)) if o.review else "ok"
        shown = f"{o.recorded_points:g} / {o.max_points:g}"
        if o.review and not o.rejected:
            status += f" (would be {o.points:g})"
        if o.notes:
            status += " · " + "; ".join(o.notes)
        lines.append(f"{o.student:<{width}}  {shown:>9}  {o.seconds:5.1f}s  {status[:300]}")
    return "\n".join(lines)
