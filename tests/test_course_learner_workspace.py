"""segkit.course.learner.workspace: the learner's git-ignored working copy work/ and course updates.

The course here is a real git repository with the course's .gitignore, cloned as a learner
would; a course update is a commit upstream and a `git pull` in the clone.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from segkit.course.authoring import notebook as nb
from segkit.course.__main__ import main
from segkit.course.config import Course
from segkit.course.learner.workspace import default_submission, reset, update, work_notebook

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(cwd: Path, *args: str) -> str:
    env_args = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    return subprocess.run(["git", *env_args, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _add_unit(root: Path, unit: str, text: str) -> None:
    """A unit as release would leave it: solutions/UNIT and lessons/UNIT (no nbgrader needed here)."""
    lesson = nb.new_notebook([nb.markdown(f"# {unit}\n\n{text}", id="title"), nb.code("x = 1", id="answer")])
    for folder in ("solutions", "lessons"):
        (root / folder / unit).mkdir(parents=True, exist_ok=True)
        nb.write(lesson, root / folder / unit / f"{unit}.ipynb")
    (root / "lessons" / unit / "data.txt").write_text("a data file beside the notebook\n")


@pytest.fixture
def clone(tmp_path) -> tuple[Path, Course]:
    """The course upstream (with the repository's .gitignore) and a learner's clone of it."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    for name in (".gitignore", "nbgrader_config.py", "pyproject.toml"):
        shutil.copy2(REPO / name, upstream / name)
    _add_unit(upstream, "01-demo", "first version")
    _git(upstream, "init", "-q")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-qm", "course")
    _git(tmp_path, "clone", "-q", str(upstream), "learner")
    return upstream, Course(tmp_path / "learner")


def _answer(path: Path, source: str) -> None:
    notebook = nbformat.read(str(path), as_version=4)
    next(c for c in notebook.cells if c.get("id") == "answer").source = source
    nbformat.write(notebook, str(path))


def _source(path: Path, cell_id: str) -> str:
    return next(c.source for c in nbformat.read(str(path), as_version=4).cells if c.get("id") == cell_id)


def test_work_copy_survives_a_course_update_and_new_units_appear(clone):
    upstream, course = clone
    report = update(course)
    assert report.added == ["01-demo"]
    mine = work_notebook(course, "01-demo")
    assert (mine.parent / "data.txt").is_file(), "files beside the notebook are copied too"
    _answer(mine, "x = 42  # my answer")
    assert _git(course.root, "status", "--porcelain") == "", "work/ must be ignored by git"

    # The course changes the lesson and gains a unit; the learner pulls.
    _answer(upstream / "lessons" / "01-demo" / "01-demo.ipynb", "x = 2  # the course's fix")
    _add_unit(upstream, "02-more", "a new unit")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-qm", "update")
    _git(course.root, "pull", "-q", "--ff-only")  # never a conflict: the learner's answers are not tracked

    report = update(course)
    assert report.added == ["02-more"] and work_notebook(course, "02-more").is_file()
    assert report.changed == ["01-demo"], "a lesson changed since it was copied is reported"
    assert _source(mine, "answer") == "x = 42  # my answer", "update must never overwrite the learner's file"
    assert any("reset 01-demo" in line for line in report.lines(course))

    fresh, backup = reset(course, "01-demo")
    assert fresh == mine and _source(mine, "answer") == "x = 2  # the course's fix"
    assert backup is not None and _source(backup, "answer") == "x = 42  # my answer", "reset keeps a backup"
    assert update(course).changed == [], "after a reset the unit is up to date"


def test_update_adds_missing_files_and_keeps_extra_ones(clone):
    _, course = clone
    update(course)
    folder = work_notebook(course, "01-demo").parent
    (folder / "data.txt").unlink()
    (folder / "notes.md").write_text("mine")
    report = update(course)
    assert report.files == ["01-demo/data.txt"] and (folder / "notes.md").read_text() == "mine"


def test_submit_grades_the_work_copy_by_default_and_says_when_there_is_none(clone, capsys):
    _, course = clone
    path, note = default_submission(course, "01-demo")
    assert path == course.release_notebook("01-demo") and "no working copy" in note and "update" in note
    update(course)
    path, note = default_submission(course, "01-demo")
    assert path == work_notebook(course, "01-demo") and note == ""


def test_cli_update_and_reset(clone, capsys):
    _, course = clone
    assert main(["--root", str(course.root), "update"]) == 0
    assert "new in work/: 01-demo" in capsys.readouterr().out
    assert main(["--root", str(course.root), "sync"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["--root", str(course.root), "reset", "01-demo"]) == 0
    out = capsys.readouterr().out
    assert "01-demo.backup-" in out and "fresh copy" in out
    assert main(["--root", str(course.root), "reset", "99-none"]) == 2
