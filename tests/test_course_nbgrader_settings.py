"""segkit.course.nbgrader_settings: nbgrader's configuration (the course layout, grading rules, the
feedback page) and the nbgrader panels ``make lab`` turns off for a self-study learner."""
from __future__ import annotations

import copy
import os
from pathlib import Path

from course_fixtures import REPO


def test_feedback_summary_names_graded_cells_and_comments():
    from segkit.course.nbgrader_settings import name_graded_cells

    toc = ('<li><a href="#comment-double">Comment</a></li>\n'
           '<li><a href="#test_double">Test cell</a> (Score: 1.5 / 2.0)</li>')
    assert name_graded_cells(toc) == ('<li><a href="#comment-double">comment on <code>double</code></a></li>\n'
                                      '<li><a href="#test_double"><code>test_double</code></a>: 1.5 / 2 points</li>')


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


def _configured(monkeypatch, root: Path):
    from traitlets.config import Config

    from segkit.course.nbgrader_settings import configure

    for name in ("PYTHONWARNINGS", "TQDM_DISABLE", "OMP_WAIT_POLICY"):  # restored after the test
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PATH", os.environ["PATH"])
    config = Config()
    configure(config, root)
    return config


def test_configure_sets_the_course_layout_and_grading_rules(monkeypatch, tmp_path):
    from segkit.course import cells
    from segkit.course.nbgrader_settings import CODE_STUB, QUIET_KERNEL_ENV, ZIP_COLLECT_PATTERN

    c = _configured(monkeypatch, tmp_path)
    assert (c.CourseDirectory.source_directory, c.CourseDirectory.release_directory) == ("solutions", "lessons")
    assert c.CourseDirectory.root == str(tmp_path.resolve()) and c.CourseDirectory.db_url == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    assert "wrong_answers.py" in c.CourseDirectory.ignore
    assert c.ClearSolutions.code_stub == {"python": CODE_STUB} and "raise NotImplementedError()" in CODE_STUB
    assert c.Execute.timeout == cells.DEFAULT_CELL_TIMEOUT and c.Execute.timeout_func is cells.timeout
    assert c.OverwriteCells.add_missing_cells is True
    assert c.FileNameCollectorPlugin.named_regexp == ZIP_COLLECT_PATTERN
    assert "segkit.course.nbgrader_settings.RedactHiddenTests" in c.GenerateFeedback.preprocessors
    assert all(os.environ[k] == v for k, v in QUIET_KERNEL_ENV.items()), "nbgrader's kernels inherit a quiet environment"
    assert "MPLBACKEND" not in os.environ, "the kernels' inline backend keeps figures in the feedback"


def test_the_repositorys_nbgrader_config_is_configure(monkeypatch):
    """nbgrader run by hand reads nbgrader_config.py: the same settings as a scratch course's."""
    from traitlets.config.loader import PyFileConfigLoader

    expected = _configured(monkeypatch, REPO)
    loaded = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    assert loaded == expected


def test_feedback_never_shows_hidden_tests_or_their_tracebacks():
    import nbformat

    from segkit.course.nbgrader_settings import REDACTED, RedactHiddenTests

    source = "assert f(1) == 2, 'visible'\n### BEGIN HIDDEN TESTS\nassert f(-7) == 0, 'secret case'\n### END HIDDEN TESTS\nprint('after')"
    error = nbformat.v4.new_output("error", ename="AssertionError", evalue="secret case",
                                   traceback=["----", "assert f(-7) == 0, 'secret case'", "AssertionError: secret case"])
    cell = nbformat.v4.new_code_cell(source, outputs=[error])
    cell, _ = RedactHiddenTests().preprocess_cell(cell, {}, 0)
    assert cell.source == f"assert f(1) == 2, 'visible'\n{REDACTED}print('after')"
    assert cell.outputs[0].traceback == ["AssertionError: secret case"]
    plain = nbformat.v4.new_code_cell("assert f(1) == 2", outputs=[copy.deepcopy(error)])
    assert RedactHiddenTests().preprocess_cell(copy.deepcopy(plain), {}, 0)[0] == plain, "cells without hidden tests are left alone"
