"""Every unit of the course, discovered from solutions/: a new unit needs no edit here.

For each unit: lessons/ is in sync with solutions/, the solution notebook runs top to bottom
without an error and earns full marks (a test cell tagged ``stretch``, the capstone's top tier, is
beyond the reference solution and may be missed), every number its prose states about the run and
checks with ``segkit.course.kernel.claims`` holds in that same run (no ✗ claim record), and the
untouched student notebook earns nothing.

The solution's one run is on a Colab-like runtime (tests/colab_env.py): its kernel is a Python 3.12
environment with Colab's preinstalled packages, a stand-in ``google.colab`` and segkit installed by
the setup cell's own ``pip install --no-deps git+...`` (non-editable), without the repository's
``datasets/`` or source tree, unconfined so that ``segkit.data.samples.prepare()`` reaches PyPI as on
Colab, with a fresh ``$HOME`` per notebook (each unit must fetch the real samples it uses).
The solution's graded run is kept as the course website's execution cache (segkit.course.site).
"""
from __future__ import annotations

import pytest

from segkit.course import site
from segkit.course.authoring.check import check_course, describe
from segkit.course.config import Course
from segkit.course.authoring.notebook import read
from segkit.course.cells import is_stretch
from segkit.course.kernel.claims import MIME as CLAIM_MIME
from segkit.course.authoring.release import stale_units
from segkit.course.learner.submit import FULL_MARKS, submit
from segkit.course.sandbox import KERNEL_PYTHON_VARIABLE, Mode

COURSE = Course.find()
UNITS = COURSE.units()


def test_course_has_units():
    assert UNITS, "no units found in solutions/"


def test_lessons_are_in_sync_with_solutions():
    stale = stale_units(COURSE)
    assert not stale, f"lessons/ is stale, run `python -m segkit.course release`: {stale}"


def test_course_check_passes():
    problems = check_course(COURSE, sync=False)
    assert not problems, describe(problems)


# Unconfined, as on Colab: the lesson's own code fetches the real samples from PyPI.
COLAB_MODE = Mode("none", "Colab-like runtime (tests/colab_env.py): no sandbox, so that the lesson reaches PyPI")


def failed_claims(executed: dict) -> list[str]:
    """The claim records (``segkit.course.kernel.claims``) of an executed notebook that do not hold:
    one line each, with the cell id and what the text says against what the run measured."""
    failed = []
    for cell in executed.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            record = output.get("data", {}).get(CLAIM_MIME)
            if isinstance(record, dict) and not record.get("ok", False):
                text = output["data"].get("text/plain", "")
                failed.append(f"{cell.get('id')}: {''.join(text) if isinstance(text, list) else text}")
    return failed


def test_failed_claims_reads_the_claim_records():
    def output(ok):
        return {"output_type": "display_data", "data": {"text/plain": f"{'✓' if ok else '✗'} x", CLAIM_MIME: {"ok": ok}}}
    executed = {"cells": [{"cell_type": "code", "id": "a", "outputs": [output(True), {"output_type": "stream", "text": "✗"}]},
                          {"cell_type": "code", "id": "b", "outputs": [output(False)]}, {"cell_type": "markdown", "id": "c"}]}
    assert failed_claims(executed) == ["b: ✗ x"]


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.colab
@pytest.mark.parametrize("unit", UNITS)
def test_solution_runs_on_colab_and_scores_full_marks(unit, tmp_path, record_property, colab_kernel_python,
                                                       monkeypatch):
    monkeypatch.setenv(KERNEL_PYTHON_VARIABLE, str(colab_kernel_python))
    key = site.execution_key(COURSE, unit)
    result = submit(COURSE, unit, COURSE.source_notebook(unit), student="solution", feedback_root=tmp_path,
                    mode=COLAB_MODE)
    record_property("notebook_seconds", result.seconds)
    record_property("colab_points", f"{result.points:g} / {result.max_points:g}")
    assert not result.failure, result.failure
    stretch = {c.id for c in read(COURSE.source_notebook(unit)).cells if is_stretch(c)}
    errors = {cell: error for cell, error in result.errors.items() if cell not in stretch}
    assert not errors, f"cells raised errors: {errors}"
    missed = {s.grade_id for s in result.scores if s.points < s.max_points}
    assert result.exit_code == FULL_MARKS or missed <= stretch, result.table()
    assert len(result.scores) >= 1
    assert result.executed is not None, "the graded run's executed notebook was not kept"
    failed = failed_claims(result.executed)
    assert not failed, "the prose states numbers this run does not give:\n" + "\n".join(failed)
    # the course website's pages show this run's outputs: `make site` after `make test` runs no notebook
    site.store_execution(COURSE, unit, result.executed, key=key, seconds=result.seconds)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("unit", UNITS)
def test_untouched_lesson_scores_zero(unit, tmp_path, record_property):
    result = submit(COURSE, unit, COURSE.release_notebook(unit), student="untouched", feedback_root=tmp_path)
    record_property("notebook_seconds", result.seconds)
    assert not result.failure, result.failure
    earned = {s.grade_id: s.points for s in result.scores if s.points > 0}
    assert not earned, f"the student stubs earn points, so these tests cannot fail: {earned}"
    assert result.max_points > 0
