"""segkit.course.authoring.private: a private overlay's hidden tests must differ from the public ones."""
from __future__ import annotations

import copy

import nbformat
import pytest

from course_fixtures import METRICS_UNIT as UNIT
from course_fixtures import REPO
from segkit.course.config import Course

COURSE = Course(REPO)


@pytest.mark.slow
def test_check_private_accepts_other_hidden_tests_and_refuses_the_public_ones(tmp_path):
    from segkit.course.authoring.private import check_private

    source = nbformat.read(str(COURSE.source_notebook(UNIT)), as_version=4)
    for name, change in (("good", "assert 1 + 1 == 2, 'a private case'\n### END HIDDEN TESTS"), ("same", "### END HIDDEN TESTS")):
        notebook = copy.deepcopy(source)
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = cell.source.replace("### END HIDDEN TESTS", change)
        path = tmp_path / name / "solutions" / UNIT / f"{UNIT}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, str(path))
    assert check_private(COURSE, tmp_path / "good") == []
    assert any("are the public ones" in p for p in check_private(COURSE, tmp_path / "same"))


@pytest.mark.slow
def test_capstone_overlay_needs_only_new_seeds(tmp_path):
    """The capstone's tier cells have no hidden tests: an overlay changes the hidden split's seed and
    test_evaluate_miou's case seed, and nothing else."""
    from segkit.course.authoring.private import check_private

    unit = "12-capstone"
    text = COURSE.source_notebook(unit).read_text()
    assert "CAPSTONE_SEED = 4_406_118_027_913_577" in text and "manual_seed(2)   # a private" in text
    for name, replaced in (("both", text.replace("CAPSTONE_SEED = 4_406_118_027_913_577", "CAPSTONE_SEED = 1234").replace(
                               "manual_seed(2)   # a private", "manual_seed(9)   # a private")),
                           ("seed-only", text.replace("CAPSTONE_SEED = 4_406_118_027_913_577", "CAPSTONE_SEED = 1234"))):
        path = tmp_path / name / "solutions" / unit / f"{unit}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(replaced)
    comment = text.replace("CAPSTONE_SEED = 4_406_118_027_913_577   # the hidden split", "CAPSTONE_SEED = 4_406_118_027_913_577   # changed comment")
    path = tmp_path / "comment-only" / "solutions" / unit / f"{unit}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(comment)
    assert check_private(COURSE, tmp_path / "both") == []
    assert any("test_evaluate_miou are the public ones" in p for p in check_private(COURSE, tmp_path / "seed-only"))
    assert any("test_handin" in p and "are the public ones" in p for p in check_private(COURSE, tmp_path / "comment-only"))
