"""A Colab-like Python for the course's tests: a fresh virtual environment holding what a Colab
runtime has preinstalled (torch, torchvision, numpy, scipy, scikit-image, transformers, ...), a
stand-in ``google.colab`` module imported at start-up, and segkit installed the way every unit's
setup cell installs it on Colab (``pip install --no-deps git+REPOSITORY``: a non-editable install,
without the repository's ``datasets/`` or source tree).

The environment is built once and cached in ``$SEGKIT_COLAB_CACHE`` (default
``~/.cache/segkit-colab``), keyed by the interpreter and :data:`COLAB_PACKAGES`; segkit itself is
reinstalled, by the setup cell, whenever the tree it is built from changes. Building takes a few
minutes the first time (torch for Python 3.12 comes from PyPI), a fraction of a second after.

    python tests/colab_env.py      # build (or find) it and print its Python
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Colab's runtime is Python 3.12; SEGKIT_COLAB_PYTHON picks another interpreter.
DEFAULT_PYTHON = Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python3.12"
# What a Colab runtime has preinstalled and the lessons use (segkit's setup cell installs nothing
# else). torch/torchvision are this machine's release, so pip takes them from its cache or disk.
COLAB_PACKAGES = (
    "torch==2.14.1", "torchvision==0.29.1", "numpy", "matplotlib", "tqdm", "pillow", "scipy",
    "scikit-image", "tifffile", "transformers", "ipykernel", "ipywidgets",
)
# Modules that must NOT be there before a lesson runs: the setup cell or segkit.data.samples.prepare
# installs them (ai-edge-litert is not on Colab).
NOT_PREINSTALLED = ("ai-edge-litert",)
STAND_IN = '''"""Stand-in for Colab's google.colab (segkit's Colab-like test environment)."""
__version__ = "0.0.0+segkit-stand-in"
'''
# What pip builds segkit from (the rest of the repository never reaches a Colab runtime).
PACKAGE_FILES = ("pyproject.toml", "README.md", "segkit")


def interpreter() -> Path:
    """The Python the environment is made from: ``$SEGKIT_COLAB_PYTHON``, Python 3.12.1 from pyenv,
    else the interpreter running the tests."""
    chosen = os.environ.get("SEGKIT_COLAB_PYTHON")
    if chosen:
        return Path(chosen)
    return DEFAULT_PYTHON if DEFAULT_PYTHON.is_file() else Path(getattr(sys, "_base_executable", sys.executable))


def cache_root() -> Path:
    return Path(os.environ.get("SEGKIT_COLAB_CACHE", Path.home() / ".cache" / "segkit-colab"))


def _version(python: Path) -> str:
    return subprocess.run([str(python), "-c", "import sys; print(sys.version)"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _key(python: Path) -> str:
    text = json.dumps([_version(python), sorted(COLAB_PACKAGES), STAND_IN])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def package_hash(repo: Path = REPO) -> str:
    """Digest of what segkit is built from: a change means the installed copy is stale."""
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        path = repo / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                     and "__pycache__" not in p.parts and p.suffix != ".pyc")
        for file in files:
            digest.update(str(file.relative_to(repo)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(path: Path):
    """One builder at a time (pytest-xdist workers share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(argv: list[str], log: list[str], **kwargs) -> None:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    shown = " ".join(a.splitlines()[0] if a.strip() else a for a in argv[:6])
    log.append(f"{time.perf_counter() - start:6.1f} s  {shown}{' ...' if len(argv) > 6 else ''}")
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{(result.stderr or result.stdout)[-3000:]}")


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def _build(venv: Path, python: Path, log: list[str]) -> None:
    """A new environment with Colab's preinstalled packages and the google.colab stand-in."""
    shutil.rmtree(venv, ignore_errors=True)
    _run([str(python), "-m", "venv", str(venv)], log)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *COLAB_PACKAGES], log)
    site = site_packages(venv)
    (site / "google" / "colab").mkdir(parents=True, exist_ok=True)  # no google/__init__.py: a namespace
    (site / "google" / "colab" / "__init__.py").write_text(STAND_IN)
    # Colab's kernel has google.colab imported before the first cell runs: so does every process here.
    (site / "segkit_colab_stand_in.pth").write_text("import google.colab\n")
    (venv / ".complete").write_text(json.dumps({"python": _version(python), "packages": COLAB_PACKAGES}))


def _git_snapshot(repo: Path, into: Path, log: list[str]) -> None:
    """A git repository holding the files pip builds segkit from, as they are on disk now."""
    into.mkdir(parents=True)
    for name in PACKAGE_FILES:
        source = repo / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(source, into / name)
    git = ["git", "-C", str(into), "-c", "user.name=segkit", "-c", "user.email=segkit@localhost",
           "-c", "commit.gpgsign=false"]
    _run(["git", "init", "--quiet", str(into)], log)
    _run([*git, "add", "-A"], log)
    _run([*git, "commit", "--quiet", "-m", "snapshot"], log)


def install_segkit(venv: Path, repo: Path = REPO, log: list[str] | None = None) -> None:
    """Run the units' setup cell on the stand-in Colab with segkit missing: its
    ``pip install --no-deps git+REPOSITORY`` fetches from a snapshot of ``repo`` instead of GitHub
    (git's ``url.<snapshot>.insteadOf``)."""
    from segkit.course.config import Course

    log = log if log is not None else []
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "uninstall", "--quiet", "--yes", "segkit", *NOT_PREINSTALLED], log)
    course = Course(repo)
    with tempfile.TemporaryDirectory(prefix="segkit-colab-git-") as tmp:
        snapshot = Path(tmp) / "repo"
        _git_snapshot(repo, snapshot, log)
        env = {**os.environ, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.{snapshot}.insteadOf",
               "GIT_CONFIG_VALUE_0": course.repository_url, "PIP_QUIET": "1"}
        env.pop("PYTHONPATH", None)
        # the setup cell's own source, run as Colab would, from a folder outside the repository
        _run([python, "-c", course.setup_source()], log, env=env, cwd=tmp)
    (venv / ".segkit").write_text(package_hash(repo))


def colab_python(repo: Path = REPO, log: list[str] | None = None) -> Path:
    """The Colab-like environment's Python, built or updated as needed (see the module docstring)."""
    log = log if log is not None else []
    python = interpreter()
    if not python.is_file():
        raise FileNotFoundError(f"no Python at {python} for the Colab-like environment (set SEGKIT_COLAB_PYTHON)")
    venv = cache_root() / f"venv-{_key(python)}"
    with _locked(cache_root() / f"venv-{_key(python)}.lock"):
        if not (venv / ".complete").is_file():
            _build(venv, python, log)
        marker = venv / ".segkit"
        if not marker.is_file() or marker.read_text() != package_hash(repo):
            install_segkit(venv, repo, log)
    return venv / "bin" / "python"


if __name__ == "__main__":
    steps: list[str] = []
    print(colab_python(log=steps))
    print("\n".join(steps))
