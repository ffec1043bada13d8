"""The course tooling (python -m segkit.course) on a small throw-away course.

Each test builds its course in tmp_path from the new-unit template, so these tests exercise
the same code paths as the real units without depending on their content.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import time
import types
import warnings
from pathlib import Path

import nbformat
import pytest

from segkit.course.authoring import notebook as nb
from segkit.course.__main__ import main
from segkit.course.authoring.check import check_course, describe
from segkit.course.config import BADGE_CELL_ID, Course, CourseError, setup_cell_source
from segkit.course.sandbox import Limits
from segkit.course.authoring.release import release
from segkit.course.authoring.scaffold import new_unit
from segkit.course.authoring.wrong_answers import load_wrong_answers, run_unit
from segkit.course.grading import reattach_metadata
from segkit.course.learner.submit import FULL_MARKS, GRADING_FAILED, POINTS_MISSING, submit

REPO = Path(__file__).resolve().parents[1]
UNIT = "01-demo"
REAL_FIND_SPEC = importlib.util.find_spec


def _second_exercise() -> list:
    return [
        nb.code("import matplotlib.pyplot as plt\n\nplt.plot([0, 1], [1, 0])\nplt.show()", id="figure"),
        nb.markdown("## Exercise 2: double\n\nReturn `2 * x`.", id="exercise-double"),
        nb.answer("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", id="double"),
        nb.tests(
            'assert double(2) == 4, "double(2) should be 4"\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n### END HIDDEN TESTS',
            id="test_double",
            points=2,
        ),
    ]


DOUBLE_WRONG_ANSWERS = [
    dict(cell="double", id="double-square", description="squares instead of doubling", source="def double(x):\n    return x * x"),
    dict(cell="double", id="double-abs", description="drops the sign", source="def double(x):\n    return abs(2 * x)"),
    dict(cell="double", id="double-plus-two", description="adds 2", source="def double(x):\n    return x + 2"),
]


def _add_wrong_answers(course: Course, entries: list[dict]) -> None:
    """Append entries to the unit's WRONG_ANSWERS (the file stays plain data)."""
    path = course.source_dir / UNIT / "wrong_answers.py"
    path.write_text(path.read_text() + f"\nWRONG_ANSWERS += {entries!r}\n")


@pytest.fixture(scope="module")
def template_course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course")
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "solutions").mkdir()
    course = Course(root)
    new_unit(course, UNIT, "Demo")
    source = nb.read(course.source_notebook(UNIT))
    source.cells[-1:-1] = _second_exercise()  # before the summary
    nb.write(source, course.source_notebook(UNIT))
    _add_wrong_answers(course, DOUBLE_WRONG_ANSWERS)
    release(course, [UNIT])
    return root


@pytest.fixture
def course(template_course, tmp_path) -> Course:
    root = tmp_path / "course"
    shutil.copytree(template_course, root)
    return Course(root)


def _cell(notebook, cell_id):
    return next(c for c in notebook.cells if c.get("id") == cell_id)


def _edit(path: Path, change) -> None:
    notebook = nbformat.read(str(path), as_version=4)
    change(notebook)
    nbformat.write(notebook, str(path))


def _messages(course: Course, **kwargs) -> str:
    return describe(check_course(course, **kwargs))


# ---- new-unit, release, check ------------------------------------------------------------------


def test_new_unit_passes_check_at_once(course):
    assert check_course(course) == []


def test_new_unit_refuses_bad_or_taken_names(course):
    with pytest.raises(CourseError, match="NN-slug"):
        new_unit(course, "demo", "Demo")
    with pytest.raises(CourseError, match="exists already"):
        new_unit(course, UNIT, "Demo")
    with pytest.raises(CourseError, match="number 01"):
        new_unit(course, "01-other", "Other")


def test_release_is_byte_identical_and_cleans_sources(course):
    lesson = course.release_notebook(UNIT)
    first = lesson.read_bytes()

    def add_output(notebook):
        cell = _cell(notebook, "double")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
        cell.execution_count = 3
        cell.metadata["ExecuteTime"] = {"end_time": "2026-01-01"}

    _edit(course.source_notebook(UNIT), add_output)
    assert "committed with outputs" in _messages(course, sync=False)
    assert release(course, [UNIT]) == [UNIT]  # the source was cleaned
    assert lesson.read_bytes() == first
    assert check_course(course) == []


