"""Training: ``fit`` / ``evaluate``, checkpoints, schedules, several processes, and the CLI.

Read in this order: ``loop`` (fit, evaluate), ``schedules`` (poly, cosine), ``checkpoint``
(save / resume exactly), ``distributed`` (torchrun helpers), ``cli`` (``python -m segkit.train``),
``export`` (publish a trained model to the zoo), ``budget`` (train for a time, not a step count).
Built in lessons/02-workflow and lessons/07-training-in-practice.
"""
from __future__ import annotations

from segkit.train.budget import TimeBudget
from segkit.train.checkpoint import load_checkpoint, save_checkpoint
from segkit.train.cli import main
from segkit.train.loop import EarlyStopping, evaluate, fit, split_batch
from segkit.train.schedules import budget_scheduler, cosine_factor, make_scheduler, poly_factor

__all__ = [
    "fit",
    "evaluate",
    "split_batch",
    "EarlyStopping",
    "TimeBudget",
    "make_scheduler",
    "budget_scheduler",
    "poly_factor",
    "cosine_factor",
    "save_checkpoint",
    "load_checkpoint",
    "main",
]
