"""Device selection, CPU threads, seeding and timing. Built in lessons/00-getting-started.

:func:`measure` times a call the way lessons/00-getting-started teaches it (warm up, wait for the
GPU, repeat) on both clocks: wall-clock time (what the call took now, with whatever else runs) and
CPU time of this process (what it costs; with one thread, the wall time of an idle core).
"""
from __future__ import annotations

import os
import random
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median
from typing import Any

import numpy as np
import torch

from segkit._checks import non_negative_int, positive_int

COLAB_GPU_HINT = (
    "No GPU found. On Colab, turn one on with Runtime > Change runtime type > "
    "Hardware accelerator: T4 GPU, then run the notebook again. Continuing on the CPU."
)
THREADS_ENV = "SEGKIT_THREADS"
_threads_chosen = False  # set_cpu_threads() has run in this process (torch's thread count is process-wide)


def running_on_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the fastest available device: CUDA, then Apple's MPS, then the CPU.

    Args:
        prefer: force a device ("cpu", "cuda", "cuda:1", "mps"); ``None`` picks automatically.
            The environment variable ``SEGKIT_DEVICE`` does the same without code changes.

    The first call in a process also sets torch's CPU threads with :func:`set_cpu_threads`.

    Returns:
        A ``torch.device``. On Colab without a GPU a ``UserWarning`` says how to turn one on.

    Raises:
        ValueError: ``prefer`` names a device that is not available here.
    """
    if not _threads_chosen:
        set_cpu_threads()
    prefer = prefer or os.environ.get("SEGKIT_DEVICE") or None
    if prefer is not None:
        try:
            device = torch.device(prefer)
        except RuntimeError as err:
            raise ValueError(f"unknown device {prefer!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps'") from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {prefer!r} was asked for, but CUDA is not available here")
        if device.type == "mps" and not _mps_available():
            raise ValueError(f"device {prefer!r} was asked for, but MPS is not available here")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    if running_on_colab():
        warnings.warn(COLAB_GPU_HINT, stacklevel=2)
    return torch.device("cpu")


def choose_cpu_threads() -> int:
    """The number of torch CPU threads segkit uses.

    torch's default, one thread per core, loses badly as soon as anything else runs: its waiting
    threads spin for a core that is taken. On a 2-core machine the lessons' training cells ran
    10-30x slower with it than with one thread while other work ran (``benchmarks/bench_threads.py``).
    So:

    - on machines with up to 2 cores, one thread: within noise of the best setting in every loaded
      run, where torch's default was 10-48x slower (two threads whose waiting threads sleep,
      ``OMP_WAIT_POLICY=PASSIVE``, came close, for 20-60 % more CPU time);
    - on bigger machines, one thread per idle core where waiting threads sleep (``make lab`` and
      the course's grader set ``OMP_WAIT_POLICY=PASSIVE`` for their kernels), else half the idle
      cores (at least 1, at most torch's default).

    ``SEGKIT_THREADS`` or ``OMP_NUM_THREADS`` in the environment, if set, win.
    """
    for name in (THREADS_ENV, "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    cores = usable_cores()
    if cores <= 2:
        return 1
    idle = max(cores - busy_cores(), 1.0)
    share = idle if waiting_threads_sleep() else idle // 2
    return max(1, min(torch.get_num_threads(), cores, int(share)))


def waiting_threads_sleep() -> bool:
    """True when OpenMP was told to put waiting threads to sleep (``OMP_WAIT_POLICY=PASSIVE``).

    OpenMP reads it once, when torch is first imported, so it must be in the environment before:
    ``make lab`` and the course's grader set it for their kernels.
    """
    return os.environ.get("OMP_WAIT_POLICY", "").strip().lower() == "passive"


def set_cpu_threads(threads: int | None = None) -> int:
    """Set torch's CPU threads to ``threads`` (default: :func:`choose_cpu_threads`); returns it.

    :func:`get_device` calls it once per process, so the setup cell of every lesson applies it;
    call ``torch.set_num_threads(n)`` afterwards to choose otherwise.
    """
    global _threads_chosen
    threads = choose_cpu_threads() if threads is None else threads
    threads = positive_int(threads, "threads")
    torch.set_num_threads(threads)
    _threads_chosen = True
    return threads


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def busy_cores() -> float:
    """Cores kept busy by other processes right now: runnable tasks besides this one (Linux,
    ``/proc/loadavg``), else the 1-minute load average, else 0."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            running = int(f.read().split()[3].split("/")[0])
        return float(max(running - 1, 0))
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return 0.0


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) so a run can be repeated.

    Returns a ``torch.Generator`` seeded with ``seed``, handy for DataLoader shuffling.
    """
    seed = non_negative_int(seed, "seed")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- timing

def synchronize(device: str | torch.device | None = None) -> None:
    """Wait until ``device`` has finished its queued work (GPUs run asynchronously; the CPU does not).

    ``None``: the current CUDA device if CUDA is in use in this process, else nothing.
    """
    kind = torch.device(device).type if device is not None else ("cuda" if torch.cuda.is_initialized() else "cpu")
    if kind == "cuda":
        torch.cuda.synchronize(device)
    elif kind == "mps":
        torch.mps.synchronize()


@dataclass(frozen=True)
class Timing:
    """The seconds of each timed call, on two clocks (see :func:`measure`).

    Attributes:
        wall: wall-clock seconds (``time.perf_counter``) of each call.
        cpu: CPU seconds of this process, all threads (``time.process_time``), of each call.
        peak_memory: bytes the calls needed at their peak above what was in use before, or
            ``None``. CUDA: allocated tensors, exact. CPU: the process's resident memory (Linux
            only), approximate: the allocator may hold on to freed blocks.
    """

    wall: tuple[float, ...]
    cpu: tuple[float, ...]
    peak_memory: int | None = None

    @property
    def wall_median(self) -> float:
        return median(self.wall)

    @property
    def wall_mean(self) -> float:
        return sum(self.wall) / len(self.wall)

    @property
    def wall_min(self) -> float:
        return min(self.wall)

    @property
    def cpu_median(self) -> float:
        return median(self.cpu)

    @property
    def cpu_mean(self) -> float:
        """Mean CPU seconds: the CPU clock ticks in steps of a few ms, but the ticks of the calls
        add up to the whole run's, so the mean of many short calls is still exact."""
        return sum(self.cpu) / len(self.cpu)

    @property
    def cpu_min(self) -> float:
        return min(self.cpu)


