"""segkit.device: device choice (CUDA, then MPS, then CPU), the Colab GPU hint, seeding."""
from __future__ import annotations

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
