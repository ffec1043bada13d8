"""Learning-rate schedules stepped once per iteration, over a step count or a time budget.

Built in lessons/07-training-in-practice (poly, cosine over the steps of ``fit``); the schedule on
a :class:`~segkit.train.budget.TimeBudget`'s clock is used in lessons/12-capstone.
"""
from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler

from segkit._checks import positive_int
from segkit.train.budget import TimeBudget

SCHEDULES = ("poly", "cosine")


def poly_factor(step: float, total_steps: float, power: float = 0.9) -> float:
    """DeepLab's "poly" factor ``(1 - step / total_steps) ** power``, in [0, 1]."""
    return max(0.0, 1.0 - step / total_steps) ** power


def cosine_factor(step: float, total_steps: float) -> float:
    """Cosine annealing factor ``(1 + cos(pi * step / total_steps)) / 2``, from 1 down to 0."""
    return 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))


def make_scheduler(
    name: str | LRScheduler | None, optimizer: torch.optim.Optimizer, total_steps: int
) -> LRScheduler | None:
    """Build a per-iteration schedule that multiplies every group's initial learning rate.

    Args:
        name: "poly" (power 0.9), "cosine", ``None`` (constant) or a ready ``LRScheduler``,
            which is returned unchanged (it will be stepped once per iteration).
        optimizer: the optimizer whose learning rates the schedule drives.
        total_steps: iterations in the whole run (epochs x batches per epoch), >= 1.
    """
    if name is None or isinstance(name, LRScheduler):
        return name
    total_steps = positive_int(total_steps, "total_steps")
    if name == "poly":
        return LambdaLR(optimizer, lambda step: poly_factor(step, total_steps))
    if name == "cosine":
        return LambdaLR(optimizer, lambda step: cosine_factor(step, total_steps))
    raise ValueError(f"unknown scheduler {name!r}; choose one of {SCHEDULES}, None or an LRScheduler")


def budget_scheduler(name: str, optimizer: torch.optim.Optimizer, budget: TimeBudget) -> LRScheduler:
    """A schedule that runs on the clock of ``budget`` instead of a step count.

    Every group's learning rate becomes ``initial_lr * factor(budget.fraction)`` at each
    ``scheduler.step()`` ("poly": ``(1 - fraction) ** 0.9``, "cosine": ``(1 + cos(pi fraction)) / 2``),
    so the schedule ends when the time does, however many steps fit in it. Step it once per
    iteration, after ``optimizer.step()`` (as any ``LRScheduler``; ``fit(scheduler=...)`` does).

    Args:
        name: "poly" or "cosine".
        optimizer: the optimizer whose learning rates the schedule drives.
        budget: the :class:`~segkit.train.budget.TimeBudget` the training loop runs on.
    """
    if not isinstance(budget, TimeBudget):
        raise TypeError(f"budget must be a segkit.train.TimeBudget, got {type(budget).__name__}")
    if name == "poly":
        return LambdaLR(optimizer, lambda _: poly_factor(budget.fraction, 1))
    if name == "cosine":
        return LambdaLR(optimizer, lambda _: cosine_factor(budget.fraction, 1))
    raise ValueError(f"unknown budget schedule {name!r}; choose one of {SCHEDULES}")
