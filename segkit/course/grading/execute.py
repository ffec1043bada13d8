"""Executing an assembled notebook from outside, cell by cell, in a confined kernel.

nbclient (here, in the trusted parent) talks over Unix sockets to an IPython kernel confined by
:mod:`segkit.course.sandbox` in a throwaway folder holding only the released unit. Per-cell
timeouts come from the released notebook, capped by the instructor's limit. A timeout or a kernel
death costs that cell only: the kernel is killed and a fresh one replays the learner's earlier
non-test cells and continues with the next cell (up to :data:`MAX_KERNEL_DEATHS` restarts). Every
test cell ends with a *tripwire*: a failing check with a random nonce that must fail exactly there.
"""
from __future__ import annotations

import ast
import copy
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from segkit.course import cells
from segkit.course.grading.budget import HAND_IN_FILE, Budget
from segkit.course.grading.environment import kernel_env
from segkit.course.grading.reference import Reference
from segkit.course.nbgrader_settings import HIDDEN_BLOCK
from segkit.course.grading import guard
from segkit.course.sandbox import CpuMeter, Limits, Mode, confine, tree_cpu_seconds

MAX_KERNEL_DEATHS = 3
SCORER_UID_OFFSET = 200_000  # the scorer runs as another uid than the learner's sandbox


def cell_timeout(cell: nbformat.NotebookNode, ref: Reference, limits: Limits) -> int:
    """From the released notebook's cell (never the learner's), capped by the instructor's limit.

    The released cell is found by grade id, else by cell id (a learner who edits a training cell
    keeps its timeout), else by identical source (a copy that lost its ids)."""
    gid, cid = cells.grade_id(cell), cell.get("id")
    released = next((c for c in ref.release.cells if gid and cells.grade_id(c) == gid), None) if gid else None
    if released is None and not gid:
        released = next((c for c in ref.release.cells if cid and c.get("id") == cid and not cells.grade_id(c)), None) \
            or next((c for c in ref.release.cells if c.source == cell.source), None)
    return min(cells.timeout(released) if released is not None else cells.DEFAULT_CELL_TIMEOUT, limits.cell_timeout)


def tripwire(source: str) -> tuple[str, str]:
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


# A kernel starts with neither its start folder nor its working folder on sys.path (a module or an
# IPython config planted in the writable folder is never imported at the next start).
KERNEL_BOOTSTRAP = ("import runpy, sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
                    "runpy.run_module('ipykernel_launcher', run_name='__main__', alter_sys=True)")
MAX_MESSAGE_BYTES = 16 * 2**20  # one output message; larger ones are dropped by zmq before parsing


@dataclass(frozen=True)
class OutputCaps:
    """Output kept per cell and per submission; the rest is dropped with a visible note."""

    cell_bytes: int = 4 * 2**20
    submission_bytes: int = 32 * 2**20


def _capped_client(caps: OutputCaps):
    """An nbclient NotebookClient that keeps at most ``caps`` of output (module-level class on first use)."""
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        kept_total = 0

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}), default=str))
            kept = self.kept_cell.get(cell_index, 0)
            if kept + size > caps.cell_bytes or self.kept_total + size > caps.submission_bytes:
                if cell_index not in self.truncated:
                    self.truncated.add(cell_index)
                    outs.append(nbformat.v4.new_output("stream", name="stdout", text=(
                        f"[output truncated by the grader: a cell keeps at most {caps.cell_bytes // 2**20} MB "
                        f"and a notebook {caps.submission_bytes // 2**20} MB of output]\n")))
                return None
            self.kept_cell[cell_index] = kept + size
            self.kept_total += size
            return super().output(outs, msg, display_id, cell_index)

    return CappedClient


