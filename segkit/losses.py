"""Pixel-wise losses: cross-entropy, soft Dice and their sum, plus class weights for imbalance;
and the set-prediction loss of mask classification (MaskFormer / Mask2Former).

Every pixel-wise loss takes logits ``(N, C, H, W)`` (any number of spatial dims, ``(N, C, *)``)
and integer targets ``(N, H, W)`` with values in ``[0, C)`` or ``ignore_index``. The set loss
takes ``Q`` (class, mask) predictions per image and a set of ``T`` true (class, mask) pairs, matches
them one to one (:func:`match_queries`) and scores the matched pairs (:func:`set_prediction_loss`).

Convention for a batch whose every pixel is ignored: the losses return ``0`` (with a zero
gradient), where ``torch.nn.functional.cross_entropy`` returns NaN. A NaN loss silently poisons
the weights; a zero loss just skips the batch.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

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
    "matching_cost",
    "match_queries",
    "set_prediction_loss",
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


# ---------------------------------------------------------------- set prediction (lessons/14-masks-as-queries)

# Mask2Former's weights (Cheng et al., 2022): the same in the matching cost and in the loss.
CLASS_WEIGHT, MASK_WEIGHT, DICE_WEIGHT, NO_OBJECT_WEIGHT = 2.0, 5.0, 5.0, 0.1


def _check_sets(class_logits: Tensor, mask_logits: Tensor, target_classes: Tensor,
                target_masks: Tensor) -> None:
    """One image: class_logits (Q, K+1), mask_logits (Q, H, W), target_classes (T,), target_masks (T, H, W)."""
    for name, x in (("class_logits", class_logits), ("mask_logits", mask_logits),
                    ("target_classes", target_classes), ("target_masks", target_masks)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a tensor, got {type(x).__name__}")
    if not class_logits.is_floating_point() or not mask_logits.is_floating_point():
        raise TypeError(f"class_logits and mask_logits must be float tensors, got {class_logits.dtype} "
                        f"and {mask_logits.dtype}")
    if class_logits.dim() != 2 or class_logits.shape[1] < 2:
        raise ValueError(f"class_logits must be (Q, K+1) with K >= 1, got shape {tuple(class_logits.shape)}")
    if mask_logits.dim() != 3 or mask_logits.shape[0] != class_logits.shape[0]:
        raise ValueError(f"mask_logits must be (Q, H, W) with Q = {class_logits.shape[0]}, got shape "
                         f"{tuple(mask_logits.shape)}")
    if target_classes.dim() != 1 or target_classes.is_floating_point() or target_classes.dtype == torch.bool:
        raise ValueError(f"target_classes must be integer (T,), got {target_classes.dtype} of shape "
                         f"{tuple(target_classes.shape)}")
    if target_masks.shape != (len(target_classes), *mask_logits.shape[1:]):
        raise ValueError(f"target_masks must be (T, H, W) = {(len(target_classes), *mask_logits.shape[1:])}, "
                         f"got {tuple(target_masks.shape)}")
    num_classes = class_logits.shape[1] - 1
    if len(target_classes):
        check_labels(target_classes, num_classes, name="target_classes")
        if target_masks.is_floating_point() and bool(((target_masks != 0) & (target_masks != 1)).any()):
            raise ValueError("target_masks must be binary (bool, or 0/1 values)")
    if len(target_classes) > class_logits.shape[0]:
        raise ValueError(f"{len(target_classes)} targets but only {class_logits.shape[0]} queries: "
                         f"every target needs a query of its own (use more queries)")
    if not bool(torch.isfinite(class_logits).all()) or not bool(torch.isfinite(mask_logits).all()):
        raise ValueError("class_logits or mask_logits contain NaN or inf")


def matching_cost(class_logits: Tensor, mask_logits: Tensor, target_classes: Tensor, target_masks: Tensor,
                  *, class_weight: float = CLASS_WEIGHT, mask_weight: float = MASK_WEIGHT,
                  dice_weight: float = DICE_WEIGHT) -> Tensor:
    """Cost of giving target ``t`` to query ``q``, for every pair: Mask2Former's matching cost.

    ``cost[q, t] = class_weight * (-p_q(c_t)) + mask_weight * BCE(q, t) + dice_weight * Dice(q, t)``

    with ``p_q = softmax(class_logits[q])`` over the ``K + 1`` outputs (the last is "no object"),
    ``BCE`` the sigmoid binary cross-entropy of the mask logits against the target mask, averaged
    over the ``H * W`` pixels, and ``Dice = 1 - (2 sum(s y) + 1) / (sum(s) + sum(y) + 1)`` with
    ``s = sigmoid(mask_logits[q])``. The defaults are Mask2Former's weights (2, 5, 5); its
    matcher averages over sampled points, this one over every pixel.

    Args:
        class_logits: float ``(Q, K+1)`` for one image.
        mask_logits: float ``(Q, H, W)``.
        target_classes: int64 ``(T,)`` in ``[0, K)``.
        target_masks: ``(T, H, W)`` bool or 0/1.

    Returns:
        float ``(Q, T)``, differentiable (the matcher detaches it).

    Built in lessons/14-masks-as-queries.
    """
    _check_sets(class_logits, mask_logits, target_classes, target_masks)
    probs = class_logits.softmax(-1)  # (Q, K+1)
    cost_class = -probs[:, target_classes.long()]  # (Q, T)
    x = mask_logits.flatten(1)  # (Q, HW)
    y = target_masks.flatten(1).to(x.dtype)  # (T, HW)
    pixels = x.shape[1]
    # BCE(x, 1) = softplus(-x) and BCE(x, 0) = softplus(x): every pair from two matrix products
    cost_mask = (F.softplus(-x) @ y.T + F.softplus(x) @ (1 - y).T) / pixels  # (Q, T)
    s = x.sigmoid()
    cost_dice = 1 - (2 * s @ y.T + 1) / (s.sum(1)[:, None] + y.sum(1)[None, :] + 1)  # (Q, T)
    return class_weight * cost_class + mask_weight * cost_mask + dice_weight * cost_dice


def match_queries(class_logits: Tensor, mask_logits: Tensor, target_classes: Tensor,
                  target_masks: Tensor, **weights: float) -> tuple[Tensor, Tensor]:
    """The one-to-one assignment of targets to queries with the lowest total :func:`matching_cost`.

    The Hungarian algorithm (``scipy.optimize.linear_sum_assignment``, O(Q^3)) finds the best of
    the ``Q! / (Q - T)!`` assignments. Queries left without a target are "no object".

    Args:
        class_logits: float ``(Q, K+1)``; mask_logits: float ``(Q, H, W)``.
        target_classes: int64 ``(T,)`` with ``T <= Q``; target_masks: ``(T, H, W)`` bool or 0/1.
        weights: ``class_weight``, ``mask_weight``, ``dice_weight`` for :func:`matching_cost`.

    Returns:
        ``(query_index, target_index)``: int64 ``(T,)`` each, on the CPU; query
        ``query_index[i]`` gets target ``target_index[i]``, sorted by query index (scipy's order).

    Raises:
        ImportError: scipy is not installed (``pip install scipy``).

    Built in lessons/14-masks-as-queries.
    """
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError as error:  # segkit itself does not depend on scipy
        raise ImportError("match_queries needs scipy for the Hungarian algorithm: pip install scipy") from error
    with torch.no_grad():
        cost = matching_cost(class_logits, mask_logits, target_classes, target_masks, **weights)
    rows, cols = linear_sum_assignment(cost.double().cpu().numpy())
    return torch.as_tensor(rows, dtype=torch.int64), torch.as_tensor(cols, dtype=torch.int64)


def set_prediction_loss(class_logits: Tensor, mask_logits: Tensor,
                        targets: Sequence[tuple[Tensor, Tensor]], *,
                        matches: Sequence[tuple[Tensor, Tensor]] | None = None,
                        no_object_weight: float = NO_OBJECT_WEIGHT, class_weight: float = CLASS_WEIGHT,
                        mask_weight: float = MASK_WEIGHT, dice_weight: float = DICE_WEIGHT) -> dict[str, Tensor]:
    """Mask2Former's loss for a batch of (class, mask) set predictions.

    Each image's targets are matched to its queries (:func:`match_queries`, unless ``matches`` is
    given). Then, with ``M`` the number of targets in the batch (at least 1):

    - ``class``: cross-entropy of every query's class logits against its matched target's class,
      or "no object" (index ``K``) for an unmatched query; the "no object" terms weigh
      ``no_object_weight``, and the mean is weighted (``sum w * nll / sum w``, as
      ``nn.CrossEntropyLoss(weight=...)``);
    - ``mask``: sigmoid binary cross-entropy of each matched mask, averaged over its pixels,
      summed over the matched pairs, divided by ``M``;
    - ``dice``: ``1 - (2 sum(s y) + 1) / (sum(s) + sum(y) + 1)`` per matched pair, summed, / ``M``;
    - ``loss = class_weight * class + mask_weight * mask + dice_weight * dice``.

    Args:
        class_logits: float ``(N, Q, K+1)``.
        mask_logits: float ``(N, Q, H, W)``.
        targets: ``N`` pairs ``(classes (T_i,) int64, masks (T_i, H, W) bool)``; ``T_i`` may be 0.
        matches: optional ``N`` pairs ``(query_index, target_index)`` to use instead of matching.
        no_object_weight: weight of the "no object" class in the cross-entropy (0.1 in Mask2Former).

    Returns:
        ``{"loss", "class", "mask", "dice"}``: scalar tensors, differentiable in the logits.

    Built in lessons/14-masks-as-queries.
    """
    if not isinstance(class_logits, Tensor) or class_logits.dim() != 3:
        raise ValueError(f"class_logits must be a (N, Q, K+1) tensor, got "
                         f"{tuple(class_logits.shape) if isinstance(class_logits, Tensor) else type(class_logits).__name__}")
    if not isinstance(mask_logits, Tensor) or mask_logits.dim() != 4 or mask_logits.shape[:2] != class_logits.shape[:2]:
        raise ValueError(f"mask_logits must be (N, Q, H, W) = ({class_logits.shape[0]}, {class_logits.shape[1]}, H, W), "
                         f"got {tuple(mask_logits.shape) if isinstance(mask_logits, Tensor) else type(mask_logits).__name__}")
    if len(targets) != class_logits.shape[0]:
        raise ValueError(f"{class_logits.shape[0]} images but {len(targets)} target sets")
    if matches is not None and len(matches) != len(targets):
        raise ValueError(f"{len(targets)} target sets but {len(matches)} matches")
    if not isinstance(no_object_weight, (int, float)) or not no_object_weight >= 0:
        raise ValueError(f"no_object_weight must be a number >= 0, got {no_object_weight!r}")
    batch, num_queries, outputs = class_logits.shape
    no_object = outputs - 1
    class_target = torch.full((batch, num_queries), no_object, dtype=torch.int64, device=class_logits.device)
    pred_masks, true_masks = [], []
    for i, (classes, masks) in enumerate(targets):
        _check_sets(class_logits[i], mask_logits[i], classes, masks)
        if matches is None:
            query_index, target_index = match_queries(class_logits[i], mask_logits[i], classes, masks)
        else:
            query_index, target_index = (torch.as_tensor(m, dtype=torch.int64) for m in matches[i])
        query_index, target_index = query_index.to(class_logits.device), target_index.to(class_logits.device)
        class_target[i, query_index] = classes.to(class_logits.device).long()[target_index]
        pred_masks.append(mask_logits[i, query_index].flatten(1))  # (T_i, HW)
        true_masks.append(masks.to(mask_logits.device)[target_index].flatten(1).to(mask_logits.dtype))
    weight = torch.ones(outputs, dtype=class_logits.dtype, device=class_logits.device)
    weight[no_object] = no_object_weight
    loss_class = cross_entropy(class_logits.transpose(1, 2), class_target, weight)  # (N, K+1, Q) vs (N, Q)
    x, y = torch.cat(pred_masks), torch.cat(true_masks)  # (M, HW) matched pairs
    num_masks = max(len(x), 1)
    loss_mask = F.binary_cross_entropy_with_logits(x, y, reduction="none").mean(1).sum() / num_masks
    s = x.sigmoid()
    dice = 1 - (2 * (s * y).sum(1) + 1) / (s.sum(1) + y.sum(1) + 1)  # (M,)
    loss_dice = dice.sum() / num_masks
    total = class_weight * loss_class + mask_weight * loss_mask + dice_weight * loss_dice
    return {"loss": total, "class": loss_class, "mask": loss_mask, "dice": loss_dice}