def test_check_finds_a_stale_lesson(course):
    _edit(course.source_notebook(UNIT), lambda n: setattr(_cell(n, "summary"), "source", "## Summary\n\nchanged"))
    messages = _messages(course)
    assert f"lessons/{UNIT}" in messages and "differs from a fresh generation" in messages
    release(course, [UNIT])
    assert check_course(course) == []


def test_check_finds_a_missing_lesson(course):
    shutil.rmtree(course.release_dir / UNIT)
    assert "is missing" in _messages(course)


def test_check_finds_a_leaked_solution_line(course):
    def leak(notebook):
        cell = _cell(notebook, "count_pixels")
        cell.source = cell.source.replace("raise NotImplementedError()", "raise NotImplementedError()\n    return int((mask == label).sum())")

    _edit(course.release_notebook(UNIT), leak)
    assert "shows solution line(s): 'return int((mask == label).sum())'" in _messages(course, sync=False)


def test_check_finds_leaked_hidden_tests(course):
    def leak(notebook):
        _cell(notebook, "test_double").source += "\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n### END HIDDEN TESTS"

    _edit(course.release_notebook(UNIT), leak)
    assert "leaks '### BEGIN HIDDEN TESTS'" in _messages(course, sync=False)


def test_check_requires_stubs_that_raise(course):
    _edit(course.release_notebook(UNIT), lambda n: setattr(_cell(n, "double"), "source", "def double(x):\n    pass"))
    assert "[cell double]: answer cell stub must raise NotImplementedError()" in _messages(course, sync=False)


def test_check_finds_a_missing_badge(course):
    _edit(course.source_notebook(UNIT), lambda n: n.cells.remove(_cell(n, BADGE_CELL_ID)))
    assert f"no markdown cell with id '{BADGE_CELL_ID}'" in _messages(course, sync=False)


def test_badge_and_setup_follow_the_one_repository_setting(course):
    pyproject = course.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("segkit-course/", "someone-else/"))
    fork = Course(course.root)
    messages = _messages(fork, sync=False)
    assert "Colab badge does not match" in messages and "setup cell differs" in messages
    assert "someone-else" in fork.badge_markdown(UNIT) and "someone-else" in fork.setup_source()
    release(fork, [UNIT])  # rewrites the headers from the setting
    assert check_course(fork) == []
    assert "someone-else" in course.release_notebook(UNIT).read_text()


def test_check_requires_learning_objectives(course):
    _edit(course.source_notebook(UNIT), lambda n: setattr(_cell(n, "title"), "source", "# 01 · Demo"))
    assert "no '## Learning objectives' heading" in _messages(course, sync=False)


def test_check_grade_ids_and_points(course):
    def break_metadata(notebook):
        _cell(notebook, "test_double").metadata["nbgrader"]["grade_id"] = "test_count_pixels"
        _cell(notebook, "test_count_pixels").metadata["nbgrader"]["points"] = 0

    _edit(course.source_notebook(UNIT), break_metadata)
    messages = _messages(course, sync=False)
    assert "grade id 'test_count_pixels' must equal the cell id 'test_double'" in messages
    assert "grade id 'test_count_pixels' is used by more than one cell" in messages
    assert "graded cell has no points (got 0)" in messages


def test_check_grading_tags_belong_on_test_cells(course):
    def tag(notebook):
        _cell(notebook, "setup").metadata["tags"] = ["stretch"]
        _cell(notebook, "test_double").metadata["tags"] = ["budget-30"]
        _cell(notebook, "test_count_pixels").metadata["tags"] = ["budget-40"]
        _cell(notebook, "title").metadata["tags"] = ["budget-5"]

    _edit(course.source_notebook(UNIT), tag)
    messages = _messages(course, sync=False)
    assert "the stretch tag belongs on a test cell" in messages
    assert "a budget-NNN tag belongs on a test cell" in messages
    assert "more than one hand-in" in messages


