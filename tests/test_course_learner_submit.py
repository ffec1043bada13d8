"""segkit.course.learner.submit: a learner grades their own notebook as the instructor would, on the
demo course; nothing in the course or the notebook changes."""
from __future__ import annotations

import os
import shutil
import sys

import nbformat
import pytest

from course_fixtures import REPO, UNIT, fingerprint, solved_lesson
from segkit.course.__main__ import main
from segkit.course.config import CourseError
from segkit.course.learner.submit import FULL_MARKS, POINTS_MISSING, submit


@pytest.mark.slow
def test_submit_scores_answers_and_leaves_files_alone(course, tmp_path):
    mine = solved_lesson(course, tmp_path)
    before = fingerprint(course.source_dir, course.release_dir, mine)
    result = submit(course, UNIT, mine, student="ada")
    assert result.exit_code == FULL_MARKS, result.table()
    assert [(s.grade_id, s.points, s.max_points) for s in result.scores] == [("test_count_pixels", 1, 1), ("test_double", 2, 2)]
    assert fingerprint(course.source_dir, course.release_dir, mine) == before
    assert result.feedback == course.root / "feedback" / "ada" / UNIT / f"{UNIT}.html"
    html = result.feedback.read_text()
    assert "double(-3)" not in html and "count_pixels(mask, 7)" not in html, "hidden tests leak into feedback"
    assert "hidden tests: not shown" in html
    assert "data:image/png" in html, "figures must reach the feedback (inline backend in grading kernels)"
    assert ">Test cell<" not in html, "the feedback summary should name the exercises"
    assert "<code>test_count_pixels</code></a>: 1 / 1 points" in html and "<code>test_double</code></a>: 2 / 2 points" in html
    assert "total" in result.table() and "3 / 3" in result.table()


@pytest.mark.slow
def test_submit_untouched_lesson_scores_zero(course, capsys):
    assert main(["--root", str(course.root), "submit", UNIT]) == POINTS_MISSING
    out = capsys.readouterr().out
    assert "test_count_pixels    0 / 1    NotImplementedError: not done yet" in out
    assert "total" in out and "0 / 3" in out


@pytest.mark.slow
def test_cli_submit_grades_the_working_copy_and_prints_no_kernel_notices(course, tmp_path):
    """What a learner types in a terminal: `python -m segkit.course submit UNIT`, nothing else."""
    import subprocess

    from segkit.course.learner.workspace import update, work_notebook

    update(course)
    shutil.copy2(solved_lesson(course, tmp_path), work_notebook(course, UNIT))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    for name in ("PYTHONWARNINGS", "TQDM_DISABLE"):  # as in a fresh terminal
        env.pop(name, None)
    run = subprocess.run([sys.executable, "-m", "segkit.course", "submit", UNIT], cwd=course.root, env=env,
                         capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == FULL_MARKS, f"the working copy (solved) should be graded by default:\n{output}"
    assert "without encryption" not in output and "IPKernelApp" not in output, output
    assert "3 / 3" in run.stdout and "no working copy" not in output


@pytest.mark.slow
def test_submit_accepts_a_notebook_saved_by_colab(course, tmp_path):
    mine = solved_lesson(course, tmp_path)
    notebook = nbformat.read(str(mine), as_version=4)
    for cell in notebook.cells:  # what a round trip through Colab can leave
        cell.metadata = {"id": "x" + cell.get("id", "")[:6]}
        cell.pop("id", None)
    notebook.metadata = {"colab": {"provenance": []}, "kernelspec": {"name": "python3", "display_name": "Python 3"}}
    notebook.nbformat_minor = 4
    stripped = tmp_path / "from-colab.ipynb"
    nbformat.write(notebook, str(stripped))
    result = submit(course, UNIT, stripped)
    assert result.exit_code == FULL_MARKS, result.table()


def test_submit_rejects_bad_arguments(course, tmp_path):
    with pytest.raises(CourseError, match="unknown unit '02-nope'; units in solutions/: 01-demo"):
        submit(course, "02-nope")
    with pytest.raises(CourseError, match="student name"):
        submit(course, UNIT, student="../../etc")
    with pytest.raises(CourseError, match="no notebook at"):
        submit(course, UNIT, tmp_path / "missing.ipynb")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    with pytest.raises(CourseError, match="not a readable notebook"):
        submit(course, UNIT, broken)
