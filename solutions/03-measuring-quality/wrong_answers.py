"""Plausible wrong answers for unit 03 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    # ---- confusion_matrix --------------------------------------------------------------------
    dict(
        cell="confusion_matrix",
        id="cm-transposed",
        description="p * C + t: rows are the predictions, columns the truth",
        patch=[('    index = target.long() * num_classes + pred.long()                 # (P,) in [0, C*C)\n    counts = torch.bincount(index, minlength=num_classes * num_classes)',
                '    counts = torch.bincount(pred * num_classes + target, minlength=num_classes * num_classes)')],
    ),
    dict(
        cell="confusion_matrix",
        id="cm-no-minlength",
        description="bincount without minlength: the matrix shrinks when the last classes never occur",
        patch=[('    index = target.long() * num_classes + pred.long()                 # (P,) in [0, C*C)\n    counts = torch.bincount(index, minlength=num_classes * num_classes)\n    return counts.reshape(num_classes, num_classes)',
                '    counts = torch.bincount(target * num_classes + pred)\n    size = int(counts.numel() ** 0.5)\n    return counts[: size * size].reshape(size, size)')],
    ),
    dict(
        cell="confusion_matrix",
        id="cm-ignore-by-prediction",
        description="leaves out the pixels whose PREDICTION is ignore_index instead of their target",
        patch=[('        keep = target != ignore_index',
                '        keep = (pred != ignore_index) & (target < num_classes)'),
               ('    index = target.long() * num_classes + pred.long()                 # (P,) in [0, C*C)\n    counts = torch.bincount(index, minlength=num_classes * num_classes)',
                '    counts = torch.bincount(target * num_classes + pred, minlength=num_classes * num_classes)')],
    ),
    dict(
        cell="confusion_matrix",
        id="cm-ignore-index-0-is-none",
        description="`if ignore_index:` takes ignore_index=0 (a real class) for 'no ignore'",
        patch=[('    if ignore_index is not None:',
                '    if ignore_index:'),
               ('    index = target.long() * num_classes + pred.long()                 # (P,) in [0, C*C)\n    counts = torch.bincount(index, minlength=num_classes * num_classes)',
                '    counts = torch.bincount(target * num_classes + pred, minlength=num_classes * num_classes)')],
    ),
    dict(
        cell="confusion_matrix",
        id="cm-filters-valid-range",
        description="keeps the targets in [0, C) instead of dropping ignore_index: ignore_index=0 is counted",
        source='''
def confusion_matrix(pred, target, num_classes, ignore_index=None):
    target, pred = target.reshape(-1), pred.reshape(-1)
    keep = (target >= 0) & (target < num_classes)
    target, pred = target[keep], pred[keep]
    counts = torch.bincount(target * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)
''',
    ),
    dict(
        cell="confusion_matrix",
        id="cm-modifies-target",
        description="marks ignored pixels in place through a view of target, changing the caller's mask",
        source='''
def confusion_matrix(pred, target, num_classes, ignore_index=None):
    target, pred = target.view(-1), pred.reshape(-1)
    if ignore_index is not None:
        target[target == ignore_index] = -1
    keep = target >= 0
    counts = torch.bincount(target[keep] * num_classes + pred[keep], minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)
''',
    ),
    dict(
        cell="confusion_matrix",
        id="cm-float-counts",
        description="counts with a float histogram: float32 counts lose precision past 2**24 pixels",
        patch=[('    index = target.long() * num_classes + pred.long()                 # (P,) in [0, C*C)\n    counts = torch.bincount(index, minlength=num_classes * num_classes)',
                '    index = (target * num_classes + pred).float()\n    counts = torch.histc(index, bins=num_classes * num_classes, min=0, max=num_classes * num_classes - 1)')],
    ),
    dict(
        cell="confusion_matrix",
        id="cm-delegates-metrics",
        description="calls segkit.metrics.confusion_matrix, segkit's version of this exercise",
        source='''
def confusion_matrix(pred, target, num_classes, ignore_index=None):
    return metrics.confusion_matrix(pred, target, num_classes, ignore_index=ignore_index)
''',
    ),
    # ---- iou_per_class -----------------------------------------------------------------------
    dict(
        cell="iou_per_class",
        id="iou-float32",
        description="cm.float(): float32, which cannot hold millions of pixels exactly",
        source='''
def iou_per_class(cm):
    cm = cm.float()
    tp = cm.diagonal()
    return tp / (cm.sum(dim=0) + cm.sum(dim=1) - tp)
''',
    ),
    dict(
        cell="iou_per_class",
        id="iou-absent-is-zero",
        description="clamps the union to 1: an absent class gets IoU 0 instead of NaN",
        patch=[('    union = cm.sum(dim=0) + cm.sum(dim=1) - tp           # (C,) = TP + FP + FN\n    return tp / union',
                '    return tp / (cm.sum(dim=0) + cm.sum(dim=1) - tp).clamp(min=1)')],
    ),
    dict(
        cell="iou_per_class",
        id="iou-union-counts-tp-twice",
        description="union = row sum + column sum, forgetting to subtract the TP counted twice",
        patch=[('    tp = cm.diagonal()                                   # (C,)\n    union = cm.sum(dim=0) + cm.sum(dim=1) - tp           # (C,) = TP + FP + FN\n    return tp / union',
                '    return cm.diagonal() / (cm.sum(dim=0) + cm.sum(dim=1))')],
    ),
    dict(
        cell="iou_per_class",
        id="iou-recall",
        description="TP / row sum (recall): false positives never count",
        patch=[('    tp = cm.diagonal()                                   # (C,)\n    union = cm.sum(dim=0) + cm.sum(dim=1) - tp           # (C,) = TP + FP + FN\n    return tp / union',
                '    return cm.diagonal() / cm.sum(dim=1)')],
    ),
    dict(
        cell="iou_per_class",
        id="iou-absent-from-target-is-nan",
        description="NaN for every class absent from the target, also when it was predicted (FP only)",
        patch=[('    union = cm.sum(dim=0) + cm.sum(dim=1) - tp           # (C,) = TP + FP + FN\n    return tp / union',
                '    iou = tp / (cm.sum(dim=0) + cm.sum(dim=1) - tp)\n    return torch.where(cm.sum(dim=1) == 0, torch.tensor(float("nan"), dtype=torch.float64), iou)')],
    ),
    dict(
        cell="iou_per_class",
        id="iou-delegates-metrics",
        description="calls segkit.metrics.iou_per_class, segkit's version of this exercise",
        source='''
def iou_per_class(cm):
    return metrics.iou_per_class(cm)
''',
    ),
    # ---- mean_iou ----------------------------------------------------------------------------
    dict(
        cell="mean_iou",
        id="miou-plain-mean",
        description="mean() instead of nanmean(): one absent class makes the mIoU NaN",
        source='''
def mean_iou(cm):
    return iou_per_class(cm).mean().item()
''',
    ),
    dict(
        cell="mean_iou",
        id="miou-nan-as-zero",
        description="replaces NaN by 0 before averaging: absent classes count as failures",
        source='''
def mean_iou(cm):
    return torch.nan_to_num(iou_per_class(cm), nan=0.0).mean().item()
''',
    ),
    dict(
        cell="mean_iou",
        id="miou-returns-tensor",
        description="returns the 0-d tensor instead of a Python float",
        source='''
def mean_iou(cm):
    return torch.nanmean(iou_per_class(cm))
''',
    ),
    dict(
        cell="mean_iou",
        id="miou-only-target-classes",
        description="averages over the classes present in the target only: a class only predicted (IoU 0) is dropped",
        source='''
def mean_iou(cm):
    iou = iou_per_class(cm)
    return iou[cm.sum(dim=1) > 0].mean().item()
''',
    ),
    dict(
        cell="mean_iou",
        id="miou-empty-is-zero",
        description="returns 0.0 when no class is present at all, instead of NaN",
        source='''
def mean_iou(cm):
    iou = iou_per_class(cm)
    defined = iou[~torch.isnan(iou)]
    return defined.mean().item() if len(defined) else 0.0
''',
    ),
    dict(
        cell="mean_iou",
        id="miou-delegates-metrics",
        description="calls segkit.metrics.mean_iou, segkit's version of this exercise",
        source='''
def mean_iou(cm):
    return metrics.mean_iou(cm)
''',
    ),
    # ---- dice_per_class ----------------------------------------------------------------------
    dict(
        cell="dice_per_class",
        id="dice-twice-iou",
        description="2 TP / (TP + FP + FN): twice the IoU, not Dice",
        patch=[('    return 2 * tp / (cm.sum(dim=0) + cm.sum(dim=1))      # |pred_c| + |true_c| = 2 TP + FP + FN',
                '    return 2 * tp / (cm.sum(dim=0) + cm.sum(dim=1) - tp)')],
    ),
    dict(
        cell="dice_per_class",
        id="dice-absent-is-zero",
        description="clamps the denominator to 1: an absent class gets Dice 0 instead of NaN",
        patch=[('    tp = cm.diagonal()                                   # (C,)\n    return 2 * tp / (cm.sum(dim=0) + cm.sum(dim=1))      # |pred_c| + |true_c| = 2 TP + FP + FN',
                '    return 2 * cm.diagonal() / (cm.sum(dim=0) + cm.sum(dim=1)).clamp(min=1)')],
    ),
    dict(
        cell="dice_per_class",
        id="dice-float32",
        description="cm.float(): float32 instead of float64",
        source='''
def dice_per_class(cm):
    cm = cm.float()
    return 2 * cm.diagonal() / (cm.sum(dim=0) + cm.sum(dim=1))
''',
    ),
    dict(
        cell="dice_per_class",
        id="dice-forgets-fn",
        description="denominator TP + column sum (2 TP + FP): the missed pixels (FN) never count",
        patch=[('    return 2 * tp / (cm.sum(dim=0) + cm.sum(dim=1))      # |pred_c| + |true_c| = 2 TP + FP + FN',
                '    return 2 * tp / (tp + cm.sum(dim=0))')],
    ),
    dict(
        cell="dice_per_class",
        id="dice-delegates-metrics",
        description="calls segkit.metrics.dice_per_class, segkit's version of this exercise",
        source='''
def dice_per_class(cm):
    return metrics.dice_per_class(cm)
''',
    ),
]