def test_cli_check_exit_codes(course, capsys):
    assert main(["--root", str(course.root), "check"]) == 0
    _edit(course.source_notebook(UNIT), lambda n: n.cells.remove(_cell(n, "setup")))
    assert main(["--root", str(course.root), "check", "--no-sync"]) == 1
    assert "no code cell with id 'setup'" in capsys.readouterr().out
    assert main(["--root", str(course.root), "submit", "99-nope"]) == 2


def test_builders_reject_bad_cells():
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        nb.answer("def f(): pass", id="f")
    with pytest.raises(ValueError, match="points"):
        nb.tests("assert True", id="test_f", points=0)
    with pytest.raises(ValueError, match="duplicate cell ids"):
        nb.new_notebook([nb.markdown("a", id="x"), nb.markdown("b", id="x")])


# ---- wrong answers -----------------------------------------------------------------------------


def test_check_verifies_wrong_answers(course):
    _add_wrong_answers(course, [
        dict(cell="nope", id="a-1", description="x", source="pass"),
        dict(cell="count_pixels", id="double-abs", description="x", source="pass"),
        dict(cell="count_pixels", id="b-1", description="x", source="pass", tests=("test_nope", "figure")),
        dict(cell="double", id="c-1", description="x", source="pass", tests=("test_count_pixels",)),
    ])
    messages = _messages(course, sync=False)
    assert "names cell 'nope', which is not in the notebook" in messages
    assert "'double-abs' is used more than once" in messages
    assert "test cell 'test_nope' is not in the notebook" in messages
    assert "cell 'figure' is not a graded test cell" in messages
    assert "test cell 'test_count_pixels' comes before its answer cell 'double'" in messages


def test_a_patch_wrong_answer_is_the_solution_edited_and_fails_when_the_solution_moves_on(course):
    _add_wrong_answers(course, [dict(cell="double", id="double-patched", description="x + 2", patch=[("2 * x", "x + 2")])])
    (patched,) = [wa for wa in load_wrong_answers(course, UNIT) if wa.id == "double-patched"]
    assert "return x + 2" in patched.source and "def double(x):" in patched.source
    assert not _messages(course, sync=False)
    _edit(course.source_notebook(UNIT), lambda n: setattr(_cell(n, "double"), "source", _cell(n, "double").source.replace("2 * x", "x * 2")))
    assert "the patch's text '2 * x' is no longer in the solution's cell 'double'" in _messages(course, sync=False)
    _edit(course.source_notebook(UNIT), lambda n: setattr(_cell(n, "double"), "source", _cell(n, "double").source.replace("x * 2", "2 * x")))
    _add_wrong_answers(course, [dict(cell="double", id="both", description="x", source="pass", patch=[("a", "b")])])
    assert "give exactly one of source=" in _messages(course, sync=False)


def test_check_wants_three_wrong_answers_per_exercise_and_none_in_lessons(course):
    path = course.source_dir / UNIT / "wrong_answers.py"
    path.write_text("WRONG_ANSWERS = []\n")
    assert "exercise 'double' has 0 wrong answer(s); write at least 3" in _messages(course, sync=False)
    path.write_text("WRONG_ANSWERS = 1\n")
    assert "must define WRONG_ANSWERS" in _messages(course, sync=False)
    shutil.copy2(course.source_dir / UNIT / "wrong_answers.py", course.release_dir / UNIT / "wrong_answers.py")
    assert "instructor-only and must never be released" in _messages(course, sync=False)


def test_release_never_copies_wrong_answers(course):
    release(course, [UNIT])
    assert (course.source_dir / UNIT / "wrong_answers.py").is_file()
    assert not list(course.release_dir.rglob("wrong_answers.py"))


@pytest.mark.slow
def test_wrong_answers_are_caught_and_the_solution_restored(course, capsys):
    report = run_unit(course, UNIT)
    assert report.ok, report.problems
    assert {o.wrong.id: (o.score.earned, o.score.possible) for o in report.outcomes} == {
        "count-returns-tensor": (0, 1), "count-fraction": (0, 1), "count-first-row": (0, 1),
        "double-square": (0, 2), "double-abs": (0, 2), "double-plus-two": (0, 2),
    }
    assert all(o.restore_ok for o in report.outcomes)
    assert main(["--root", str(course.root), "wrong-answers", UNIT, "--only", "double-abs"]) == 0
    out = capsys.readouterr().out
    assert "double-abs" in out and "0 / 2" in out and "yes" in out and "double-square" not in out


