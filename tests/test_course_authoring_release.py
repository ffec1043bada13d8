"""segkit.course.authoring.release: lessons/ regenerated from solutions/, byte for byte."""
from __future__ import annotations

import nbformat

from course_fixtures import UNIT, check_messages, edit_notebook, find_cell
from segkit.course.authoring.check import check_course
from segkit.course.authoring.release import release


def test_release_is_byte_identical_and_cleans_sources(course):
    lesson = course.release_notebook(UNIT)
    first = lesson.read_bytes()

    def add_output(notebook):
        cell = find_cell(notebook, "double")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
        cell.execution_count = 3
        cell.metadata["ExecuteTime"] = {"end_time": "2026-01-01"}

    edit_notebook(course.source_notebook(UNIT), add_output)
    assert "committed with outputs" in check_messages(course, sync=False)
    assert release(course, [UNIT]) == [UNIT]  # the source was cleaned
    assert lesson.read_bytes() == first
    assert check_course(course) == []


def test_release_never_copies_wrong_answers(course):
    release(course, [UNIT])
    assert (course.source_dir / UNIT / "wrong_answers.py").is_file()
    assert not list(course.release_dir.rglob("wrong_answers.py"))
