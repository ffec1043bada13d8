"""A wall-clock training budget: train "for 60 seconds" instead of "for 5 epochs".

A step count means different amounts of work on a laptop, a busy grader and a GPU; a time budget
is what a deadline, a leaderboard or an on-device training job really gives you. Use it as a loop
condition, and its ``fraction`` as the progress of a schedule that must end when the time does
(:func:`segkit.train.schedules.budget_scheduler`)::

    budget = TimeBudget(60, clock=time.process_time)            # 60 CPU seconds
    scheduler = budget_scheduler("poly", optimizer, budget)     # lr = base_lr * (1 - fraction) ** 0.9
    while not budget.expired:
        ...one step: forward, loss, backward, optimizer.step()...
        scheduler.step()

Built in lessons/12-capstone.
"""
from __future__ import annotations

import time
from typing import Callable

from segkit._checks import check_number


class TimeBudget:
    """``seconds`` of wall-clock time, counted from construction (or :meth:`restart`).

    Args:
        seconds: the budget, a positive finite number.
        clock: a monotonic clock in seconds (default ``time.perf_counter``; tests pass a fake one).

    Attributes are read live: ``elapsed`` (seconds since the start), ``remaining`` (never
    negative), ``fraction`` (``elapsed / seconds`` clipped to ``[0, 1]``) and ``expired``.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.perf_counter) -> None:
        self.seconds = check_number(seconds, "seconds", positive=True)
        self._clock = clock
        self.start = clock()

    def restart(self) -> None:
        """Start counting again from now."""
        self.start = self._clock()

    @property
    def elapsed(self) -> float:
        return self._clock() - self.start

    @property
    def remaining(self) -> float:
        return max(0.0, self.seconds - self.elapsed)

    @property
    def fraction(self) -> float:
        return min(1.0, max(0.0, self.elapsed / self.seconds))

    @property
    def expired(self) -> bool:
        return self.elapsed >= self.seconds

    def __repr__(self) -> str:
        return f"TimeBudget({self.seconds:g} s, {self.elapsed:.1f} s used)"