@pytest.mark.slow
def test_a_wrong_answer_that_keeps_full_marks_fails(course, capsys):
    _add_wrong_answers(course, [dict(cell="double", id="double-sum", description="x + x is right after all", source="def double(x):\n    return x + x")])
    report = run_unit(course, UNIT, only=["double-sum"])
    assert not report.ok
    assert "'double-sum' (x + x is right after all) keeps full marks 2 / 2" in "\n".join(report.problems)
    assert main(["--root", str(course.root), "wrong-answers", UNIT, "--only", "double-sum"]) == 1
    assert "NO" in capsys.readouterr().out


@pytest.mark.slow
def test_a_wrong_answer_that_leaves_state_behind_is_a_harness_failure(course):
    leak = "import torch\ntorch.tensor = lambda *a, **k: torch.zeros(2, 2, dtype=torch.int64)\ndef count_pixels(mask, label):\n    return 0"
    _add_wrong_answers(course, [dict(cell="count_pixels", id="count-leaks", description="monkeypatches torch.tensor", source=leak)])
    report = run_unit(course, UNIT, only=["count-leaks"])
    (outcome,) = report.outcomes
    assert outcome.caught and not outcome.restore_ok
    assert "after wrong answer 'count-leaks' the restored solution earns 0 / 1" in "\n".join(report.problems)
    assert "harness/state-leak bug, not a catch" in "\n".join(report.problems)


# ---- submit ------------------------------------------------------------------------------------


def _solved_lesson(course: Course, tmp_path: Path) -> Path:
    """The student notebook with the learner's answers filled in (as a learner would)."""
    notebook = nbformat.read(str(course.release_notebook(UNIT)), as_version=4)
    _cell(notebook, "count_pixels").source = "import torch\n\ndef count_pixels(mask, label):\n    return int((mask == label).sum())"
    _cell(notebook, "double").source = "def double(x):\n    return x + x"
    path = tmp_path / "mine.ipynb"
    nbformat.write(notebook, str(path))
    return path


def _fingerprint(*paths: Path) -> list[str]:
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file())
    return [f"{f}:{hashlib.sha256(f.read_bytes()).hexdigest()}" for f in files]


@pytest.mark.slow
def test_submit_scores_answers_and_leaves_files_alone(course, tmp_path):
    mine = _solved_lesson(course, tmp_path)
    before = _fingerprint(course.source_dir, course.release_dir, mine)
    result = submit(course, UNIT, mine, student="ada")
    assert result.exit_code == FULL_MARKS, result.table()
    assert [(s.grade_id, s.points, s.max_points) for s in result.scores] == [("test_count_pixels", 1, 1), ("test_double", 2, 2)]
    assert _fingerprint(course.source_dir, course.release_dir, mine) == before
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
    shutil.copy2(_solved_lesson(course, tmp_path), work_notebook(course, UNIT))
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
    mine = _solved_lesson(course, tmp_path)
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


def test_feedback_summary_names_graded_cells_and_comments():
    from segkit.course.nbgrader_settings import name_graded_cells

    toc = ('<li><a href="#comment-double">Comment</a></li>\n'
           '<li><a href="#test_double">Test cell</a> (Score: 1.5 / 2.0)</li>')
    assert name_graded_cells(toc) == ('<li><a href="#comment-double">comment on <code>double</code></a></li>\n'
                                      '<li><a href="#test_double"><code>test_double</code></a>: 1.5 / 2 points</li>')


def test_reattach_metadata_matches_by_position_when_ids_are_gone(course, tmp_path):
    reference = nbformat.read(str(course.release_notebook(UNIT)), as_version=4)
    notebook = nbformat.read(str(_solved_lesson(course, tmp_path)), as_version=4)
    for cell in notebook.cells:
        cell.metadata = {}
        cell["id"] = "zz" + cell["id"]
    repaired = reattach_metadata(notebook, reference)
    graded = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata]
    assert graded == [c.metadata["nbgrader"]["grade_id"] for c in reference.cells if "nbgrader" in c.metadata]
    assert repaired == len(graded)


