"""Confine a command with what Linux already provides: namespaces, ``chroot``, ``setpriv``, ``prlimit``.

:func:`confine` turns an argv into one that runs it

- in new mount, pid, network, IPC and UTS namespaces (``unshare``): no network at all, its own
  process tree (when its first process ends, the kernel kills every process it started),
- under a minimal root built from read-only bind mounts: the system (``/usr``, ``/etc``, ...), the
  Python installation and virtual environment, the ``segkit`` package folder, and nothing else of
  the host; the course's ``solutions/``, gradebook and other submissions are simply not there,
- with a private ``/tmp`` and ``/dev/shm`` (size-limited tmpfs) and one writable folder, the
  submission's throwaway working folder,
- as an unprivileged uid with no capabilities and ``no_new_privs`` (``setpriv``),
- with resource limits (``prlimit``): address space, CPU seconds, processes, file size.

Modes: ``root`` (all of the above; needs root, as on a grading server), ``userns`` (unprivileged
user namespaces, for a learner's laptop: the same, except that the process stays the learner's own
uid, seen as root of its user namespace but stripped of every capability), and
``none`` (no confinement; :func:`detect` says why). Wall-clock limits are the caller's job (kill the
process this argv starts: everything in the namespace goes with it).
"""
from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")
TOOLS = ("unshare", "chroot", "setpriv", "prlimit", "mount")
MODES = ("root", "userns", "none")


@dataclass(frozen=True)
class Limits:
    """Per-submission limits the instructor sets (``grade --memory ... --cpu-seconds ...``)."""

    memory_mb: int = 6144  # address space of each process (torch reserves a lot of it)
    cpu_seconds: int = 900  # CPU time of each process
    wall_seconds: int = 1200  # the whole submission, all kernels together
    cell_timeout: int = 300  # cap on any cell's timeout (the released notebook's tags, never the learner's)
    processes: int = 512  # per sandbox uid (threads count)
    tmp_mb: int = 1024  # private /tmp and /dev/shm
    file_mb: int = 1024  # largest file a process may write


@dataclass(frozen=True)
class Mode:
    name: str  # one of MODES
    reason: str = ""  # why confinement is weaker than "root", for the person at the keyboard

    @property
    def confined(self) -> bool:
        return self.name != "none"


