"""Pixel-wise losses: cross-entropy, soft Dice and their sum, plus class weights for imbalance.

Every loss takes logits ``(N, C, H, W)`` (any number of spatial dims, ``(N, C, *)``) and integer
targets ``(N, H, W)`` with values in ``[0, C)`` or ``ignore_index``.

Convention for a batch whose every pixel is ignored: the losses return ``0`` (with a zero
gradient), where ``torch.nn.functional.cross_entropy`` returns NaN. A NaN loss silently poisons
the weights; a zero loss just skips the batch.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segkit._checks import (
    check_finite,
    check_ignore_index,
    check_label_tensor,
    check_labels,
    check_num_classes,
    check_number,
    check_tensor,
)

__all__ = [
    "cross_entropy",
    "soft_dice_loss",
    "class_weights",
    "CrossEntropyLoss",
    "SoftDiceLoss",
    "DiceCELoss",
]


def _check_logits_target(logits: Tensor, target: Tensor, ignore_index: int | None) -> int | None:
    """Check a loss's inputs; returns ``ignore_index`` as an int (or None)."""
    check_tensor(logits, "logits", "(N, C, *)")
    check_tensor(target, "target", "(N, *)")
    if not logits.is_floating_point():
        raise TypeError(f"logits must be a float tensor, got dtype {logits.dtype}")
    if target.dtype == torch.bool:
        raise TypeError(f"target must hold integer class labels, got dtype {target.dtype}")
    check_label_tensor(target, "target")
    if logits.dim() < 2 or target.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(f"logits (N, C, *) of shape {tuple(logits.shape)} do not match target "
                         f"(N, *) of shape {tuple(target.shape)}")
    ignore_index = check_ignore_index(ignore_index)
    check_labels(target, logits.shape[1], ignore_index)
    check_finite(logits, "logits")
    return ignore_index


def _valid_and_safe(target: Tensor, ignore_index: int | None) -> tuple[Tensor | None, Tensor]:
    """Mask of counted pixels (None: all) and a target with ignored pixels set to class 0."""
    if ignore_index is None:
        return None, target
    valid = target != ignore_index  # (N, *)
    return valid, target.masked_fill(~valid, 0)


def cross_entropy(logits: Tensor, target: Tensor, weight: Tensor | None = None,
                  ignore_index: int | None = None, reduction: str = "mean") -> Tensor:
    """Pixel-wise cross-entropy ``-log softmax(logits)[target]``, averaged over counted pixels.

    Args:
        logits: float ``(N, C, H, W)`` (or ``(N, C, *)``), finite.
        target: integer ``(N, H, W)``, values in ``[0, C)`` or ``ignore_index``.
        weight: optional float ``(C,)`` class weights ``w >= 0``.
        ignore_index: target value that contributes nothing, or ``None``.
        reduction: ``"mean"`` (``sum(w[t] * nll) / sum(w[t])`` over counted pixels, as PyTorch),
            ``"sum"`` or ``"none"`` (``(N, H, W)``, 0 at ignored pixels).

    Returns:
        The loss (a scalar unless ``reduction="none"``). Equal to
        ``F.cross_entropy(logits, target, weight, ignore_index=...)`` except that a batch with
        no counted pixel (all ignored, or all of zero weight) gives 0 instead of NaN.

    Built in lessons/02-workflow.
    """
    ignore_index = _check_logits_target(logits, target, ignore_index)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    num_classes = logits.shape[1]
    valid, safe = _valid_and_safe(target, ignore_index)
    log_p = F.log_softmax(logits, dim=1)  # (N, C, *)
    nll = -log_p.gather(1, safe.unsqueeze(1)).squeeze(1)  # (N, *)
    if weight is None:
        w = torch.ones_like(nll)
    else:
        check_tensor(weight, "weight", f"({num_classes},)")
        if weight.shape != (num_classes,):
            raise ValueError(f"weight must be a tensor of shape ({num_classes},), got {tuple(weight.shape)}")
        if not bool(torch.isfinite(weight).all()) or bool((weight < 0).any()):
            raise ValueError(f"weight must be finite and >= 0, got {weight.tolist()}")
        w = weight.to(nll)[safe]  # (N, *)
    if valid is not None:
        w = w * valid
    if reduction == "none":
        return nll * w
    total = (nll * w).sum()
    if reduction == "sum":
        return total
    count = w.sum()
    return total / torch.where(count > 0, count, torch.ones_like(count))


