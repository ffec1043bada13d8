"""Segmentation metrics from one confusion matrix. Built in lessons/03-measuring-quality.

Everything starts from the confusion matrix ``cm`` of shape ``(C, C)``: ``cm[t, p]`` counts the
pixels whose true class is ``t`` and predicted class is ``p`` (rows = target, columns =
prediction). For class ``c``::

    TP = cm[c, c]      FP = cm[:, c].sum() - TP      FN = cm[c, :].sum() - TP
    IoU  = TP / (TP + FP + FN)
    Dice = 2 TP / (2 TP + FP + FN)          (= F1 of the pixels of class c)

A class absent from both prediction and target has ``0 / 0`` for IoU and Dice: it is reported as
NaN and left out of every mean (a mean over no class at all is NaN).

Conventions: per-class results are ``float64`` tensors of shape ``(C,)`` on the CPU (the matrix is
tiny, so they print, plot and compare without ``.cpu()``); summaries (pixel accuracy, mIoU, mean
Dice, frequency-weighted IoU) are Python floats.
"""
from __future__ import annotations

from typing import Union

import torch
from torch import Tensor

from segkit._checks import (
    check_finite,
    check_ignore_index,
    check_label_tensor,
    check_labels,
    check_num_classes,
    positive_int,
)

__all__ = [
    "check_labels",
    "confusion_matrix",
    "pixel_accuracy",
    "class_accuracy",
    "iou_per_class",
    "mean_iou",
    "dice_per_class",
    "mean_dice",
    "frequency_weighted_iou",
    "boundary_band",
    "SegmentationMetrics",
]

# Pixels are counted in slices of this many: the temporary index then stays in cache and is
# reused, instead of a fresh full-size tensor per call (which costs page faults, not arithmetic).
_CHUNK = 1 << 20

Number = Union[int, float]


def _labels_from_pred(pred: Tensor, target: Tensor, num_classes: int) -> Tensor:
    """Check ``pred`` against ``target`` and return integer labels of ``target``'s shape."""
    if not isinstance(pred, Tensor):
        raise TypeError(f"pred must be a torch.Tensor, got {type(pred).__name__}")
    if pred.is_complex():
        raise TypeError(f"pred must be integer labels or real logits, got dtype {pred.dtype}")
    if not pred.is_floating_point():  # labels, same shape as target
        if pred.shape != target.shape:
            raise ValueError(
                f"pred labels of shape {tuple(pred.shape)} do not match target of shape "
                f"{tuple(target.shape)}"
            )
        check_label_tensor(pred, "pred")
        lo, hi = torch.aminmax(pred)
        if int(lo) < 0 or int(hi) >= num_classes:
            bad = int(lo) if int(lo) < 0 else int(hi)
            raise ValueError(f"pred has label {bad} outside [0, {num_classes})")
        return pred
    # logits: (N, C, H, W) for a (N, H, W) target, or (C, H, W) for a (H, W) target
    class_dim = target.dim() - 2
    expected = (*target.shape[:class_dim], num_classes, *target.shape[class_dim:])
    if tuple(pred.shape) != expected:
        raise ValueError(
            f"pred logits of shape {tuple(pred.shape)} do not match target of shape "
            f"{tuple(target.shape)}: expected {expected} for num_classes={num_classes}"
        )
    check_finite(pred, "pred logits")
    return pred.argmax(dim=class_dim)  # (N, H, W) or (H, W)