def _resident_bytes(field: str) -> int | None:
    """``VmRSS`` / ``VmHWM`` (resident now / its peak) of this process from ``/proc`` (Linux), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_resident_peak() -> bool:
    """Start ``VmHWM`` again from the current resident size (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(
    fn: Callable[[], Any],
    repeats: int = 5,
    warmup: int = 1,
    device: str | torch.device | None = None,
    memory: bool = False,
) -> Timing:
    """Time ``fn()`` ``repeats`` times after ``warmup`` untimed calls, on the wall and the CPU clock.

    Each timed call is wrapped in :func:`synchronize` of ``device``, so GPU work counts where it
    runs. ``fn`` takes no argument (``measure(lambda: model(x))``); run it under
    ``torch.no_grad()`` yourself when you time inference.

    Args:
        fn: the call to time.
        repeats: timed calls, >= 1.
        warmup: untimed calls first (one-off costs: memory, kernel selection, caches), >= 0.
        device: the device ``fn`` runs on (default: CUDA if this process uses it).
        memory: also record the peak memory of the timed calls (see :class:`Timing`).

    Returns:
        A :class:`Timing`: ``.wall_median``, ``.cpu_median``, ``.cpu_mean`` ... in seconds.
    """
    repeats = positive_int(repeats, "repeats")
    warmup = non_negative_int(warmup, "warmup")
    for _ in range(warmup):
        fn()
    synchronize(device)
    kind = torch.device(device).type if device is not None else ("cuda" if torch.cuda.is_initialized() else "cpu")
    before = None
    if memory and kind == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    elif memory and _reset_resident_peak():
        before = _resident_bytes("VmRSS")
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        synchronize(device)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    peak = None
    if before is not None:
        after = torch.cuda.max_memory_allocated(device) if kind == "cuda" else _resident_bytes("VmHWM")
        peak = None if after is None else max(after - before, 0)
    return Timing(tuple(walls), tuple(cpus), peak)
