"""segkit.train.budget (a time budget read through a fake clock) and the schedule that runs on its clock."""
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


def test_a_budget_schedule_is_the_poly_schedule_of_the_budget_clock():
    import torch
    from torch.optim.lr_scheduler import PolynomialLR

    from segkit.train import budget_scheduler

    clock = FakeClock()
    budget = TimeBudget(10, clock=clock)  # one clock second per step: 10 steps
    ours = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    reference = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    schedule, expected = budget_scheduler("poly", ours, budget), PolynomialLR(reference, total_iters=10, power=0.9)
    for _ in range(12):  # past the end of the budget, the rate stays 0
        assert ours.param_groups[0]["lr"] == pytest.approx(reference.param_groups[0]["lr"], abs=1e-12)
        clock.now += 1.0
        ours.step(), reference.step()
        schedule.step(), expected.step()
    cosine = budget_scheduler("cosine", ours, TimeBudget(4, clock=clock))
    clock.now += 2.0
    cosine.step()
    assert ours.param_groups[0]["lr"] == pytest.approx(0.3 * 0.5)


def test_a_budget_schedule_needs_a_budget_and_a_known_name():
    import torch

    from segkit.train import budget_scheduler

    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="TimeBudget"):
        budget_scheduler("poly", optimizer, 60)
    with pytest.raises(ValueError, match="unknown budget schedule 'step'"):
        budget_scheduler("step", optimizer, TimeBudget(60))