def soft_dice_loss(logits: Tensor, target: Tensor, ignore_index: int | None = None,
                   smooth: float = 1.0) -> Tensor:
    """Multi-class soft Dice loss ``1 - mean_c (2 I_c + s) / (P_c + G_c + s)``.

    With ``p = softmax(logits)`` and ``g = one_hot(target)``, summed over the whole batch and all
    counted pixels: ``I_c = sum p_c g_c``, ``P_c = sum p_c``, ``G_c = sum g_c`` (Milletari et al.,
    V-Net, with the squares dropped). Ignored pixels count nowhere; a class whose denominator is 0
    (only possible with ``smooth=0``) scores Dice 1, so an all-ignored batch gives loss 0.

    Args:
        logits: float ``(N, C, H, W)`` (or ``(N, C, *)``), finite.
        target: integer ``(N, H, W)``, values in ``[0, C)`` or ``ignore_index``.
        ignore_index: target value that contributes nothing, or ``None``.
        smooth: ``s >= 0``, keeps classes absent from the batch from dominating the loss.

    Returns:
        Scalar loss in ``[0, 1]``, differentiable in ``logits``.

    Built in lessons/05-unet.
    """
    ignore_index = _check_logits_target(logits, target, ignore_index)
    smooth = check_number(smooth, "smooth", minimum=0)
    num_classes = logits.shape[1]
    valid, safe = _valid_and_safe(target, ignore_index)
    probs = F.softmax(logits, dim=1)  # (N, C, *)
    one_hot = F.one_hot(safe, num_classes).movedim(-1, 1).to(probs.dtype)  # (N, C, *)
    if valid is not None:
        probs = probs * valid.unsqueeze(1)
        one_hot = one_hot * valid.unsqueeze(1)
    dims = [0, *range(2, logits.dim())]  # everything but the class dimension
    intersection = (probs * one_hot).sum(dims)  # (C,)
    denominator = probs.sum(dims) + one_hot.sum(dims) + smooth  # (C,)
    safe_denominator = torch.where(denominator > 0, denominator, torch.ones_like(denominator))
    dice = torch.where(denominator > 0, (2 * intersection + smooth) / safe_denominator,
                       torch.ones_like(denominator))
    return 1 - dice.mean()


def class_weights(masks_or_counts: Tensor | Iterable[Tensor], num_classes: int,
                  method: str = "inverse", ignore_index: int | None = None) -> Tensor:
    """Class weights for an imbalanced dataset, to pass as ``weight=`` to the cross-entropy.

    Args:
        masks_or_counts: a 1-D tensor ``(C,)`` of pixel counts per class; or masks: one integer
            tensor of any shape with ``>= 2`` dims (e.g. ``(N, H, W)``), or an iterable of them.
        num_classes: ``C``.
        method: with ``f_c`` the fraction of pixels of class ``c``,
            ``"inverse"``: ``w_c = 1 / (C' f_c)`` (``C'`` = classes present; a balanced class gets 1);
            ``"median_freq"``: ``w_c = median(f) / f_c`` (Eigen & Fergus, 2015; median over present
            classes).
        ignore_index: label not counted when masks are given.

    Returns:
        float32 ``(C,)`` on the CPU; classes that never occur get weight 0.

    Built in lessons/07-training-in-practice.
    """
    if method not in ("inverse", "median_freq"):
        raise ValueError(f"method must be 'inverse' or 'median_freq', got {method!r}")
    num_classes = check_num_classes(num_classes)
    if isinstance(masks_or_counts, Tensor) and masks_or_counts.dim() == 1:
        counts = masks_or_counts.detach().to("cpu", torch.float64)
        if counts.shape != (num_classes,):
            raise ValueError(f"counts must have shape ({num_classes},), got {tuple(counts.shape)}")
        if not bool(torch.isfinite(counts).all()) or bool((counts < 0).any()):
            raise ValueError(f"counts must be finite and >= 0, got {counts.tolist()}")
    else:
        masks = [masks_or_counts] if isinstance(masks_or_counts, Tensor) else masks_or_counts
        counts = torch.zeros(num_classes, dtype=torch.float64)
        for mask in masks:
            counts += _class_counts(mask, num_classes, ignore_index)
    present = counts > 0
    if not bool(present.any()):
        raise ValueError("no pixel of any class was counted")
    freq = counts / counts.sum()
    if method == "inverse":
        scale = 1.0 / int(present.sum())
    else:
        scale = float(freq[present].median())
    weights = torch.zeros(num_classes, dtype=torch.float64)
    weights[present] = scale / freq[present]
    return weights.float()


def _class_counts(mask: Tensor, num_classes: int, ignore_index: int | None) -> Tensor:
    check_label_tensor(mask, "mask")
    if mask.dim() < 2:
        raise ValueError(f"masks must have at least 2 dims (H, W), got shape {tuple(mask.shape)}")
    check_labels(mask, num_classes, ignore_index, name="mask")
    labels = mask.reshape(-1).long()
    if ignore_index is not None:
        labels = labels[labels != ignore_index]
    return torch.bincount(labels, minlength=num_classes).cpu().double()


class CrossEntropyLoss(nn.Module):
    """Module form of :func:`cross_entropy`, e.g. for ``fit(loss=CrossEntropyLoss(ignore_index=255))``."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int | None = None) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(logits, target, self.weight, self.ignore_index)


class SoftDiceLoss(nn.Module):
    """Module form of :func:`soft_dice_loss`."""

    def __init__(self, ignore_index: int | None = None, smooth: float = 1.0) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.smooth = smooth

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return soft_dice_loss(logits, target, self.ignore_index, self.smooth)


class DiceCELoss(nn.Module):
    """``ce_weight * cross_entropy + dice_weight * soft_dice_loss``: cross-entropy's stable
    per-pixel gradients plus Dice's insensitivity to class imbalance (a common U-Net recipe).

    Built in lessons/05-unet.
    """

    def __init__(self, weight: Tensor | None = None, ignore_index: int | None = None,
                 ce_weight: float = 1.0, dice_weight: float = 1.0, smooth: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.ce_weight = ce_weight
        self.dice_weight = dice_weight
        self.smooth = smooth

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        ce = cross_entropy(logits, target, self.weight, self.ignore_index)
        dice = soft_dice_loss(logits, target, self.ignore_index, self.smooth)
        return self.ce_weight * ce + self.dice_weight * dice
