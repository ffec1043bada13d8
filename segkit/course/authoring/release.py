"""Generate the student notebooks in ``lessons/`` from the nbgrader sources in ``solutions/``."""
from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

import nbformat

from segkit.course.authoring import notebook as nb
from segkit.course.config import BADGE_CELL_ID, SETUP_CELL_ID, Course, CourseError
from segkit.course.nbgrader_settings import nbgrader_api

def clean_source(course: Course, unit: str) -> bool:
    """Tidy a source notebook in place; True if the file changed.

    Strips outputs and editor metadata, and rewrites the Colab badge and setup cells (found by
    their cell ids) from the course setting, so a fork that changes the repository URL only
    needs a release.
    """
    path = course.source_notebook(unit)
    before = path.read_text(encoding="utf-8")
    notebook = nb.clean(nbformat.reads(before, as_version=4))
    for cell in notebook.cells:
        if cell.get("id") == BADGE_CELL_ID and cell.cell_type == "markdown":
            cell.source = course.badge_markdown(unit)
        elif cell.get("id") == SETUP_CELL_ID and cell.cell_type == "code":
            cell.source = course.setup_source()
    after = nbformat.writes(notebook) + "\n"
    if after != before:
        path.write_text(after, encoding="utf-8")
        return True
    return False


def generate(api: NbGraderAPI, unit: str) -> None:
    """Run nbgrader's generate_assignment for ``unit`` (with ``--force``), raising on failure."""
    result = api.generate_assignment(unit, force=True, create=True)
    if not result["success"]:
        raise CourseError(f"nbgrader could not generate {unit}:\n{result['error'] or result['log']}")


def release(course: Course, units: list[str] | None = None) -> list[str]:
    """Regenerate ``lessons/UNIT`` for ``units`` (default all) and fill the gradebook.

    Sources are tidied first (see :func:`clean_source`), so a notebook saved from JupyterLab
    with outputs can be released as it is. Returns the units whose source notebook changed. Instructor command: it replaces ``lessons/UNIT``.
    """
    units = [course.require_unit(u) for u in units] if units else course.units()
    cleaned = [u for u in units if clean_source(course, u)]
    api = nbgrader_api(course.root)
    for unit in units:
        generate(api, unit)
    return cleaned


def make_scratch_course(course: Course, scratch: Path, units: list[str]) -> Course:
    """A minimal copy of the course in ``scratch`` (config + the units' sources)."""
    scratch.mkdir(parents=True, exist_ok=True)
    for name in ("nbgrader_config.py", "pyproject.toml"):  # same settings, same repository URL
        shutil.copy2(course.root / name, scratch / name)
    for unit in units:
        shutil.copytree(course.source_dir / unit, scratch / "solutions" / unit, dirs_exist_ok=True)
    return Course(scratch.resolve())


def stale_units(course: Course, units: list[str] | None = None) -> dict[str, list[str]]:
    """Units whose ``lessons/`` copy differs from a fresh generation: ``{unit: [differing files]}``.

    Generates into a temporary folder (no gradebook), so nothing in the course is touched.
    """
    units = [course.require_unit(u) for u in units] if units else course.units()
    stale: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="segkit-sync-") as tmp:
        scratch = make_scratch_course(course, Path(tmp), units)
        api = nbgrader_api(scratch.root, use_db=False)
        for unit in units:
            # The sources as committed: cleaning happens on release, so compare cleaned copies.
            clean_source(scratch, unit)
            generate(api, unit)
            fresh, committed = scratch.release_dir / unit, course.release_dir / unit
            if not committed.is_dir():
                stale[unit] = [f"{committed.relative_to(course.root)} is missing"]
                continue
            diffs = _tree_differences(fresh, committed)
            if diffs:
                stale[unit] = diffs
    return stale


def _tree_differences(fresh: Path, committed: Path) -> list[str]:
    comparison = filecmp.dircmp(fresh, committed, ignore=[".ipynb_checkpoints", "__pycache__"])
    diffs: list[str] = []

    def walk(cmp: filecmp.dircmp, prefix: str) -> None:
        diffs.extend(f"{prefix}{name} is not generated from solutions/" for name in cmp.right_only)
        diffs.extend(f"{prefix}{name} is missing" for name in cmp.left_only)
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        diffs.extend(f"{prefix}{name} differs from a fresh generation" for name in mismatch + errors)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(comparison, f"{committed.name}/")
    return diffs
