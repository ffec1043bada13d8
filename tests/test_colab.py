"""The Colab-like runtime the solutions run on (tests/colab_env.py; the runs themselves are
tests/test_course_units.py::test_solution_runs_on_colab_and_scores_full_marks): it is what a learner
on Colab has, and nothing of this repository leaks into it."""
from __future__ import annotations

import json
import subprocess

import pytest

from segkit.course.grading.environment import kernel_env
from segkit.course.sandbox import KERNEL_PYTHON_VARIABLE

pytestmark = [pytest.mark.colab, pytest.mark.slow]

PROBE = r"""
import importlib.metadata, importlib.util, json, sys
import segkit
from segkit import assets
from segkit.data import load_frozen_split
try:
    assets.datasets_root()
    datasets = "found"
except FileNotFoundError:
    datasets = "missing"
direct = importlib.metadata.distribution("segkit").read_text("direct_url.json")
print(json.dumps({
    "colab": "google.colab" in sys.modules,
    "segkit": segkit.__file__,
    "sys_path": sys.path,
    "datasets": datasets,
    "default_root": str(assets.default_root()),
    "fetches_on_first_use": assets.fetches_on_first_use(),
    "direct_url": json.loads(direct) if direct else None,
    "frozen": len(load_frozen_split("street")),
    "present": {m: importlib.util.find_spec(m) is not None for m in ("scipy", "skimage", "tifffile", "transformers")},
}))
"""


def test_the_colab_like_kernel_has_segkit_as_a_learner_on_colab_has_it(colab_kernel_python, monkeypatch, tmp_path):
    from colab_env import REPO

    monkeypatch.setenv(KERNEL_PYTHON_VARIABLE, str(colab_kernel_python))
    env = kernel_env(home=str(tmp_path / "home"))
    assert "PYTHONPATH" not in env and "SEGKIT_DATASETS" not in env and "SEGKIT_SAMPLES_DIR" not in env
    out = subprocess.run([str(colab_kernel_python), "-c", PROBE], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["colab"], "the google.colab stand-in is not imported at start-up"
    assert "site-packages" in seen["segkit"] and str(REPO) not in seen["segkit"]
    assert not [p for p in seen["sys_path"] if p.startswith(str(REPO))], seen["sys_path"]
    assert seen["datasets"] == "missing" and seen["fetches_on_first_use"]
    assert seen["default_root"] == str(tmp_path / "home" / ".cache" / "segkit")
    # installed by the setup cell's `pip install --no-deps git+...`: from git, not editable
    assert "vcs_info" in seen["direct_url"] and not seen["direct_url"].get("dir_info", {}).get("editable")
    assert seen["frozen"] == 64, "the frozen splits are package data"
    assert all(seen["present"].values()), seen["present"]
