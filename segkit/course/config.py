"""Course-wide settings: where the course lives, its repository address, badge and setup cell.

Everything a unit's header must agree on is derived here from one value, the repository URL in
``pyproject.toml`` (``[project.urls] Repository``), so a fork changes one line.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

UNIT_PATTERN = re.compile(r"^(\d\d)-([a-z0-9]+(?:-[a-z0-9]+)*)$")
SOURCE_DIR = "solutions"
RELEASE_DIR = "lessons"

# Cell ids every unit's header uses; `check` looks them up by id.
BADGE_CELL_ID = "colab-badge"
SETUP_CELL_ID = "setup"
OBJECTIVES_HEADING = "## Learning objectives"


class CourseError(RuntimeError):
    """A course-tooling failure with a message meant for the person at the keyboard."""


def find_course_root(start: Path | None = None) -> Path:
    """The folder holding ``nbgrader_config.py`` and ``solutions/``: searched upward from
    ``start`` (default: the current folder), then beside the installed segkit package."""
    candidates = []
    here = (start or Path.cwd()).resolve()
    candidates.extend([here, *here.parents])
    candidates.append(Path(__file__).resolve().parents[2])
    for folder in candidates:
        if (folder / "nbgrader_config.py").is_file() and (folder / SOURCE_DIR).is_dir():
            return folder
    raise CourseError(
        "no course found: run this inside a clone of the course repository "
        "(the folder with nbgrader_config.py and solutions/)"
    )


@dataclass(frozen=True)
class Course:
    """A course checkout on disk."""

    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> "Course":
        return cls(find_course_root(start))

    @property
    def source_dir(self) -> Path:
        return self.root / SOURCE_DIR

    @property
    def release_dir(self) -> Path:
        return self.root / RELEASE_DIR

    @cached_property
    def repository_url(self) -> str:
        pyproject = self.root / "pyproject.toml"
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            url = data["project"]["urls"]["Repository"]
        except (OSError, KeyError, tomllib.TOMLDecodeError) as err:
            raise CourseError(f"{pyproject}: [project.urls] Repository is missing ({err})") from err
        match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", url)
        if not match:
            raise CourseError(f"{pyproject}: Repository must be a https://github.com/OWNER/REPO URL, got {url!r}")
        return f"https://github.com/{match[1]}/{match[2]}"

    def units(self) -> list[str]:
        """Unit names (``NN-slug``) found in ``solutions/``, sorted."""
        if not self.source_dir.is_dir():
            return []
        return sorted(p.name for p in self.source_dir.iterdir() if p.is_dir() and UNIT_PATTERN.match(p.name))

    def source_notebook(self, unit: str) -> Path:
        return self.source_dir / unit / f"{unit}.ipynb"

    def release_notebook(self, unit: str) -> Path:
        return self.release_dir / unit / f"{unit}.ipynb"

    def require_unit(self, unit: str) -> str:
        """Return ``unit`` if it exists, else raise with the list of known units."""
        unit = unit.strip("/").split("/")[-1]
        if unit not in self.units():
            raise CourseError(f"unknown unit {unit!r}; units in {SOURCE_DIR}/: {', '.join(self.units()) or 'none'}")
        return unit

    # ---- the course-wide header every unit carries -------------------------------------------

    def colab_url(self, unit: str) -> str:
        path = self.repository_url.removeprefix("https://github.com/")
        return f"https://colab.research.google.com/github/{path}/blob/main/{RELEASE_DIR}/{unit}/{unit}.ipynb"

    def badge_markdown(self, unit: str) -> str:
        return (
            f'<a href="{self.colab_url(unit)}" target="_parent">'
            '<img src="https://colab.research.google.com/assets/colab-badge.svg" alt="Open In Colab"/></a>'
        )

    def setup_source(self) -> str:
        return setup_cell_source(self.repository_url)


def setup_cell_source(repository_url: str) -> str:
    """The setup cell every unit starts with (identical in all units).

    On Colab it installs segkit from the repository when it is missing, with ``--no-deps`` so
    that Colab's own torch/torchvision are never replaced (all of segkit's other dependencies are
    preinstalled there). Elsewhere it installs nothing. Then it picks the device.
    """
    return f'''\
# Setup: run this cell first. On Colab it installs segkit (Colab's own torch is kept);
# on your machine (`make lab`) everything is installed already and nothing is downloaded.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("segkit") is None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "git+{repository_url}"],
        check=True,
    )

import segkit

device = segkit.get_device()
print(f"segkit {{segkit.__version__}}, running on {{device}}")'''
