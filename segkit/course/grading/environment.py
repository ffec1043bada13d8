"""The one environment every grading kernel starts with: the class grader's, ``submit``'s and the
wrong-answer harness's alike (so the harness judges answers in the kernel real grading uses).

Nothing is inherited from whoever runs the grader: warnings and progress bars are off (stderr in a
test cell scores 0), one thread, a private home, the course's data folders by variable.
"""
from __future__ import annotations

import sys
from pathlib import Path

from segkit.course.nbgrader_settings import QUIET_KERNEL_ENV
from segkit.course.sandbox import data_paths, kernel_python


def segkit_pythonpath() -> str:
    """The folder that holds the ``segkit`` package the grader itself runs."""
    import segkit

    return str(Path(segkit.__file__).resolve().parent.parent)


def kernel_argv_python() -> str:
    """The Python that grading kernels run: the grader's own, or :func:`segkit.course.sandbox.kernel_python`."""
    return kernel_python() or sys.executable


def kernel_env(course_pythonpath: str | None = None, home: str = "/tmp/home") -> dict[str, str]:
    """The kernels' whole environment (nothing inherited). ``home`` is the kernel's ``$HOME``.

    A kernel of another environment (``$SEGKIT_KERNEL_PYTHON``) gets neither ``PYTHONPATH`` nor the
    course's data folders: it finds segkit, the frozen splits and the real samples as a learner
    does (on Colab: package data, and ``segkit.data.samples.prepare()`` into ``$HOME/.cache``)."""
    other = kernel_python()
    bin_dir = str(Path(other or sys.executable).parent)
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "PYTHONPATH": course_pythonpath or segkit_pythonpath(),
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
    if other:
        for name in ("PYTHONPATH", *data_paths()):
            env.pop(name, None)
    return env
