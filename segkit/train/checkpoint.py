"""Save and resume a training run exactly: weights, optimizer, schedule, epoch, history, RNGs.

Built in lessons/07-training-in-practice.
"""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from segkit.train.distributed import unwrap


def rng_state() -> dict[str, Any]:
    """The state of every random generator a training loop draws from (Python, NumPy, torch)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore generators saved by :func:`rng_state`."""
    random.setstate(_as_tuples(state["python"]))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuples(value: Any) -> Any:
    # random.setstate needs tuples; a round trip through torch.save may hand back lists.
    return tuple(_as_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **state: Any) -> Path:
    """Write ``model``'s weights plus ``state`` to ``path``, atomically.

    Objects with a ``state_dict`` (optimizer, scheduler, GradScaler, generators' states are
    plain tensors) are stored through it; everything else (epoch, history) as is. The RNG states
    are added under "rng". A crash while writing never leaves a half-written checkpoint.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"model": unwrap(model).state_dict(), "rng": rng_state()}
    for key, value in state.items():
        payload[key] = value.state_dict() if hasattr(value, "state_dict") else value
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(
    path: str | os.PathLike, model: nn.Module, map_location: str | torch.device = "cpu", **objects: Any
) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` and ``objects``.

    Args:
        path: the checkpoint file.
        model: receives the weights (a DDP wrapper is unwrapped).
        objects: name -> object with ``load_state_dict`` (optimizer=..., scheduler=...); objects
            that are ``None`` or missing from the checkpoint are skipped.

    Returns:
        The whole checkpoint dict, for the caller to read "epoch", "history" and the rest.
        The RNG states are restored as a side effect, so the run continues exactly.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train without resume first")
    payload = torch.load(path, map_location=map_location, weights_only=True)
    unwrap(model).load_state_dict(payload["model"])
    for key, obj in objects.items():
        if obj is not None and payload.get(key) is not None:
            obj.load_state_dict(payload[key])
    set_rng_state(payload["rng"])
    return payload
