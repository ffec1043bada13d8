"""Shared test settings: quiet plotting, one torch thread per xdist worker, notebook timings."""
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