@functools.lru_cache(maxsize=None)
def detect() -> Mode:
    """The strongest mode this machine allows (probed once per process)."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if sys.platform != "linux" or missing:
        why = "not Linux" if sys.platform != "linux" else f"missing {', '.join(missing)} (util-linux)"
        return Mode("none", f"grading without a sandbox: {why}")
    flags = ["--mount", "--pid", "--net", "--ipc", "--uts", "--fork", "--kill-child"]
    if os.geteuid() == 0 and _works(["unshare", *flags, "true"]):
        return Mode("root")
    if _works(["unshare", "--user", "--map-root-user", *flags, "sh", "-c", "mount -t tmpfs t /tmp"]):
        return Mode("userns", "sandbox without a separate uid (not root): namespaces, read-only root and limits only")
    return Mode("none", "grading without a sandbox: this machine does not allow user namespaces "
                        "(e.g. sysctl kernel.unprivileged_userns_clone=0 or AppArmor); run as root, or see README")


def _works(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def readonly_paths() -> list[Path]:
    """Host folders the sandbox sees read-only besides the system: Python, the venv, segkit."""
    import segkit

    paths = {Path(sys.base_prefix), Path(sys.prefix), Path(segkit.__file__).resolve().parent}
    paths.add(Path(os.path.realpath(sys.executable)).parent.parent)
    paths.update(data_paths().values())
    return sorted(p.resolve() for p in paths if p.exists() and str(p.resolve()) not in SYSTEM_DIRS)


def data_paths() -> dict[str, Path]:
    """The course's data the lessons read, by the environment variable that points segkit at it
    inside the sandbox (where neither the clone's root nor the host's ``$HOME`` is visible):
    ``SEGKIT_DATASETS`` (frozen splits, cards) and ``SEGKIT_SAMPLES_DIR`` (the real samples
    fetched at set-up). Both are mounted read-only."""
    from segkit.assets import datasets_root
    from segkit.data.samples import cache_dir

    found: dict[str, Path] = {}
    try:
        found["SEGKIT_DATASETS"] = datasets_root().resolve()
    except FileNotFoundError:
        pass
    samples = cache_dir().resolve()
    if samples.is_dir():
        found["SEGKIT_SAMPLES_DIR"] = samples
    return found


def confine(
    argv: list[str],
    *,
    workdir: Path,
    root: Path,
    env: dict[str, str],
    limits: Limits,
    uid: int,
    mode: Mode,
    home_seed: Path | None = None,
    quiet: bool = False,
    start_dir: Path | str | None = None,
) -> list[str]:
    """``argv`` wrapped so it runs confined (see the module docstring).

    ``root`` is an empty host folder used as the mount point of the sandbox's root (a tmpfs,
    visible only inside). ``workdir`` is bind-mounted at the same path, writable and owned by
    ``uid``; the process starts there with exactly ``env``. ``home_seed`` is copied to
    ``$HOME`` (e.g. a prebuilt matplotlib font cache). ``quiet`` sends the process's own
    stdout and stderr to ``/dev/null`` (a kernel's output travels over its sockets anyway).
    ``start_dir`` is the folder the process starts in (default ``workdir``): the grader starts
    kernels outside the writable folder, so nothing planted there is read at start-up.
    """
    start = str(start_dir or workdir)
    envargs = [f"{k}={v}" for k, v in sorted(env.items())]
    if mode.name == "none":
        plain = ["env", "-i", "-C", start, *envargs, *argv]
        return ["sh", "-c", 'exec "$@" </dev/null >/dev/null 2>&1', "sh", *plain] if quiet else plain
    q = shlex.quote
    r = q(str(root))
    lines = ["set -eu", "mount --make-rprivate /", f"mount -t tmpfs -o mode=755,size=16m segkit-root {r}"]

    def bind(path: str, writable: bool = False) -> None:
        target = q(f"{root}{path}")
        lines.append(f"mkdir -p {target} && mount --rbind {q(path)} {target}")
        if not writable:
            lines.append(f"mount -o remount,bind,ro {target}")

    # Loopback only, inside the sandbox's own network namespace (torchrun's rendezvous needs it);
    # nothing outside is reachable.
    ip = shutil.which("ip") or "/usr/sbin/ip"
    lines.append(f"{q(ip)} link set lo up 2>/dev/null || true")
    # The private /tmp first: a course cloned under /tmp (as CI may do) is then bound on top of it
    # rather than hidden by it.
    lines += [
        f"mkdir -p {r}/dev {r}/proc {r}/tmp {r}/dev/shm",
        f"mount -t proc -o nosuid,nodev,noexec proc {r}/proc",
        f"mount -t tmpfs -o nosuid,nodev,mode=1777,size={limits.tmp_mb}m tmpfs {r}/tmp",
        f"mount -t tmpfs -o nosuid,nodev,mode=1777,size={limits.tmp_mb}m tmpfs {r}/dev/shm",
        f"ln -s /proc/self/fd {r}/dev/fd",
    ]
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            lines.append(f"ln -s {q(os.readlink(d))} {q(f'{root}{d}')}")
        elif os.path.isdir(d):
            bind(d)
    for p in readonly_paths():
        bind(str(p))
    for dev in DEVICES:
        lines.append(f"touch {r}/dev/{dev} && mount --bind /dev/{dev} {r}/dev/{dev}")
    bind(str(workdir), writable=True)
    home = f"{root}/tmp/home"
    lines.append(f"mkdir -p {q(home)}")
    if home_seed is not None:
        lines.append(f"cp -r {q(str(home_seed))}/. {q(home)}/")
    if mode.name == "root":
        lines.append(f"chown -R {uid}:{uid} {q(home)} {q(f'{root}{workdir}')}")
        become = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                  "--inh-caps=-all", "--bounding-set=-all", "--"]
    else:  # root of its own user namespace, stripped of every capability (so it cannot undo the mounts)
        become = ["setpriv", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all",
                  "--securebits=+noroot,+noroot_locked", "--"]
    rlimits = ["prlimit", f"--as={limits.memory_mb * 2**20}", f"--cpu={limits.cpu_seconds}",
               f"--nproc={limits.processes}", f"--fsize={limits.file_mb * 2**20}", "--core=0", "--nofile=1024", "--"]
    inner = ["chroot", str(root), *rlimits, *become, "env", "-i", "-C", start, *envargs, *argv]
    # No `exec`: sh stays process 1 of the pid namespace, so when it ends (or is killed because
    # `unshare` was), every process the submission started is killed by the kernel.
    lines.append(shlex.join(inner) + (" </dev/null >/dev/null 2>&1" if quiet else ""))
    flags = ["--mount", "--pid", "--net", "--ipc", "--uts", "--fork", "--kill-child"]
    if mode.name == "userns":
        flags = ["--user", "--map-root-user", *flags]
    # --pdeathsig: if the grader itself dies, `unshare` and with it the whole sandbox go too.
    return ["setpriv", "--pdeathsig", "KILL", "--", "unshare", *flags, "--", "/bin/sh", "-c", "\n".join(lines)]


def process_tree(pid: int) -> list:
    """``psutil.Process`` objects of ``pid`` and all its live descendants ([] when ``pid`` is gone
    or psutil is missing). The one process-tree reader of the course tooling."""
    try:
        import psutil
    except ImportError:
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, every thread, reaped children included) used so far by process
    ``pid`` and all its live descendants; None where that cannot be read."""
    import psutil

    tree = process_tree(pid)
    if not tree:
        return None
    total = 0.0
    for process in tree:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue  # it ended meanwhile
        total += times.user + times.system + times.children_user + times.children_system
    return total


def live_descendants(pid: int) -> list[tuple[int, str]]:
    """``(pid, name)`` of every running (not exited) descendant of ``pid``."""
    import psutil

    found = []
    for process in process_tree(pid)[1:]:
        try:
            if process.status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                found.append((process.pid, process.name()))
        except psutil.Error:
            continue
    return found


# ---- CPU accounting per submission ------------------------------------------------------------


def cgroup2_root() -> Path | None:
    """A writable cgroup v2 hierarchy where this process may create cgroups (root, or delegated),
    or None. Looks at ``/sys/fs/cgroup`` (unified) and ``/sys/fs/cgroup/unified`` (hybrid)."""
    for candidate in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
        if (candidate / "cgroup.procs").is_file() and (candidate / "cgroup.controllers").is_file() \
                and os.access(candidate, os.W_OK):
            return candidate
    return None


class CpuMeter:
    """The CPU seconds of everything one submission runs, counted by the Linux kernel itself.

    A cgroup v2 per submission, created before its first kernel starts: every process started in
    it (every kernel start, replays, children forked and never waited for, whatever their parent
    does) is counted in ``cpu.stat`` from the cgroup's creation, and :meth:`close` kills whatever is
    left (``cgroup.kill``). :meth:`wrap` makes an argv join the cgroup before it execs.

    Where no cgroup can be made (no cgroup v2, not root and nothing delegated), :meth:`create`
    returns None and the grader falls back to summing the kernel's process tree per cell
    (:func:`tree_cpu_seconds`), which misses processes that left the tree; the grading notes say so.
    """

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, name: str) -> "CpuMeter | None":
        root = cgroup2_root()
        if root is None:
            return None
        path = root / f"segkit-{name}"
        try:
            path.mkdir()
        except OSError:
            return None
        return cls(path)

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run from a shell that first moves itself into the cgroup (``echo 0``: the writer)."""
        procs = shlex.quote(str(self.path / "cgroup.procs"))
        return ["/bin/sh", "-c", f'echo 0 > {procs} && exec "$@"', "segkit-cgroup", *argv]

    def seconds(self) -> float:
        """CPU seconds (user + system) used in the cgroup since it was created."""
        for line in (self.path / "cpu.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
        raise RuntimeError(f"{self.path}/cpu.stat has no usage_usec")

    def close(self) -> None:
        """Kill every process left in the cgroup, then remove it."""
        import time

        kill = self.path / "cgroup.kill"
        for _ in range(50):
            try:
                if kill.is_file():
                    kill.write_text("1")
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)
