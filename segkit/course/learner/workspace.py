"""The learner's working copy: ``work/UNIT/`` beside ``lessons/``, ignored by git.

``lessons/`` is the course's, and ``git pull`` updates it; a learner who wrote into it would
meet their own answers as merge conflicts. So ``make lab`` serves ``work/`` instead, filled from
``lessons/`` by :func:`update`: files that are missing are copied, files that exist are never
touched. A lesson the course has changed since it was copied is reported, and :func:`reset`
starts that unit afresh (the old notebook is kept as a backup beside it).

``work/.copied.json`` records the lesson version each file was copied from, so that ``update``
can tell "the course changed this lesson" from "you changed your copy".
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from segkit.course.config import UNIT_PATTERN, Course, CourseError

WORK_DIR = "work"
RECORD = ".copied.json"
SKIPPED = {".ipynb_checkpoints", "__pycache__"}


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)     # units new in work/
    files: list[str] = field(default_factory=list)     # files copied into units already there
    changed: list[str] = field(default_factory=list)   # units whose lesson changed since copied

    def lines(self, course: Course) -> list[str]:
        where = work_dir(course).relative_to(course.root)
        lines = [f"new in {where}/: {unit}" for unit in self.added]
        lines += [f"added {where}/{path}" for path in self.files]
        lines += [
            f"the course updated lessons/{unit} since you copied it; your {where}/{unit} is kept. "
            f"To start it afresh: python -m segkit.course reset {unit}"
            for unit in self.changed
        ]
        return lines


def work_dir(course: Course) -> Path:
    return course.root / WORK_DIR


def work_notebook(course: Course, unit: str) -> Path:
    return work_dir(course) / unit / f"{unit}.ipynb"


def default_submission(course: Course, unit: str) -> tuple[Path, str]:
    """The notebook ``submit UNIT`` grades without ``--from``, and a note when it is not the
    learner's working copy (empty otherwise)."""
    mine = work_notebook(course, unit)
    if mine.is_file():
        return mine, ""
    lesson = course.release_notebook(unit)
    where = mine.relative_to(course.root)
    return lesson, (f"note: you have no working copy {where} (`make lab` or `python -m segkit.course update` "
                    f"makes one); grading the untouched lesson {lesson.relative_to(course.root)} instead")


def released_units(course: Course) -> list[str]:
    """Units that have a lesson folder in ``lessons/``, sorted."""
    if not course.release_dir.is_dir():
        return []
    return sorted(p.name for p in course.release_dir.iterdir() if p.is_dir() and UNIT_PATTERN.match(p.name))


def update(course: Course) -> UpdateReport:
    """Copy into ``work/`` every lesson file it lacks; never overwrite or delete a file there."""
    report = UpdateReport()
    work = work_dir(course)
    copied = _read_record(work)
    for unit in released_units(course):
        new_unit = not (work / unit).exists()
        for lesson_file in _lesson_files(course, unit):
            relative = lesson_file.relative_to(course.release_dir).as_posix()
            target = work / relative
            digest = _digest(lesson_file)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(lesson_file, target)
                copied[relative] = digest
                if not new_unit:
                    report.files.append(relative)
            elif copied.get(relative, digest) != digest and unit not in report.changed:
                report.changed.append(unit)
        if new_unit:
            report.added.append(unit)
    _write_record(work, copied)
    return report


def reset(course: Course, unit: str) -> tuple[Path, Path | None]:
    """Start ``unit`` afresh: the working notebook becomes a fresh copy of the lesson.

    The old notebook is renamed ``UNIT.backup-YYYYmmdd-HHMMSS.ipynb`` beside it (returned
    second; ``None`` if there was none). Other files in ``work/UNIT`` are left alone; missing
    ones are copied back.
    """
    unit = course.require_unit(unit)
    lesson = course.release_notebook(unit)
    if not lesson.is_file():
        raise CourseError(f"{lesson.relative_to(course.root)} is missing: this unit has no lesson to start from")
    mine = work_notebook(course, unit)
    backup = None
    if mine.exists():
        backup = mine.with_name(f"{unit}.backup-{time.strftime('%Y%m%d-%H%M%S')}.ipynb")
        n = 1
        while backup.exists():
            backup = mine.with_name(f"{unit}.backup-{time.strftime('%Y%m%d-%H%M%S')}-{n}.ipynb")
            n += 1
        mine.rename(backup)
    update(course)  # copies the lesson's notebook (and any missing file) and records its version
    return mine, backup


def _lesson_files(course: Course, unit: str) -> list[Path]:
    folder = course.release_dir / unit
    return sorted(p for p in folder.rglob("*") if p.is_file() and not SKIPPED & set(p.relative_to(folder).parts))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_record(work: Path) -> dict[str, str]:
    try:
        return json.loads((work / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_record(work: Path, copied: dict[str, str]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    (work / RECORD).write_text(json.dumps(dict(sorted(copied.items())), indent=1) + "\n", encoding="utf-8")