def confusion_matrix(pred: Tensor, target: Tensor, num_classes: int,
                     ignore_index: int | None = None) -> Tensor:
    """Count (true class, predicted class) pairs over all valid pixels with one ``bincount``.

    Args:
        pred: integer labels of the same shape as ``target``, values in ``[0, C)``; or float logits
            ``(N, C, H, W)`` for a ``(N, H, W)`` target (``(C, H, W)`` for ``(H, W)``), whose argmax
            over the class dimension is taken. Logits must be finite.
        target: integer labels ``(N, H, W)`` or ``(H, W)``, values in ``[0, C)`` or ``ignore_index``.
        num_classes: ``C >= 1``.
        ignore_index: target value whose pixels count nowhere (e.g. 255). It may also be a class
            in ``[0, C)``: that class's row is then zero, but predictions *of* it on other pixels
            still fill its column, so :func:`iou_per_class` gives it 0 rather than NaN. Drop that
            class before averaging (``SegmentationMetrics`` does: it reports it as NaN).

    Returns:
        int64 tensor ``(C, C)`` on the input's device, ``cm[t, p]`` = number of pixels of true
        class ``t`` predicted as ``p``; computed as ``bincount(target * C + pred)``.

    Raises:
        TypeError: non-tensor input, float/complex target, non-int ``num_classes``.
        ValueError: empty input, shape mismatch, labels out of range, NaN/inf logits, ``C < 1``.

    Built in lessons/03-measuring-quality.
    """
    num_classes = check_num_classes(num_classes)
    ignore_index = check_ignore_index(ignore_index)
    target = check_label_tensor(target, "target")
    if target.dim() not in (2, 3):
        raise ValueError(f"target must be (N, H, W) or (H, W), got shape {tuple(target.shape)}")
    pred = _labels_from_pred(pred, target, num_classes)
    if pred.device != target.device:
        raise ValueError(f"pred is on {pred.device} but target is on {target.device}")

    # Rows of the count table cover every target value allowed: [0, C) and ignore_index.
    t_lo, t_hi = (int(v) for v in torch.aminmax(target))
    row_lo = min(0, ignore_index) if ignore_index is not None else 0
    row_hi = max(num_classes - 1, ignore_index) if ignore_index is not None else num_classes - 1
    if t_lo < row_lo or t_hi > row_hi:
        bad = t_lo if t_lo < row_lo else t_hi
        raise ValueError(
            f"target has label {bad} outside [0, {num_classes})"
            + (f" that is not ignore_index={ignore_index}" if ignore_index is not None else "")
        )
    rows = row_hi - row_lo + 1
    counts = torch.zeros(rows * num_classes, dtype=torch.int64, device=target.device)
    target, pred = target.reshape(-1).long(), pred.reshape(-1).long()  # (P,)
    small = rows * num_classes < 2**31  # int32 indices halve the bytes bincount reads
    index = torch.empty(min(target.numel(), _CHUNK), dtype=torch.int32 if small else torch.int64,
                        device=target.device)
    for start in range(0, target.numel(), _CHUNK):
        t, p = target[start:start + _CHUNK], pred[start:start + _CHUNK]
        i = torch.add(p, t, alpha=num_classes, out=index[: t.numel()])  # t * C + p
        if row_lo:
            i -= row_lo * num_classes  # shift negative ignore_index rows to >= 0
        counts += torch.bincount(i, minlength=rows * num_classes)
    counts = counts.view(rows, num_classes)  # row r holds target value r + row_lo

    stray = counts.sum(1) > 0
    stray[-row_lo:-row_lo + num_classes] = False
    if ignore_index is not None:
        stray[ignore_index - row_lo] = False
    if bool(stray.any()):
        values = (stray.nonzero().flatten()[:5] + row_lo).tolist()
        raise ValueError(
            f"target has labels {values} outside [0, {num_classes}) that are not "
            f"ignore_index={ignore_index}"
        )
    cm = counts[-row_lo:-row_lo + num_classes].clone()  # (C, C)
    if ignore_index is not None and 0 <= ignore_index < num_classes:
        cm[ignore_index] = 0
    return cm


def _check_cm(cm: Tensor) -> Tensor:
    """Validate a confusion matrix and return it as float64 on the CPU."""
    if not isinstance(cm, Tensor):
        raise TypeError(f"cm must be a torch.Tensor, got {type(cm).__name__}")
    if cm.dim() != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"cm must be a non-empty square (C, C) matrix, got shape {tuple(cm.shape)}")
    if cm.is_complex() or cm.dtype == torch.bool:
        raise TypeError(f"cm must hold counts (integer or float), got dtype {cm.dtype}")
    cm = cm.detach().to("cpu", torch.float64)
    if not bool(torch.isfinite(cm).all()) or bool((cm < 0).any()):
        raise ValueError("cm must hold finite, non-negative counts")
    return cm


def pixel_accuracy(cm: Tensor) -> float:
    """Fraction of counted pixels predicted correctly: ``trace(cm) / cm.sum()``, in [0, 1].

    NaN when ``cm`` counts no pixel. Built in lessons/03-measuring-quality.
    """
    cm = _check_cm(cm)
    return float(cm.trace() / cm.sum())


def class_accuracy(cm: Tensor) -> Tensor:
    """Per-class recall ``TP / (TP + FN)``, float64 ``(C,)``; NaN for classes absent from the target."""
    cm = _check_cm(cm)
    return cm.diag() / cm.sum(1)


def iou_per_class(cm: Tensor) -> Tensor:
    """Intersection over union ``TP / (TP + FP + FN)`` per class, float64 ``(C,)`` in [0, 1].

    NaN for a class absent from both prediction and target. Built in lessons/03-measuring-quality.
    """
    cm = _check_cm(cm)
    tp = cm.diag()
    return tp / (cm.sum(0) + cm.sum(1) - tp)


def mean_iou(cm: Tensor) -> float:
    """Mean of :func:`iou_per_class` over the classes where it is defined (NaN if none is).

    With an ``ignore_index`` inside ``[0, C)`` that class counts as IoU 0 here (see
    :func:`confusion_matrix`); ``SegmentationMetrics`` leaves it out.
    """
    return float(torch.nanmean(iou_per_class(cm)))


def dice_per_class(cm: Tensor) -> Tensor:
    """Dice / F1 ``2 TP / (2 TP + FP + FN)`` per class, float64 ``(C,)`` in [0, 1].

    NaN for a class absent from both prediction and target. Built in lessons/03-measuring-quality.
    """
    cm = _check_cm(cm)
    tp = cm.diag()
    return 2 * tp / (cm.sum(0) + cm.sum(1))


