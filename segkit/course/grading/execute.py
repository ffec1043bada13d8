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
from segkit.course.grading.budget import Budget
from segkit.course.grading.environment import kernel_env
from segkit.course.grading.reference import Reference
from segkit.course.sandbox import Limits, Mode, confine, tree_cpu_seconds

MAX_KERNEL_DEATHS = 3


def cell_timeout(cell: nbformat.NotebookNode, ref: Reference, limits: Limits) -> int:
    """From the released notebook's cell (never the learner's), capped by the instructor's limit."""
    gid = cells.grade_id(cell)
    released = next((c for c in ref.release.cells
                     if (gid and cells.grade_id(c) == gid) or (not gid and c.get("id") == cell.get("id") and c.source == cell.source)), None)
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


class Kernel:
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
        self.client = NotebookClient(notebook, km=self.km, timeout=cells.DEFAULT_CELL_TIMEOUT, allow_errors=True,
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
    events: list[str] = field(default_factory=list)
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

    def cell(self, index: int, cell: nbformat.NotebookNode) -> None:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        gid = cells.grade_id(cell)
        refusal = self.budget.refusal(gid) if self.budget is not None else ""
        if refusal:
            if gid == self.budget.hand_in:
                self.events.append(f"budget: {refusal}")
            fail(cell, "BudgetExceeded" if self.budget.over() else "NotRun", f"not run: {refusal}")
            return
        if time.monotonic() > self.deadline:
            fail(cell, "WallClockLimit", f"not run: the submission used its {self.limits.wall_seconds} s")
            return
        try:
            self.timed(self.start_kernel(), cell, index)
        except (CellTimeoutError, DeadKernelError, RuntimeError) as err:
            timed_out = isinstance(err, CellTimeoutError)
            reason = (f"the submission used its {self.limits.wall_seconds} s" if time.monotonic() > self.deadline else
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

    def start_kernel(self) -> Kernel:
        """The live kernel; a fresh one (after a death) first replays the learner's earlier cells."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if self.kernel is None:
            self.kernel = Kernel(self.notebook, self.workdir, self.limits, self.mode, self.uid, self.pythonpath, self.home_seed)
            self.timer = threading.Timer(max(1.0, self.deadline - time.monotonic()), self.kernel.kill)
            self.timer.daemon = True
            self.timer.start()
            for k in self.replayable:
                try:
                    self.timed(self.kernel, copy.deepcopy(self.notebook.cells[k]), k)
                except (CellTimeoutError, DeadKernelError):
                    break
        return self.kernel

    def timed(self, kernel: Kernel, cell, index: int) -> None:
        """``kernel.run``; up to the end of the hand-in, the CPU time it took (the kernel's whole
        process tree, all threads; wall time where /proc is missing) is added to the budget."""
        counting = self.budget is not None and self.budget.counting
        pid = kernel.pid
        cpu, wall = (tree_cpu_seconds(pid) if counting and pid else None), time.monotonic()
        try:
            kernel.run(cell, index, cell_timeout(cell, self.ref, self.limits))
        finally:
            if counting:
                after = tree_cpu_seconds(pid) if cpu is not None else None
                self.budget.spent += (after - cpu) if after is not None else (time.monotonic() - wall)

    def stop_kernel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.kernel is not None:
            self.kernel.close()
            self.kernel = None


def execute(notebook: nbformat.NotebookNode, ref: Reference, unit_dir: Path, limits: Limits, mode: Mode,
            pythonpath: str, home_seed: Path | None = None, uid: int | None = None) -> tuple[nbformat.NotebookNode, dict[str, str], list[str]]:
    """Run ``notebook`` confined, cell by cell. Returns it executed (tripwires removed), the
    tripwire nonce of each test cell, and events (timeouts, kernel deaths, the budget)."""
    # one uid per grading process; SEGKIT_SANDBOX_UID_BASE moves the range (tests tell runs apart)
    uid = uid or int(os.environ.get("SEGKIT_SANDBOX_UID_BASE", "100000")) + os.getpid() % 100000
    nonces: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="sgk-") as tmp:
        workdir = Path(tmp) / "unit"
        shutil.copytree(unit_dir, workdir, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        nbformat.write(notebook, str(workdir / f"{ref.unit}.ipynb"))
        run = copy.deepcopy(notebook)
        for cell in run.cells:
            gid = cells.grade_id(cell)
            if gid in ref.points and cell.cell_type == "code":
                cell.source, nonces[gid] = tripwire(cell.source)
        execution = Run(run, ref, workdir, limits, mode, pythonpath, home_seed, uid, budget=Budget.of(ref))
        execution.run()
    for cell, original in zip(run.cells, notebook.cells):
        cell.source = original.source
    return run, nonces, execution.events
