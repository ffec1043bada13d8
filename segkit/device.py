"""Device selection and seeding. Built in lessons/00-getting-started."""
from __future__ import annotations

import os
import random
import sys
import warnings

import numpy as np
import torch

COLAB_GPU_HINT = (
    "No GPU found. On Colab, turn one on with Runtime > Change runtime type > "
    "Hardware accelerator: T4 GPU, then run the notebook again. Continuing on the CPU."
)


def running_on_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the fastest available device: CUDA, then Apple's MPS, then the CPU.

    Args:
        prefer: force a device ("cpu", "cuda", "cuda:1", "mps"); ``None`` picks automatically.
            The environment variable ``SEGKIT_DEVICE`` does the same without code changes.

    Returns:
        A ``torch.device``. On Colab without a GPU a ``UserWarning`` says how to turn one on.

    Raises:
        ValueError: ``prefer`` names a device that is not available here.
    """
    prefer = prefer or os.environ.get("SEGKIT_DEVICE") or None
    if prefer is not None:
        try:
            device = torch.device(prefer)
        except RuntimeError as err:
            raise ValueError(f"unknown device {prefer!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps'") from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {prefer!r} was asked for, but CUDA is not available here")
        if device.type == "mps" and not _mps_available():
            raise ValueError(f"device {prefer!r} was asked for, but MPS is not available here")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    if running_on_colab():
        warnings.warn(COLAB_GPU_HINT, stacklevel=2)
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) so a run can be repeated.

    Returns a ``torch.Generator`` seeded with ``seed``, handy for DataLoader shuffling.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)
