"""Course tooling for instructors and learners: ``python -m segkit.course VERB`` (``--help``).

Laid out by where its code runs, on either side of the grading trust boundary::

    kernel/        inside a learner's kernel (test-cell helpers, claims, the capstone hand-in);
                   imports nothing else of segkit.course, never nbgrader
    grading/       the trusted grader: reference -> assemble -> scan -> execute -> score -> record
    sandbox.py     Linux confinement of a kernel, and the one process-tree reader
    authoring/     instructor tools: notebook builders, release, check, private overlays,
                   new-unit scaffold, the wrong-answer harness
    learner/       learner tools: the working copy (update, reset) and submit

plus ``config`` (the course's folders and URLs), ``cells`` (what a cell is: nbgrader metadata,
tags, timeouts), ``nbgrader_settings`` (nbgrader's configuration) and ``__main__`` (the CLI).
The learning library never imports this package (a layering test enforces it).
"""
from segkit.course.config import Course, CourseError

__all__ = ["Course", "CourseError"]
