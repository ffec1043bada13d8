"""segkit.course.config: the one repository setting (badge, setup cell) and the setup cell on Colab."""
from __future__ import annotations

import importlib.util
import sys
import types
import warnings

from course_fixtures import UNIT, check_messages
from segkit.course.authoring.check import check_course
from segkit.course.authoring.release import release
from segkit.course.config import Course, setup_cell_source

REAL_FIND_SPEC = importlib.util.find_spec


def test_badge_and_setup_follow_the_one_repository_setting(course):
    pyproject = course.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("segkit-course/", "someone-else/"))
    fork = Course(course.root)
    messages = check_messages(fork, sync=False)
    assert "Colab badge does not match" in messages and "setup cell differs" in messages
    assert "someone-else" in fork.badge_markdown(UNIT) and "someone-else" in fork.setup_source()
    release(fork, [UNIT])  # rewrites the headers from the setting
    assert check_course(fork) == []
    assert "someone-else" in course.release_notebook(UNIT).read_text()


def _run_setup_cell(monkeypatch, *, on_colab: bool, segkit_installed: bool) -> list[list[str]]:
    calls: list[list[str]] = []
    monkeypatch.setattr("subprocess.run", lambda cmd, check: calls.append(cmd))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "segkit" and not segkit_installed else REAL_FIND_SPEC(name, *a))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(setup_cell_source("https://github.com/owner/repo"), {})
    return calls


def test_setup_cell_installs_segkit_on_colab_without_touching_torch(monkeypatch, capsys):
    calls = _run_setup_cell(monkeypatch, on_colab=True, segkit_installed=False)
    assert len(calls) == 1
    command = calls[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert "--no-deps" in command and "git+https://github.com/owner/repo" in command
    assert not any("torch" in part for part in command)
    assert "running on" in capsys.readouterr().out


def test_setup_cell_does_nothing_outside_colab_or_when_installed(monkeypatch):
    assert _run_setup_cell(monkeypatch, on_colab=False, segkit_installed=False) == []
    assert _run_setup_cell(monkeypatch, on_colab=True, segkit_installed=True) == []
