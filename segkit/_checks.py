"""Argument checks shared by every segkit module: one rule and one message style everywhere.

A value of the wrong type raises ``TypeError``; a value of the right type that is out of range, or
a tensor of the wrong shape, raises ``ValueError``. Every message names the argument and shows
the offending value (or its shape and dtype), e.g. ``num_classes must be a positive int, got 0``.
Python ints and NumPy integers are ints here; ``True``/``False`` are not.

This module imports nothing of segkit: every other module may use it.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import torch
from torch import Tensor


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _wanted(kind: str, minimum: float | None, maximum: float | None) -> str:
    """What a range check asks for, in words: ``an int in [0, 10]``, ``a number >= 0``, ..."""
    article = "an" if kind[0] in "aeiou" else "a"
    if minimum is not None and maximum is not None:
        return f"{article} {kind} in [{minimum}, {maximum}]"
    if minimum is not None:
        return f"{article} {kind} >= {minimum}"
    if maximum is not None:
        return f"{article} {kind} <= {maximum}"
    return f"{article} {kind}"


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int, checked against ``minimum <= value <= maximum`` (either may be None).

    Raises:
        TypeError: ``value`` is not an int (a bool, a float, a string, ...).
        ValueError: ``value`` is out of range.
    """
    if maximum is None and minimum in (0, 1):
        wanted = "a positive int" if minimum == 1 else "a non-negative int"
    else:
        wanted = _wanted("int", minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {wanted}, got {_describe(value)}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return int(value)


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int >= 1 (``TypeError`` / ``ValueError`` otherwise)."""
    return check_int(value, name, minimum=1)


def non_negative_int(value: Any, name: str) -> int:
    """``value`` as an int >= 0 (``TypeError`` / ``ValueError`` otherwise)."""
    return check_int(value, name, minimum=0)


def check_number(value: Any, name: str, *, minimum: float | None = None, maximum: float | None = None,
                 positive: bool = False) -> float:
    """``value`` as a finite Python float, checked against ``minimum <= value <= maximum`` (or
    ``value > 0`` if ``positive``).

    Raises:
        TypeError: ``value`` is not a real number (a bool, a string, a tensor, ...).
        ValueError: ``value`` is NaN, infinite or out of range.
    """
    wanted = "a positive finite number" if positive else _wanted("number", minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {wanted}, got {_describe(value)}")
    if (not math.isfinite(value) or (positive and value <= 0) or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return float(value)


def check_num_classes(num_classes: Any) -> int:
    """``num_classes`` as an int >= 1: ``num_classes must be a positive int, got 0``."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"num_classes must be an int, got {_describe(num_classes)}")
    return positive_int(num_classes, "num_classes")


def check_ignore_index(ignore_index: Any, *, optional: bool = True, non_negative: bool = False) -> int | None:
    """The label that counts nowhere: an int (``>= 0`` if ``non_negative``), or ``None`` if ``optional``.

    Losses and metrics accept any int (PyTorch's default is -100); transforms fill masks with it,
    so they ask for ``non_negative``.
    """
    if ignore_index is None and optional:
        return None
    wanted = "a non-negative int" if non_negative else "an int"
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be {wanted}{' or None' if optional else ''}, got {_describe(ignore_index)}")
    if non_negative and ignore_index < 0:
        raise ValueError(f"ignore_index must be {wanted}{' or None' if optional else ''}, got {ignore_index!r}")
    return int(ignore_index)


# ---------------------------------------------------------------- tensors

def check_tensor(x: Any, name: str, shape_hint: str = "") -> Tensor:
    """``x`` itself if it is a ``torch.Tensor``; ``TypeError`` otherwise (``shape_hint``, e.g.
    ``"(N, C, H, W)"``, says what was expected)."""
    if not isinstance(x, Tensor):
        expected = f"a torch.Tensor of shape {shape_hint}" if shape_hint else "a torch.Tensor"
        raise TypeError(f"{name} must be {expected}, got {type(x).__name__}")
    return x


def check_label_tensor(x: Any, name: str, what: str = "integer class labels", hint: str = "") -> Tensor:
    """``x`` if it is a non-empty tensor of integer (or bool) labels.

    Raises:
        TypeError: not a tensor, or a floating-point / complex dtype: ``{name} must hold {what},
            got dtype ...{hint}`` (``hint``, e.g. how to turn float masks into labels).
        ValueError: no element at all.
    """
    check_tensor(x, name)
    if x.is_floating_point() or x.is_complex():
        raise TypeError(f"{name} must hold {what}, got dtype {x.dtype}{hint}")
    if x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)})")
    return x


def check_labels(labels: Tensor, num_classes: int, ignore_index: int | None = None,
                 name: str = "target") -> None:
    """Raise ``ValueError`` unless every label is in ``[0, num_classes)`` or equals ``ignore_index``.

    Args:
        labels: integer tensor of any shape.
        num_classes: the number of classes ``C``.
        ignore_index: one extra allowed value (e.g. 255 for "void"), or ``None``.
        name: how the error message names the tensor.
    """
    lo, hi = torch.aminmax(labels)
    lo, hi = int(lo), int(hi)
    if lo >= 0 and hi < num_classes:
        return
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if bool(bad.any()):
        values = torch.unique(labels[bad])[:5].tolist()
        raise ValueError(
            f"{name} has labels {values} outside [0, {num_classes})"
            + (f" that are not ignore_index={ignore_index}" if ignore_index is not None else "")
        )


def check_finite(x: Tensor, name: str) -> Tensor:
    """``x`` if no element is NaN or infinite; ``ValueError`` otherwise."""
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contain NaN or inf")
    return x


def check_image_batch(x: Any, in_channels: int, min_size: int, name: str) -> Tensor:
    """``x`` if it is a float batch ``(N, in_channels, H, W)`` with ``H, W >= min_size``.

    Args:
        x: the input batch; must be a floating-point tensor (e.g. float32 in [0, 1] or normalised).
        in_channels: the number of channels expected.
        min_size: the smallest height and width accepted (a model's ``stride``).
        name: who expects it (a model's class name), for the message.

    Raises:
        TypeError: ``x`` is not a tensor, or not floating point (uint8 images must be converted
            with ``x.float() / 255``).
        ValueError: wrong number of dimensions, wrong channel count, or ``H``/``W`` < ``min_size``.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} expects a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"{name} expects a floating-point image batch, got dtype {x.dtype}; "
            "convert uint8 images with x.float() / 255"
        )
    if x.ndim != 4:
        hint = "; add a batch dimension with x.unsqueeze(0)" if x.ndim == 3 else ""
        raise ValueError(f"{name} expects a 4-D batch (N, C, H, W), got shape {tuple(x.shape)}{hint}")
    if x.shape[1] != in_channels:
        raise ValueError(
            f"{name} expects {in_channels} input channels, got shape {tuple(x.shape)} "
            f"with {x.shape[1]} channels"
        )
    height, width = x.shape[-2:]
    if height < min_size or width < min_size:
        raise ValueError(
            f"{name} needs images of at least {min_size}x{min_size} pixels (its stride), "
            f"got {height}x{width}; pad or resize the input"
        )
    return x
