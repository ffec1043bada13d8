"""segkit.course.kernel.testing: the delegation tripwire hidden tests use."""
from __future__ import annotations

import pytest
import torch

import segkit.viz
from segkit.course.kernel.testing import DelegationError, expect_raises, no_delegation
from segkit.viz import colorize as aliased_colorize

MASK = torch.tensor([[0, 1], [1, 0]])
PALETTE = torch.tensor([[0, 0, 0], [255, 0, 0]], dtype=torch.uint8)


def learner_colorize(mask, palette):
    return aliased_colorize(mask, palette)  # delegates through an alias bound at import time


def own_colorize(mask, palette):
    return palette[mask]


def test_aliased_delegation_is_caught_and_named():
    with no_delegation(segkit.viz.colorize), pytest.raises(DelegationError, match="calls segkit.viz.colorize, a ready-made version"):
        learner_colorize(MASK, PALETTE)


def test_own_answer_passes_and_original_is_restored():
    expected = segkit.viz.colorize(MASK, PALETTE)
    with no_delegation(segkit.viz.colorize):
        own_colorize(MASK, PALETTE)
    assert torch.equal(torch.as_tensor(segkit.viz.colorize(MASK, PALETTE)), torch.as_tensor(expected))


def test_restored_after_an_error_inside_the_block():
    with pytest.raises(DelegationError), no_delegation(segkit.viz.colorize):
        learner_colorize(MASK, PALETTE)
    learner_colorize(MASK, PALETTE)  # works again


def test_rejects_what_it_cannot_guard():
    with pytest.raises(TypeError, match="plain Python functions"), no_delegation(torch.nn.Conv2d):
        pass


def test_expect_raises_passes_the_expected_error_and_names_the_case_otherwise():
    with expect_raises(ValueError, "a bad label") as raised:
        raise ValueError("label 3")
    assert str(raised.error) == "label 3"
    with pytest.raises(AssertionError, match=r"^a bad label should raise ValueError, got IndexError: index 3 is out of bounds$"):
        with expect_raises(ValueError, "a bad label"):
            raise IndexError("index 3 is out of bounds")
    with pytest.raises(AssertionError, match=r"^a bad label should raise ValueError or TypeError, got no error$"):
        with expect_raises((ValueError, TypeError), "a bad label"):
            pass


def test_expect_raises_lets_failed_checks_and_delegation_through():
    with pytest.raises(DelegationError, match="calls segkit.viz.colorize, a ready-made version"), expect_raises(ValueError, "x"):
        with no_delegation(segkit.viz.colorize):
            learner_colorize(MASK, PALETTE)
    with pytest.raises(AssertionError, match="^inner$"), expect_raises(ValueError, "x"):
        raise AssertionError("inner")