class Kernel:
    """One confined IPython kernel and its nbclient.

    The kernel starts outside its writable working folder (in the sandbox's read-only root), with
    neither folder on ``sys.path`` and IPython told to ignore the current folder, then moves to
    ``workdir``. With ``guard`` (grading), :mod:`segkit.course.grading.guard` boots first and test
    cells are sent sealed (:meth:`run_test`). ``meter`` (a :class:`segkit.course.sandbox.CpuMeter`)
    puts the kernel and everything it starts into the submission's cgroup.
    """

    def __init__(self, notebook, workdir: Path, limits: Limits, mode: Mode, uid: int, pythonpath: str,
                 home_seed: Path | None, *, meter: CpuMeter | None = None, guard_tag: str | None = None,
                 caps: OutputCaps = OutputCaps()):
        import zmq
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager

        control = Path(tempfile.mkdtemp(prefix=".k", dir=workdir))
        spec_dir = Path(tempfile.mkdtemp(prefix="segkit-spec-")) / "segkit-sandbox"
        spec_dir.mkdir()
        self._spec_root = spec_dir.parent
        root = Path(tempfile.mkdtemp(prefix="segkit-root-"))
        home = "/tmp/home"  # the sandbox's private /tmp
        start_dir: Path | str = "/"  # the sandbox's root: read-only for the kernel's uid
        if not mode.confined:  # no private /tmp: a home of its own beside the sockets
            home = str(control / "home")
            shutil.copytree(home_seed, home) if home_seed else Path(home).mkdir()
            start_dir = control / "start"
            start_dir.mkdir()
        argv = confine(
            [sys.executable, "-c", KERNEL_BOOTSTRAP, "-f", "{connection_file}", "--IPKernelApp.log_level=ERROR",
             "--IPKernelApp.ignore_cwd=True"],
            workdir=workdir, root=root, env=kernel_env(pythonpath, home), limits=limits, uid=uid, mode=mode,
            home_seed=home_seed, quiet=True, start_dir=start_dir)
        if meter is not None:
            argv = meter.wrap(argv)
        (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "segkit sandbox", "language": "python", "interrupt_mode": "message"}))
        ksm = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)], ensure_native_kernel=False)
        self.km = AsyncKernelManager(kernel_name="segkit-sandbox", kernel_spec_manager=ksm, transport="ipc", ip=str(control / "s"))
        self.km.connection_file = str(control / "kernel.json")
        self.km.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self.client = _capped_client(caps)(
            notebook, km=self.km, timeout=cells.DEFAULT_CELL_TIMEOUT, allow_errors=True, interrupt_on_timeout=False,
            kernel_name="segkit-sandbox", record_timing=False, shutdown_kernel="immediate", startup_timeout=180)
        self.client.truncated, self.client.kept_cell = set(), {}
        self._root = root
        self.runner, self.key = None, None
        try:
            self.client.start_new_kernel(cwd=str(workdir))
            self.client.start_new_kernel_client()
            self._boot(workdir, guard_tag)
        except BaseException:
            self.close()
            raise

    def _boot(self, workdir: Path, guard_tag: str | None) -> None:
        """Before any learner code: move to ``workdir``; with a guard tag, boot the guard."""
        if guard_tag is None:
            source = f"import os as _os\n_os.chdir({str(workdir)!r})\ndel _os"
        else:
            self.runner = guard.new_runner_name()
            source = guard.boot_source(self.runner, str(workdir), guard_tag)
        boot = nbformat.v4.new_code_cell(source)
        self.client.execute_cell(boot, 0, store_history=False)
        errors = [o for o in boot.outputs if o.output_type == "error"]
        if errors:
            raise RuntimeError(f"the kernel's start-up failed: {errors[0].ename}: {errors[0].evalue}")
        if guard_tag is not None:
            self.key = guard.read_key(boot.outputs)

    @property
    def pid(self) -> int | None:
        """The process the sandbox (or the bare kernel) runs as, seen from this side."""
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        return getattr(proc, "pid", None)

    def run(self, cell, index: int, timeout: int):
        """Execute ``cell`` as the notebook's cell ``index``. nbclient stores the cell it ran at that
        index; the notebook keeps its own cell (a sealed copy or the scorer's cell is not it)."""
        self.client.timeout = timeout
        cells_ = self.client.nb["cells"]
        held = cells_[index] if 0 <= index < len(cells_) else None
        try:
            return self.client.execute_cell(cell, index)
        finally:
            if held is not None:
                cells_[index] = held

    def run_test(self, cell, index: int, timeout: int, name: str):
        """Run test ``cell`` sealed (see :mod:`segkit.course.grading.guard`); the cell keeps its source."""
        if self.runner is None:
            return self.run(cell, index, timeout)
        sent = copy.copy(cell)
        sent["source"] = guard.sealed_call(self.runner, cell.source, self.key, name)
        sent["outputs"] = []
        try:
            return self.run(sent, index, timeout)
        finally:
            cell["outputs"], cell["execution_count"] = sent.get("outputs", []), sent.get("execution_count")

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


