"""Hidden tests that are not in the public repository: a private overlay.

This repository is public, ``solutions/`` included, so its hidden tests are known to anyone who
looks. An instructor keeps a **private overlay**, a folder outside the repository (a private git
repository, say) with the same layout::

    private/solutions/03-measuring-quality/03-measuring-quality.ipynb

It is a copy of the public source notebook whose test cells carry other hidden tests (other cases,
other seeds); everything learners see is unchanged, so the lesson generated from it is
byte-identical to the public ``lessons/UNIT``. ``grade UNIT --private-overlay DIR`` grades with its
tests; ``check --private DIR`` verifies the overlay.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat

from segkit.course.config import Course, CourseError
from segkit.course.nbgrader_settings import HIDDEN_BLOCK


def _overlay_course(course: Course, overlay: Path, unit: str, scratch: Path) -> Course:
    from segkit.course.authoring.release import generate, make_scratch_course, nbgrader_api

    source = Path(overlay) / "solutions" / unit
    if not (source / f"{unit}.ipynb").is_file():
        raise CourseError(f"the private overlay has no solutions/{unit}/{unit}.ipynb")
    private = make_scratch_course(course, scratch, [unit])  # the public unit's files and settings ...
    shutil.copytree(source, private.source_dir / unit, dirs_exist_ok=True)  # ... under the private ones
    generate(nbgrader_api(private.root), unit)
    return private


def private_reference(course: Course, unit: str, overlay: Path, scratch: Path):
    """The grading reference (tests, points) generated from the overlay's source of ``unit``,
    after checking that learners' notebooks match it."""
    from segkit.course.grading import Reference

    private = _overlay_course(course, overlay, unit, scratch)
    problems = _compare(course, private, unit)
    if problems:
        raise CourseError("private overlay: " + "; ".join(problems))
    return Reference.load(private, unit)


def _hidden(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Grade id -> the hidden tests' code, comments and blank lines left out (a changed comment is
    not a private test)."""
    def code(text: str) -> str:
        lines = (re.sub(r"\s+#.*$|^\s*#.*$", "", line).rstrip() for line in text.splitlines())
        return "\n".join(line for line in lines if line)

    return {c.metadata["nbgrader"]["grade_id"]: code("".join(HIDDEN_BLOCK.findall(c.source)))
            for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")}


def _compare(course: Course, private: Course, unit: str) -> list[str]:
    problems = []
    public_lesson, private_lesson = course.release_notebook(unit), private.release_notebook(unit)
    if not public_lesson.is_file():
        return [f"lessons/{unit} is missing: release the unit first"]
    if private_lesson.read_bytes() != public_lesson.read_bytes():
        problems.append(f"solutions/{unit}: the lesson generated from it differs from the public lessons/{unit} "
                        "(learners' notebooks would not match its tests: change only hidden tests)")
    public_hidden = _hidden(nbformat.read(str(course.source_notebook(unit)), as_version=4))
    private_hidden = _hidden(nbformat.read(str(private.source_notebook(unit)), as_version=4))
    same = [g for g, text in private_hidden.items() if text.strip() and text == public_hidden.get(g)]
    if same:
        problems.append(f"solutions/{unit}: hidden tests of {', '.join(same)} are the public ones")
    # a test cell without public hidden tests (the capstone's tier cells) needs no private ones
    empty = [g for g, text in private_hidden.items() if public_hidden.get(g, "").strip() and not re.search(r"\bassert\b", text)]
    if empty:
        problems.append(f"solutions/{unit}: no private hidden assertion in {', '.join(empty)}")
    return problems


def check_private(course: Course, overlay: Path) -> list[str]:
    """Problems with a private overlay: one line each (empty: fine)."""
    from segkit.course.authoring.check import check_source

    overlay = Path(overlay).resolve()
    problems = []
    if not (overlay / "solutions").is_dir():
        return [f"{overlay}: no solutions/ folder"]
    if overlay == course.root or course.root in overlay.parents:
        tracked = subprocess.run(["git", "-C", str(course.root), "ls-files", "--", str(overlay)], capture_output=True, text=True).stdout
        if tracked.strip() or not _ignored(course.root, overlay):
            problems.append(f"{overlay}: inside the public repository and not git-ignored: its hidden tests would be published")
    units = sorted(p.name for p in (overlay / "solutions").iterdir() if p.is_dir())
    if not units:
        problems.append(f"{overlay}/solutions: no units")
    for unit in units:
        try:
            course.require_unit(unit)
        except CourseError as err:
            problems.append(f"private overlay: {err}")
            continue
        with tempfile.TemporaryDirectory(prefix="segkit-private-") as tmp:
            try:
                private = _overlay_course(course, overlay, unit, Path(tmp))
            except CourseError as err:
                problems.append(f"private overlay: {err}")
                continue
            source = nbformat.read(str(private.source_notebook(unit)), as_version=4)
            problems += [f"private overlay: {p}" for p in check_source(source, f"solutions/{unit}/{unit}.ipynb", course, unit)]
            problems += [f"private overlay: {p}" for p in _compare(course, private, unit)]
    return problems


def _ignored(root: Path, path: Path) -> bool:
    return subprocess.run(["git", "-C", str(root), "check-ignore", "-q", str(path)], capture_output=True).returncode == 0
