"""Course tooling for instructors and learners: ``python -m segkit.course VERB``.

Verbs: ``release`` (regenerate lessons/ from solutions/), ``check`` (lint the course),
``submit`` (grade a notebook locally and print the score), ``new-unit`` (scaffold a unit).
Kept apart from the learning code; only this subpackage imports nbgrader.
"""
from segkit.course.config import Course, CourseError

__all__ = ["Course", "CourseError"]