def mean_dice(cm: Tensor) -> float:
    """Mean of :func:`dice_per_class` over the classes where it is defined (NaN if none is)."""
    return float(torch.nanmean(dice_per_class(cm)))


def frequency_weighted_iou(cm: Tensor) -> float:
    """IoU averaged with weights ``cm[c, :].sum() / cm.sum()`` (each class's share of the target).

    Classes absent from the target have weight 0. NaN when ``cm`` counts no pixel.
    """
    iou = iou_per_class(cm)
    support = _check_cm(cm).sum(1)  # (C,) pixels of each class in the target
    present = support > 0
    return float((support[present] * iou[present]).sum() / support.sum())


def boundary_band(masks: Tensor, width: int) -> Tensor:
    """Pixels within ``width`` pixels of a label change (the "trimap" band of the FCN/DeepLab papers).

    A pixel is in the band when the labels in its ``(2 width + 1) x (2 width + 1)`` window are not
    all equal (image borders are not boundaries). Score only the band by giving every other pixel
    ``ignore_index``: ``torch.where(band, masks, 255)``.

    Args:
        masks: integer labels ``(H, W)`` or ``(N, H, W)``.
        width: band half-width in pixels, ``>= 1``.

    Returns:
        bool tensor of the shape of ``masks``. Built in lessons/04-fcn (section 7), used in lessons/06-deeplab.
    """
    check_label_tensor(masks, "masks")
    if masks.dim() not in (2, 3):
        raise ValueError(f"masks must have shape (H, W) or (N, H, W), got {tuple(masks.shape)}")
    width = positive_int(width, "width")
    m = (masks if masks.dim() == 3 else masks[None])[:, None].double()  # (N, 1, H, W), exact labels
    k = 2 * width + 1

    def window_max(x: Tensor) -> Tensor:  # max over a k x k window: a column pass, then a row pass
        x = torch.nn.functional.max_pool2d(x, (k, 1), stride=1, padding=(width, 0))
        return torch.nn.functional.max_pool2d(x, (1, k), stride=1, padding=(0, width))

    band = (window_max(m) != -window_max(-m))[:, 0]  # (N, H, W): max != min in the window
    return band if masks.dim() == 3 else band[0]


class SegmentationMetrics:
    """Accumulate a confusion matrix over batches and report dataset-level scores.

    Scores are computed from the summed matrix, so any split of the data into batches gives the
    same result as one big batch (dataset-level averaging, unlike a mean of per-image scores).

    Example::

        metrics = SegmentationMetrics(num_classes=21, ignore_index=255)
        for images, masks in loader:
            metrics.update(model(images), masks)   # logits (N, C, H, W) or labels (N, H, W)
        scores = metrics.compute()                 # {"mean_iou": 0.62, ...}

    When ``ignore_index`` is a class in ``[0, C)``, that class is reported as NaN and left out of
    the means (like torchmetrics' macro average).

    Built in lessons/03-measuring-quality.
    """

    def __init__(self, num_classes: int, ignore_index: int | None = None) -> None:
        self.num_classes = check_num_classes(num_classes)
        self.ignore_index = check_ignore_index(ignore_index)
        self.confusion: Tensor | None = None

    def update(self, pred: Tensor, target: Tensor) -> None:
        """Add one batch; ``pred`` and ``target`` as in :func:`confusion_matrix`."""
        cm = confusion_matrix(pred, target, self.num_classes, self.ignore_index)
        self.confusion = cm if self.confusion is None else self.confusion + cm.to(self.confusion.device)

    def reset(self) -> None:
        """Forget every batch seen so far."""
        self.confusion = None

    def compute(self) -> dict[str, Number | Tensor]:
        """Scores of everything seen since the last reset.

        Returns:
            ``pixel_accuracy``, ``mean_iou``, ``mean_dice``, ``mean_class_accuracy``, ``fw_iou``
            (floats); ``iou_per_class``, ``dice_per_class``, ``class_accuracy`` (float64 ``(C,)``);
            ``confusion_matrix`` (int64 ``(C, C)``, CPU).

        Raises:
            RuntimeError: :meth:`update` was never called.
        """
        if self.confusion is None:
            raise RuntimeError("SegmentationMetrics.compute() called before any update()")
        cm = self.confusion.cpu()
        per_class = {
            "iou_per_class": iou_per_class(cm),
            "dice_per_class": dice_per_class(cm),
            "class_accuracy": class_accuracy(cm),
        }
        if self.ignore_index is not None and 0 <= self.ignore_index < self.num_classes:
            for values in per_class.values():
                values[self.ignore_index] = float("nan")
        return {
            "pixel_accuracy": pixel_accuracy(cm),
            "mean_iou": float(torch.nanmean(per_class["iou_per_class"])),
            "mean_dice": float(torch.nanmean(per_class["dice_per_class"])),
            "mean_class_accuracy": float(torch.nanmean(per_class["class_accuracy"])),
            "fw_iou": frequency_weighted_iou(cm),
            **per_class,
            "confusion_matrix": cm,
        }
