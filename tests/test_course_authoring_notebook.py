"""segkit.course.authoring.notebook: the cell builders refuse cells nbgrader would mishandle."""
from __future__ import annotations

import pytest

from segkit.course.authoring import notebook as nb


def test_builders_reject_bad_cells():
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        nb.answer("def f(): pass", id="f")
    with pytest.raises(ValueError, match="points"):
        nb.tests("assert True", id="test_f", points=0)
    with pytest.raises(ValueError, match="duplicate cell ids"):
        nb.new_notebook([nb.markdown("a", id="x"), nb.markdown("b", id="x")])
