"""Sphinx settings of the course website: `make site` (segkit/course/site.py) stages the pages
into .cache/site/src and builds them into _site/ with this folder as the configuration folder."""
from pathlib import Path

from segkit.course import site
from segkit.course.config import Course

course = Course.find(Path(__file__).resolve().parent)

project = site.course_title(course)
html_title = project
author = "the course's authors"
copyright = "the course's authors, MIT licence"

extensions = [
    "myst_nb",  # notebooks (pre-executed by site.execute_unit) and MyST markdown
    "sphinx.ext.autodoc",  # the segkit API reference from its docstrings
    "sphinx.ext.napoleon",  # their Args:/Returns:/Raises: sections
    "sphinx.ext.githubpages",  # .nojekyll, so GitHub Pages serves _static/ and _images/
    "segkit.course.site",  # formulas as MathML
]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3  # README's #section links
nb_execution_mode = "off"  # executed (and cached) by segkit.course.site, not by myst-nb
nb_merge_streams = True
nb_output_stderr = "show"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"exclude-members": "__init__"}

html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": course.repository_url,  # from pyproject.toml, like the Colab badges
    "repository_branch": "main",
    "use_repository_button": True,
    "use_download_button": False,  # it offers page sources, which are not copied (html_copy_source)
    "home_page_in_toc": True,
    "show_toc_level": 2,
}
html_baseurl = site.pages_url(course.repository_url)
# A set mode: pydata-sphinx-theme logs a console error on a first visit without one.
html_context = {"default_mode": "light"}
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_math_renderer = "mathml"
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
exclude_patterns = ["_repo/**/*.md"]
# A lesson's heading levels are the author's choice (a unit may go from # to ###).
suppress_warnings = ["myst.header"]
