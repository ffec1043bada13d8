"""segkit._checks: one rule for arguments everywhere (TypeError: wrong type, ValueError: wrong value)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from segkit import _checks as C


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(2)])
def test_positive_ints_come_back_as_python_ints(value):
    out = C.positive_int(value, "depth")
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize(
    "value, error, message",
    [
        (0, ValueError, "depth must be a positive int, got 0"),
        (-3, ValueError, "depth must be a positive int, got -3"),
        (2.0, TypeError, "depth must be a positive int, got float 2.0"),
        ("3", TypeError, "depth must be a positive int, got str '3'"),
        (True, TypeError, "depth must be a positive int, got bool True"),
        (None, TypeError, "got NoneType None"),
    ],
)
def test_bad_ints_say_what_was_expected_and_what_came(value, error, message):
    with pytest.raises(error) as raised:
        C.positive_int(value, "depth")
    assert message in str(raised.value)


def test_int_ranges_are_named_in_the_message():
    assert C.non_negative_int(0, "seed") == 0
    with pytest.raises(ValueError, match=r"seed must be a non-negative int, got -1"):
        C.non_negative_int(-1, "seed")
    with pytest.raises(ValueError, match=r"blur must be an int in \[0, 10\], got 11"):
        C.check_int(11, "blur", minimum=0, maximum=10)
    with pytest.raises(ValueError, match=r"window must be an int >= 16, got 8"):
        C.check_int(8, "window", minimum=16)


def test_num_classes_and_ignore_index():
    assert C.check_num_classes(np.int32(21)) == 21
    with pytest.raises(TypeError, match="num_classes must be an int, got float 3.0"):
        C.check_num_classes(3.0)
    with pytest.raises(ValueError, match="num_classes must be a positive int, got 0"):
        C.check_num_classes(0)
    assert C.check_ignore_index(None) is None and C.check_ignore_index(-100) == -100
    with pytest.raises(TypeError, match="ignore_index must be an int or None, got float 255.0"):
        C.check_ignore_index(255.0)
    with pytest.raises(ValueError, match="ignore_index must be a non-negative int, got -1"):
        C.check_ignore_index(-1, optional=False, non_negative=True)
    with pytest.raises(TypeError, match="ignore_index must be a non-negative int, got NoneType"):
        C.check_ignore_index(None, optional=False, non_negative=True)


def test_numbers():
    assert C.check_number(np.float32(0.5), "alpha", minimum=0, maximum=1) == 0.5
    assert C.check_number(3, "seconds", positive=True) == 3.0
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="seconds must be a positive finite number"):
            C.check_number(bad, "seconds", positive=True)
    with pytest.raises(TypeError, match="alpha must be a number in \\[0, 1\\], got str '0.5'"):
        C.check_number("0.5", "alpha", minimum=0, maximum=1)
    with pytest.raises(ValueError, match="smooth must be a number >= 0, got -1"):
        C.check_number(-1, "smooth", minimum=0)


def test_tensors():
    labels = torch.tensor([[0, 1], [2, 255]])
    assert C.check_label_tensor(labels, "target") is labels
    with pytest.raises(TypeError, match=r"target must be a torch.Tensor of shape \(N, H, W\), got list"):
        C.check_tensor([[0, 1]], "target", "(N, H, W)")
    with pytest.raises(TypeError, match="mask must hold integer labels, got dtype torch.float32; threshold"):
        C.check_label_tensor(torch.rand(2, 2), "mask", "integer labels", "; threshold it first")
    with pytest.raises(ValueError, match=r"target is empty \(shape \(0, 3\)\)"):
        C.check_label_tensor(torch.zeros(0, 3, dtype=torch.long), "target")
    C.check_labels(labels, 3, ignore_index=255)
    with pytest.raises(ValueError, match=r"target has labels \[255\] outside \[0, 3\)"):
        C.check_labels(labels, 3)
    with pytest.raises(ValueError, match="logits contain NaN or inf"):
        C.check_finite(torch.tensor([0.0, float("nan")]), "logits")


@pytest.mark.parametrize(
    "x, error, message",
    [
        (np.zeros((1, 3, 8, 8), np.float32), TypeError, "expects a torch.Tensor"),
        (torch.zeros(1, 3, 8, 8, dtype=torch.uint8), TypeError, "x.float() / 255"),
        (torch.zeros(3, 8, 8), ValueError, "x.unsqueeze(0)"),
        (torch.zeros(1, 1, 8, 8), ValueError, "expects 3 input channels"),
        (torch.zeros(1, 3, 4, 8), ValueError, "at least 8x8 pixels"),
    ],
)
def test_image_batches(x, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        C.check_image_batch(x, 3, 8, "UNet")


def test_the_library_applies_the_same_rule_everywhere():
    """A wrong type and a wrong value at each boundary that takes an int: the same two exceptions."""
    import segkit
    from segkit import losses, metrics, models, viz
    from segkit.data import load_dataset
    from segkit.train import make_scheduler

    target = torch.zeros(1, 4, 4, dtype=torch.long)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    calls = {
        "models num_classes": lambda v: models.UNet(num_classes=v),
        "models depth": lambda v: models.UNet(depth=v),
        "metrics num_classes": lambda v: metrics.confusion_matrix(target, target, v),
        "losses num_classes": lambda v: losses.class_weights(target, v),
        "metrics width": lambda v: metrics.boundary_band(target, v),
        "data num_samples": lambda v: load_dataset("shapes", num_samples=v - 1 if isinstance(v, int) else v),
        "seed": lambda v: segkit.seed_everything(v - 1 if isinstance(v, int) else v),
        "schedules total_steps": lambda v: make_scheduler("poly", optimizer, v),
        "viz ncols": lambda v: viz.show_samples(torch.zeros(1, 3, 4, 4), target, ncols=v),
    }
    for where, call in calls.items():  # 0 is out of range everywhere (seed and num_samples get -1)
        with pytest.raises(TypeError, match="got float 2.5"):
            call(2.5)
        with pytest.raises(ValueError, match=r"got -?\d+$"):
            call(0)
