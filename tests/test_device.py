"""segkit.device: device choice (CUDA, then MPS, then CPU), the Colab GPU hint, seeding, timing."""
from __future__ import annotations

import os
import random
import sys
import types
import warnings

import numpy as np
import pytest
import torch

from segkit.device import COLAB_GPU_HINT, get_device, seed_everything


@pytest.fixture
def no_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.delenv("SEGKIT_DEVICE", raising=False)


def test_get_device_tells_how_to_enable_colab_gpu(monkeypatch, no_colab):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("segkit.device._mps_available", lambda: False)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    with pytest.warns(UserWarning, match="Runtime > Change runtime type"):
        assert get_device() == torch.device("cpu")
    assert "T4 GPU" in COLAB_GPU_HINT


def test_get_device_prefers_cuda_then_mps_then_cpu(monkeypatch, no_colab):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("segkit.device._mps_available", lambda: True)
    assert get_device() == torch.device("mps")
    monkeypatch.setattr("segkit.device._mps_available", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Colab hint off Colab
        assert get_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


def test_get_device_honours_an_explicit_choice_and_the_environment(monkeypatch, no_colab):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("SEGKIT_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_get_device_rejects_unavailable_or_unknown_devices(monkeypatch, no_colab):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("segkit.device._mps_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        get_device("cuda")
    with pytest.raises(ValueError, match="MPS is not available"):
        get_device("mps")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        get_device("gpu")


def test_seed_everything_repeats_python_numpy_and_torch():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    seed_everything(3)
    first = draw()
    generator = seed_everything(3)
    assert draw() == first
    assert torch.equal(torch.rand(2, generator=generator), torch.rand(2, generator=torch.Generator().manual_seed(3)))
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(-1)


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_cpu_threads_are_one_on_small_machines_and_half_the_idle_cores_on_big_ones(monkeypatch):
    import segkit.device as device

    for name in ("SEGKIT_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 16)  # torch's default on a 16-core machine
    spinning = [(1, 0, 1), (2, 0, 1), (2, 1, 1), (4, 0, 2), (16, 0, 8), (16, 12, 2), (16, 20, 1)]
    sleeping = [(1, 0, 1), (2, 0, 1), (2, 1, 1), (4, 0, 4), (16, 0, 16), (16, 12, 4), (16, 20, 1)]
    for policy, cases in (("", spinning), ("PASSIVE", sleeping)):
        monkeypatch.setenv("OMP_WAIT_POLICY", policy)
        for cores, busy, expected in cases:
            monkeypatch.setattr(device, "usable_cores", lambda: cores)
            monkeypatch.setattr(device, "busy_cores", lambda: float(busy))
            assert device.choose_cpu_threads() == expected, f"{cores} cores, {busy} busy, OMP_WAIT_POLICY={policy!r}"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert device.choose_cpu_threads() == 3, "an explicit OMP_NUM_THREADS wins"
    monkeypatch.setenv("SEGKIT_THREADS", "5")
    assert device.choose_cpu_threads() == 5, "SEGKIT_THREADS wins"
    assert device.usable_cores() >= 1 and device.busy_cores() >= 0


def test_get_device_applies_the_thread_choice_once_per_process(monkeypatch, no_colab, restore_threads):
    import segkit.device as device

    monkeypatch.setattr(device, "_threads_chosen", False)
    monkeypatch.setattr(device, "choose_cpu_threads", lambda: 1)
    torch.set_num_threads(2)
    get_device("cpu")
    assert torch.get_num_threads() == 1, "the first get_device() sets segkit's thread choice"
    torch.set_num_threads(2)  # the learner's own choice afterwards is kept
    get_device()
    assert torch.get_num_threads() == 2
    with pytest.raises(ValueError, match="positive int"):
        device.set_cpu_threads(0)


def test_the_lessons_setup_cell_applies_the_thread_choice():
    """What a learner's kernel runs first: segkit.get_device() in a fresh process."""
    import subprocess

    from segkit.course.config import setup_cell_source

    code = "import torch\ntorch_default = torch.get_num_threads()\n" + setup_cell_source("https://github.com/o/r") + (
        "\nimport segkit.device as d"
        "\nprint(torch_default, torch.get_num_threads(), d._threads_chosen, d.usable_cores())"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "SEGKIT_THREADS", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    _, threads, chosen, cores = out.stdout.split()[-4:]
    assert chosen == "True", out.stdout
    if int(cores) <= 2:
        assert threads == "1", f"on {cores} cores the setup cell should leave torch at 1 thread, got {threads}"
    # Under make lab and the grader, waiting threads sleep: at most one thread per core.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**env, "OMP_WAIT_POLICY": "PASSIVE"})
    torch_default, threads, chosen, cores = out.stdout.split()[-4:]
    assert chosen == "True" and 1 <= int(threads) <= min(int(cores), int(torch_default)), out.stdout
    if int(cores) <= 2:
        assert threads == "1", out.stdout


def test_make_lab_and_the_grader_let_waiting_threads_sleep(tmp_path, monkeypatch):
    from pathlib import Path

    from traitlets.config import Config

    from segkit.course.nbgrader_settings import configure

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    lab_recipe = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "OMP_WAIT_POLICY=$(OMP_WAIT_POLICY)" in lab_recipe and "OMP_WAIT_POLICY ?= PASSIVE" in makefile
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    configure(Config(), tmp_path)  # grading kernels inherit the grader's environment
    assert os.environ.get("OMP_WAIT_POLICY") == "PASSIVE"


def test_measure_times_each_call_on_both_clocks_after_the_warm_up():
    import time

    from segkit.device import measure

    calls = []

    def nap():
        calls.append(1)
        time.sleep(0.02)

    timing = measure(nap, repeats=3, warmup=2)
    assert len(calls) == 5 and len(timing.wall) == len(timing.cpu) == 3
    assert all(0.02 <= t < 1.0 for t in timing.wall), "a 20 ms sleep takes at least 20 ms of wall-clock time"
    assert timing.cpu_median < 0.015, "sleeping costs no CPU time"
    assert timing.wall_min <= timing.wall_median <= max(timing.wall)
    assert timing.wall_mean == pytest.approx(sum(timing.wall) / 3) and timing.peak_memory is None


def test_measure_cpu_time_adds_up_to_the_process_clock():
    import time

    from segkit.device import measure

    x = torch.rand(256, 256)
    start = time.process_time()
    timing = measure(lambda: x @ x, repeats=20, warmup=0)
    total = time.process_time() - start
    assert 0 < sum(timing.cpu) <= total + 1e-9, "the calls' CPU seconds are part of the process's"
    assert timing.cpu_mean == pytest.approx(sum(timing.cpu) / 20)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="resident memory is read from /proc")
def test_measure_sees_the_peak_memory_of_a_large_temporary():
    from segkit.device import measure

    def allocate():
        return float(torch.ones(16 * 2**20 // 4 * 4).sum())  # 64 MiB, freed on return

    timing = measure(allocate, repeats=1, memory=True)
    if timing.peak_memory is None:
        pytest.skip("/proc/self/clear_refs is not writable here")
    assert 48 * 2**20 <= timing.peak_memory < 512 * 2**20


def test_measure_rejects_bad_counts():
    from segkit.device import measure

    with pytest.raises(ValueError, match="repeats must be a positive int, got 0"):
        measure(lambda: None, repeats=0)
    with pytest.raises(TypeError, match="warmup must be a non-negative int"):
        measure(lambda: None, warmup=1.5)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_measure_waits_for_the_gpu_and_reads_its_peak_memory():
    from segkit.device import measure

    x = torch.rand(2048, 2048, device="cuda")
    timing = measure(lambda: (x @ x).sum(), repeats=3, device="cuda", memory=True)
    assert timing.peak_memory >= 2048 * 2048 * 4 and min(timing.wall) > 0
