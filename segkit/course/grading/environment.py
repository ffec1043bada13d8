"""The one environment every grading kernel starts with: the class grader's, ``submit``'s and the
wrong-answer harness's alike (so the harness judges answers in the kernel real grading uses).

Nothing is inherited from whoever runs the grader: warnings and progress bars are off (stderr in a
test cell scores 0), one thread, a private home, the course's data folders by variable.
"""
from __future__ import annotations

import sys
from pathlib import Path

from segkit.course.nbgrader_settings import QUIET_KERNEL_ENV
from segkit.course.sandbox import data_paths


def segkit_pythonpath() -> str:
    """The folder that holds the ``segkit`` package the grader itself runs."""
    import segkit

    return str(Path(segkit.__file__).resolve().parent.parent)


def kernel_env(course_pythonpath: str | None = None, home: str = "/tmp/home") -> dict[str, str]:
    """The kernels' whole environment (nothing inherited). ``home`` is the kernel's ``$HOME``."""
    bin_dir = str(Path(sys.executable).parent)
    return {
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
