"""segkit.course.grading.environment: the one environment of every grading kernel.

Nothing comes from whoever runs the grader (an instructor's PYTHONWARNINGS, a learner's thread
settings, secrets), one thread, and quiet: anything on stderr in a test cell scores 0.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import segkit
from segkit.course.authoring import wrong_answers
from segkit.course.grading import environment
from segkit.course.grading.execute import Kernel as GraderKernel
from segkit.course.grading.execute import kernel_env as grader_kernel_env
from segkit.course.nbgrader_settings import QUIET_KERNEL_ENV
from segkit.course.sandbox import data_paths

HOSTILE = {  # what a grader's or learner's shell may hold
    "PYTHONWARNINGS": "default", "TQDM_DISABLE": "0", "OMP_NUM_THREADS": "16", "MKL_NUM_THREADS": "16",
    "PYTHONPATH": "/somewhere/else", "PYTHONSTARTUP": "/tmp/startup.py", "LD_PRELOAD": "/tmp/evil.so",
    "HOME": "/root/instructor", "AWS_SECRET_ACCESS_KEY": "secret", "CUDA_VISIBLE_DEVICES": "3", "PYTHONHASHSEED": "random",
}


def test_nothing_is_inherited_from_the_graders_environment(monkeypatch):
    for name in HOSTILE:
        monkeypatch.delenv(name, raising=False)
    clean = environment.kernel_env("/course/lib", home="/tmp/home")
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    hostile = environment.kernel_env("/course/lib", home="/tmp/home")
    assert hostile == clean
    assert not {"PYTHONSTARTUP", "LD_PRELOAD", "AWS_SECRET_ACCESS_KEY", "CUDA_VISIBLE_DEVICES"} & set(hostile)
    assert "secret" not in hostile.values() and "/somewhere/else" not in hostile["PYTHONPATH"]


def test_one_thread_quiet_and_a_private_home():
    env = environment.kernel_env("/course/lib", home="/tmp/home")
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert QUIET_KERNEL_ENV.items() <= env.items()
    assert env["PYTHONWARNINGS"] == "ignore" and env["TQDM_DISABLE"] == "1"
    assert env["HOME"] == "/tmp/home"
    for name in ("MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR"):
        assert env[name].startswith("/tmp/home/"), name
    assert env["PYTHONPATH"] == "/course/lib" and env["PYTHONNOUSERSITE"] == "1" and env["PYTHONHASHSEED"] == "0"
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert {name: env[name] for name in data_paths()} == {name: str(path) for name, path in data_paths().items()}


def test_the_default_pythonpath_is_the_graders_own_segkit():
    env = environment.kernel_env()
    assert Path(env["PYTHONPATH"]) == Path(segkit.__file__).resolve().parents[1]
    assert environment.segkit_pythonpath() == env["PYTHONPATH"]


def test_grader_and_wrong_answer_harness_start_the_same_kernel():
    """The harness judges answers in the kernel (and so the environment) real grading uses."""
    assert wrong_answers.Kernel is GraderKernel
    assert grader_kernel_env is environment.kernel_env


@pytest.mark.slow
def test_a_process_in_that_environment_is_single_threaded_and_silent(tmp_path, monkeypatch):
    """What the kernel sees: torch on one thread, warnings and progress bars write nothing to stderr."""
    monkeypatch.setenv("PYTHONWARNINGS", "error")
    code = (
        "import warnings, torch\n"
        "from tqdm.auto import tqdm\n"
        "warnings.warn('a warning a test cell would score 0 for')\n"
        "list(tqdm(range(3)))\n"
        "print(torch.get_num_threads())\n"
    )
    env = environment.kernel_env(home=str(tmp_path))
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert run.stdout.split() == ["1"]
    assert os.environ["PYTHONWARNINGS"] == "error"  # the grader's own setting, untouched