@pytest.mark.slow
def test_a_bad_answer_costs_only_its_own_points(course, tmp_path):
    mine = _solved_lesson(course, tmp_path)

    def loop_forever(notebook):
        cell = _cell(notebook, "count_pixels")
        cell.source = "def count_pixels(mask, label):\n    return 0\nwhile True:\n    pass"
        cell.metadata["tags"] = ["timeout-100000"]  # the learner's own tag is never honoured

    _edit(mine, loop_forever)
    start = time.perf_counter()
    result = submit(course, UNIT, mine, limits=Limits(cell_timeout=5))
    assert result.exit_code == POINTS_MISSING, result.table()
    assert {s.grade_id: s.points for s in result.scores} == {"test_count_pixels": 0, "test_double": 2}
    assert time.perf_counter() - start < 100, "the cell's timeout must be capped by the grader"


@pytest.mark.slow
def test_a_deleted_test_cell_is_put_back_and_graded(course, tmp_path):
    mine = _solved_lesson(course, tmp_path)
    _edit(mine, lambda n: n.cells.remove(_cell(n, "test_double")))
    result = submit(course, UNIT, mine)
    assert result.exit_code == FULL_MARKS, result.table()


@pytest.mark.slow
def test_a_killed_kernel_keeps_the_points_earned_before_it(course, tmp_path):
    mine = _solved_lesson(course, tmp_path)
    _edit(mine, lambda n: setattr(_cell(n, "double"), "source", "import os\nos._exit(1)"))
    result = submit(course, UNIT, mine)
    assert result.exit_code == POINTS_MISSING, result.table()
    assert {s.grade_id: s.points for s in result.scores} == {"test_count_pixels": 1, "test_double": 0}
    assert "kernel died" in result.table()


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


# ---- Colab: the setup cell and the device hint ---------------------------------------------


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


# ---- make lab: the nbgrader panels a self-study learner sees ------------------------------------


def _lab_config(monkeypatch, config_path: str | None) -> tuple[dict, dict]:
    """The page config JupyterLab would send (disabled plugins) and the server extensions it
    would load, with JUPYTER_CONFIG_PATH as the Makefile sets it (or unset)."""
    from jupyter_core.application import JupyterApp
    from jupyter_core.paths import jupyter_path
    from jupyter_server.serverapp import ServerApp
    from jupyterlab_server.config import get_page_config

    if config_path is None:
        monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    else:
        monkeypatch.setenv("JUPYTER_CONFIG_PATH", config_path)
    page = get_page_config([str(Path(p) / "labextensions") for p in jupyter_path()])
    app = ServerApp()
    JupyterApp.initialize(app, argv=[])  # reads the config files only; starts nothing
    app.find_server_extensions()
    return set(page["disabledExtensions"]), dict(app.jpserver_extensions)


def test_make_lab_turns_off_assignment_list_and_instructor_panels_but_keeps_validate(monkeypatch):
    makefile = (REPO / "Makefile").read_text()
    lab_recipe = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert 'JUPYTER_CONFIG_PATH="$(SELF_STUDY_CONFIG)' in lab_recipe and "--notebook-dir=work" in lab_recipe
    assert "SELF_STUDY_CONFIG := $(CURDIR)/.jupyter/self-study" in makefile
    disabled, server = _lab_config(monkeypatch, str(REPO / ".jupyter" / "self-study"))
    for plugin in ("assignment-list", "course-list", "formgrader", "create-assignment"):
        assert f"@jupyter/nbgrader:{plugin}" in disabled, f"make lab should hide nbgrader's {plugin}"
    assert not {"@jupyter/nbgrader:validate-assignment", "@jupyter/nbgrader:menu"} & disabled, "Validate stays"
    for extension in ("assignment_list", "course_list", "formgrader"):
        assert server.get(f"nbgrader.server_extensions.{extension}") is False
    assert server.get("nbgrader.server_extensions.validate_assignment") is True
    # make lab-instructor does not read that folder, and turns every panel back on in .venv.
    instructor_recipe = makefile.split("\nlab-instructor:", 1)[1].split("\n\n", 1)[0]
    assert "SELF_STUDY" not in instructor_recipe and "labextension enable" in instructor_recipe
    assert "@jupyter/nbgrader:assignment-list" in makefile.split("INSTRUCTOR_PLUGINS :=", 1)[1].split("\n", 1)[0]
