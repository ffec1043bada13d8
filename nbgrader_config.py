# nbgrader settings for this course; they live in segkit/course/nbgrader_settings.py so that
# `python -m segkit.course submit` grades with exactly the same ones.
from pathlib import Path

from segkit.course.nbgrader_settings import configure

configure(get_config(), Path(__file__).parent)  # noqa: F821 (get_config is given by nbgrader)
