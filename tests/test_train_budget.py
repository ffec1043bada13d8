"""segkit.train.budget: a wall-clock budget read through a fake clock."""
import pytest

from segkit.train import TimeBudget


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_budget_counts_from_construction_and_expires_at_the_limit():
    clock = FakeClock()
    budget = TimeBudget(10, clock=clock)
    assert (budget.elapsed, budget.remaining, budget.fraction, budget.expired) == (0.0, 10.0, 0.0, False)
    clock.now += 2.5
    assert budget.elapsed == 2.5 and budget.remaining == 7.5 and budget.fraction == 0.25 and not budget.expired
    clock.now += 7.5
    assert budget.expired and budget.remaining == 0.0 and budget.fraction == 1.0
    clock.now += 5
    assert budget.remaining == 0.0 and budget.fraction == 1.0, "past the limit, remaining and fraction are clipped"


def test_restart_counts_again_from_now():
    clock = FakeClock()
    budget = TimeBudget(4, clock=clock)
    clock.now += 5
    budget.restart()
    assert not budget.expired and budget.elapsed == 0.0
    assert "4 s" in repr(budget)


def test_a_loop_on_the_real_clock_stops_soon_after_the_budget():
    budget = TimeBudget(0.05)
    steps = 0
    while not budget.expired:
        steps += 1
    assert steps > 0 and 0.05 <= budget.elapsed < 1.0


@pytest.mark.parametrize("seconds, error", [(0, ValueError), (-1, ValueError), (float("inf"), ValueError),
                                            (float("nan"), ValueError), ("60", TypeError), (True, TypeError),
                                            (None, TypeError)])
def test_bad_budgets_are_refused(seconds, error):
    with pytest.raises(error, match="positive finite"):
        TimeBudget(seconds)
