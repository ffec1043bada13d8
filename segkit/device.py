"""Device selection, CPU threads and seeding. Built in lessons/00-getting-started."""
from __future__ import annotations

import os
import random
import sys
import warnings

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
