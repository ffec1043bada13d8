"""Shared test settings: quiet plotting, one torch thread per xdist worker, notebook timings; the
course tooling's fixtures."""
from __future__ import annotations

import os

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

# Tests use tiny tensors, and run as two xdist workers on two cores: one torch thread each is
# fastest (more threads per worker only fight each other). Benchmarks set their own threads.
torch.set_num_threads(1)
# Notebook kernels started by the grader inherit this: two notebooks graded side by side with two
# threads each ran up to 6x slower than with one (threads spinning while they wait for a core).
os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how long each notebook took to grade (recorded with record_property)."""
    rows = []
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for name, value in getattr(report, "user_properties", []):
            if name == "notebook_seconds":
                rows.append((report.nodeid.split("::")[-1], value))
    if rows:
        terminalreporter.write_sep("-", "notebook grading times")
        for nodeid, seconds in sorted(rows):
            terminalreporter.write_line(f"{seconds:7.1f} s  {nodeid}")


# ---- the course tooling's fixtures (helpers in course_fixtures.py; imported lazily so that the
# library's tests do not pay for nbgrader) ----------------------------------------------------------


@pytest.fixture(scope="session")
def template_course(tmp_path_factory):
    """The demo course (course_fixtures.build_demo_course), built once: copy it before changing it."""
    from course_fixtures import build_demo_course

    return build_demo_course(tmp_path_factory.mktemp("course"))


@pytest.fixture
def course(template_course, tmp_path):
    """A fresh copy of the demo course, the test's own to change."""
    import shutil

    from segkit.course.config import Course

    root = tmp_path / "course"
    shutil.copytree(template_course, root)
    return Course(root)


@pytest.fixture(scope="session")
def released(tmp_path_factory):
    """``released(unit)``: the Reference of a unit of this repository, loaded from a scratch course
    with a gradebook as ``submit`` and ``grade_class`` load it (each unit released once)."""
    from course_fixtures import REPO, ReleasedUnits

    from segkit.course.config import Course

    return ReleasedUnits(Course(REPO), tmp_path_factory.mktemp("released"))


@pytest.fixture(scope="session")
def ref(released):
    """The Reference of unit 03 (measuring quality), as the grader loads it. Shared: copy before changing."""
    from course_fixtures import METRICS_UNIT

    return released(METRICS_UNIT)