def fail(cell, ename: str, message: str) -> None:
    """Record a failure the grader itself decided (timeout, budget, not run) as an error output."""
    cell.outputs = list(cell.get("outputs", [])) + [nbformat.v4.new_output("error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"])]


@dataclass
class Run:
    """One submission's execution: its kernels, replays after a death, the wall-clock deadline and
    the hand-in budget. :meth:`cell` runs one cell and records what happened in the cell itself."""

    notebook: nbformat.NotebookNode  # the cells to run (tripwires added)
    ref: Reference
    workdir: Path
    limits: Limits
    mode: Mode
    pythonpath: str
    home_seed: Path | None
    uid: int
    budget: Budget | None = None
    meter: CpuMeter | None = None  # the submission's cgroup: the budget's clock where there is one
    guard_tag: str | None = None  # seal test cells (segkit.course.grading.guard)
    scorer_source: str | None = None  # the hand-in's hidden tests: run in the scorer, never in the learner's kernel
    nonces: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    scorer: Kernel | None = None
    kernel: Kernel | None = None
    timer: threading.Timer | None = None
    replayable: list[int] = field(default_factory=list)  # non-test cells that ran without killing the kernel
    deaths: int = 0

    def __post_init__(self):
        self.deadline = time.monotonic() + self.limits.wall_seconds

    def run(self) -> None:
        try:
            for index, cell in enumerate(self.notebook.cells):
                if cell.cell_type == "code":
                    if self.deaths > MAX_KERNEL_DEATHS:
                        fail(cell, "DeadKernelError", f"not run: the kernel died {self.deaths} times")
                    else:
                        self.cell(index, cell)
        finally:
            self.stop_kernel()
            self.stop_scorer()

    def cell(self, index: int, cell: nbformat.NotebookNode) -> None:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        gid = cells.grade_id(cell)
        refusal = self.budget.refusal(gid) if self.budget is not None else ""
        if self.scorer is not None and (self.budget is None or gid not in self.budget.block):
            self.stop_scorer()  # the hand-in's block is over
        if refusal:
            if gid == self.budget.hand_in:
                self.events.append(f"budget: {refusal}")
            fail(cell, "BudgetExceeded" if self.budget.over() else "NotRun", f"not run: {refusal}")
            return
        if self.scorer_source is not None and self.budget is not None and gid in self.budget.block:
            self.in_scorer(index, cell)
            return
        if time.monotonic() > self.deadline:
            fail(cell, "WallClockLimit", f"not run: the submission used its {self.limits.wall_seconds} s")
            return
        try:
            self.timed(self.start_kernel(), cell, index, test=gid in self.ref.locked_sources and cells.is_test(cell))
        except (CellTimeoutError, DeadKernelError, RuntimeError) as err:
            timed_out = isinstance(err, CellTimeoutError)
            over = self.budget is not None and self.meter is not None and self.budget.counting \
                and self.meter.seconds() > self.budget.seconds
            reason = (f"the submission used its {self.limits.wall_seconds} s" if time.monotonic() > self.deadline else
                      f"stopped: the notebook used its {self.budget.seconds} CPU seconds" if over else
                      f"timed out after {cell_timeout(cell, self.ref, self.limits)} s" if timed_out else
                      "the kernel died (os._exit, a crash or too much memory)")
            fail(cell, "CellTimeoutError" if timed_out else "DeadKernelError", reason)
            self.events.append(f"cell {cell.get('id')}: {reason}")
            if self.budget is not None:
                self.budget.interrupted(gid, reason)  # a fresh kernel would replay forged results
            self.deaths += 1
            self.stop_kernel()
            return
        if gid not in self.ref.points:
            self.replayable.append(index)
        if self.budget is not None and gid == self.budget.hand_in and self.budget.counting:
            self.events.append(self.budget.handed_in())
            if self.budget.failure:
                fail(cell, "BudgetExceeded", self.budget.failure)
            elif self.scorer_source is not None:
                self.score_hand_in(index, cell)

    # ---- the hand-in's scorer: a second confined kernel that runs no learner code ---------------

    def score_hand_in(self, index: int, cell: nbformat.NotebookNode) -> None:
        """The learner's part of the hand-in cell ran (its tripwire fired, nothing else failed):
        copy the hand-in file out of the learner's folder, start the scorer in a folder holding only
        that file, and run the hand-in's hidden tests there (the hidden seed never enters the
        learner's sandbox). Its outputs join the hand-in cell's."""
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        nonce = self.nonces.get(cells.grade_id(cell))
        if not errors or errors[-1].get("evalue") != nonce or len(errors) > 1:
            self.budget.failure = f"the hand-in ({self.budget.hand_in}) failed before anything was handed in"
            return
        handed = self.workdir / HAND_IN_FILE
        if not handed.is_file() or handed.is_symlink():
            self.budget.failure = f"the hand-in cell wrote no {HAND_IN_FILE}"
            fail(cell, "HandInMissing", f"nothing was handed in: {HAND_IN_FILE} is missing (call hand_in(model))")
            return
        scorer_dir = Path(tempfile.mkdtemp(prefix="sgk-scorer-")) / "scorer"
        scorer_dir.mkdir()
        shutil.copyfile(handed, scorer_dir / HAND_IN_FILE, follow_symlinks=False)
        self._scorer_root = scorer_dir.parent
        hidden = nbformat.v4.new_code_cell(self.scorer_source)
        scored = self.run_in_scorer(index, hidden, timeout=cell_timeout(cell, self.ref, self.limits), workdir=scorer_dir)
        cell.outputs = list(cell.outputs) + list(hidden.get("outputs", []))
        if not scored:
            self.budget.failure = f"the hand-in ({self.budget.hand_in}) could not be scored"

    def in_scorer(self, index: int, cell: nbformat.NotebookNode) -> None:
        """A cell of the hand-in's block: scored from the scorer's result, in the scorer."""
        if self.scorer is None:
            fail(cell, "NotRun", "not run: nothing was handed in and scored")
            return
        self.run_in_scorer(index, cell, timeout=cell_timeout(cell, self.ref, self.limits))

    def run_in_scorer(self, index: int, cell, *, timeout: int, workdir: Path | None = None) -> bool:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        try:
            if self.scorer is None:
                self.scorer = Kernel(self.notebook, workdir, self.limits, self.mode, self.uid + SCORER_UID_OFFSET,
                                     self.pythonpath, self.home_seed)
            self.scorer.run(cell, index, timeout)
            return True
        except (CellTimeoutError, DeadKernelError, RuntimeError) as err:
            reason = f"the scorer timed out after {timeout} s" if isinstance(err, CellTimeoutError) else \
                f"the scorer failed ({type(err).__name__})"
            fail(cell, "CellTimeoutError" if isinstance(err, CellTimeoutError) else "DeadKernelError", reason)
            self.events.append(f"cell {cell.get('id')}: {reason}")
            self.stop_scorer()
            return False

    def stop_scorer(self) -> None:
        if self.scorer is not None:
            self.scorer.close()
            self.scorer = None
        root = getattr(self, "_scorer_root", None)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
            self._scorer_root = None

    def start_kernel(self) -> Kernel:
        """The live kernel; a fresh one (after a death) first replays the learner's earlier cells."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if self.kernel is None:
            self.kernel = Kernel(self.notebook, self.workdir, self.limits, self.mode, self.uid, self.pythonpath,
                                 self.home_seed, meter=self.meter, guard_tag=self.guard_tag)
            self.timer = threading.Timer(max(1.0, self.deadline - time.monotonic()), self.kernel.kill)
            self.timer.daemon = True
            self.timer.start()
            for k in self.replayable:
                try:
                    self.timed(self.kernel, copy.deepcopy(self.notebook.cells[k]), k)
                except (CellTimeoutError, DeadKernelError):
                    break
        return self.kernel

    def timed(self, kernel: Kernel, cell, index: int, test: bool = False) -> None:
        """Run one cell; up to the end of the hand-in, the CPU time used is the budget's spending.

        With the submission's cgroup (every process, every kernel start, since its creation) the
        budget is also the kill switch: a watchdog kills the kernel as soon as the budget is spent,
        and the cell's wall-clock limit is only the instructor's cap (a sleeping loop), so a
        busy grading machine does not kill a notebook that stays within its CPU budget. Without a
        cgroup, the CPU time of the kernel's process tree during the cell is added (wall time as
        the last resort) and the released ``timeout-NNN`` tags are the kill switch."""
        counting = self.budget is not None and self.budget.counting
        metered = counting and self.meter is not None
        timeout = self.limits.cell_timeout if metered else cell_timeout(cell, self.ref, self.limits)
        pid = kernel.pid
        cpu = tree_cpu_seconds(pid) if counting and pid and not metered else None
        wall = time.monotonic()
        stop = threading.Event()
        if metered:
            threading.Thread(target=self._watch_budget, args=(kernel, stop), daemon=True).start()
        try:
            if test:
                kernel.run_test(cell, index, timeout, cells.grade_id(cell))
            else:
                kernel.run(cell, index, timeout)
        finally:
            stop.set()
            if metered:
                self.budget.spent = self.meter.seconds()
            elif counting:
                after = tree_cpu_seconds(pid) if cpu is not None else None
                self.budget.spent += (after - cpu) if after is not None else (time.monotonic() - wall)

    def _watch_budget(self, kernel: Kernel, stop: threading.Event) -> None:
        while not stop.wait(0.5):
            if self.meter.seconds() > self.budget.seconds:
                self.events.append(f"budget: the kernel was stopped when the notebook had used its "
                                   f"{self.budget.seconds} CPU seconds")
                kernel.kill()
                return

    def stop_kernel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.kernel is not None:
            self.kernel.close()
            self.kernel = None


def execute(notebook: nbformat.NotebookNode, ref: Reference, unit_dir: Path, limits: Limits, mode: Mode,
            pythonpath: str, home_seed: Path | None = None, uid: int | None = None, *,
            guard_tag: str | None = None) -> tuple[nbformat.NotebookNode, dict[str, str], list[str]]:
    """Run ``notebook`` confined, cell by cell. Returns it executed (tripwires removed), the
    tripwire nonce of each test cell, and events (timeouts, kernel deaths, the budget).

    The working folder holds the released unit's files and nothing else: the notebook being run
    (hidden tests included) stays here, in the parent; test cells reach the kernel only as the
    cells it executes, sealed when ``guard_tag`` is given (see :mod:`segkit.course.grading.guard`).
    """
    # one uid per grading process; SEGKIT_SANDBOX_UID_BASE moves the range (tests tell runs apart)
    uid = uid or int(os.environ.get("SEGKIT_SANDBOX_UID_BASE", "100000")) + os.getpid() % 100000
    nonces: dict[str, str] = {}
    budget = Budget.of(ref)
    meter = CpuMeter.create(f"{os.getpid()}-{secrets.token_hex(4)}")
    with tempfile.TemporaryDirectory(prefix="sgk-") as tmp:
        workdir = Path(tmp) / "unit"
        shutil.copytree(unit_dir, workdir, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        run = copy.deepcopy(notebook)
        scorer_source = None
        for cell in run.cells:
            gid = cells.grade_id(cell)
            if budget is not None and gid == budget.hand_in:
                # the hand-in's hidden tests (the hidden seed) run in the scorer, not in the learner's kernel
                hidden = "".join(HIDDEN_BLOCK.findall(cell.source))
                if hidden.strip():
                    scorer_source = hidden
                    cell.source = HIDDEN_BLOCK.sub("", cell.source)
            if gid in ref.points and cell.cell_type == "code":
                cell.source, nonces[gid] = tripwire(cell.source)
        execution = Run(run, ref, workdir, limits, mode, pythonpath, home_seed, uid, budget=budget,
                        meter=meter, guard_tag=guard_tag, scorer_source=scorer_source, nonces=nonces)
        if budget is not None and meter is None:
            execution.events.append("budget: no cgroup v2 here, so CPU is counted from the kernel's process tree "
                                    "(processes that leave it are missed)")
        try:
            execution.run()
        finally:
            if meter is not None:
                meter.close()
    for cell, original in zip(run.cells, notebook.cells):
        cell.source = original.source
    return run, nonces, execution.events
