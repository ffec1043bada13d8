"""Plausible wrong answers for unit 10 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    # ---------------------------------------------------------------- per_class_recall
    dict(
        cell="per_class_recall",
        id="recall-column-sum",
        description="divides by the column sum: that is precision, not recall",
        patch=[('    return cm.diagonal() / cm.sum(dim=1)          # row sums: the true pixels of each class',
                '    return cm.diagonal() / cm.sum(dim=0)')],
    ),
    dict(
        cell="per_class_recall",
        id="recall-epsilon",
        description="an epsilon in the denominator turns an absent class's NaN into 0",
        patch=[('    return cm.diagonal() / cm.sum(dim=1)          # row sums: the true pixels of each class',
                '    return cm.diagonal() / (cm.sum(dim=1) + 1e-9)')],
    ),
    dict(
        cell="per_class_recall",
        id="recall-float32",
        description="float32 counts: wrong dtype and lost precision on large counts",
        source='''
def per_class_recall(cm):
    cm = cm.float()
    return cm.diagonal() / cm.sum(dim=1)
''',
    ),
    dict(
        cell="per_class_recall",
        id="recall-delegates",
        description="calls segkit.metrics.class_accuracy instead of writing it",
        source='''
def per_class_recall(cm):
    from segkit import metrics
    return metrics.class_accuracy(cm)
''',
    ),
    # ---------------------------------------------------------------- sensitivity_specificity
    dict(
        cell="sensitivity_specificity",
        id="sens-strict-threshold",
        description="flags prob > threshold, so a pixel exactly at the threshold is missed",
        source='''
def sensitivity_specificity(prob, target, threshold):
    flagged, lesion = prob > threshold, target == 1
    tp = (flagged & lesion).sum().item()
    fn = (~flagged & lesion).sum().item()
    tn = (~flagged & ~lesion).sum().item()
    fp = (flagged & ~lesion).sum().item()
    sensitivity = tp / (tp + fn) if tp + fn else math.nan
    specificity = tn / (tn + fp) if tn + fp else math.nan
    return sensitivity, specificity
''',
    ),
    dict(
        cell="sensitivity_specificity",
        id="spec-is-precision",
        description="computes TP / (TP + FP) (precision) as the specificity",
        patch=[('    tn = (~flagged & ~lesion).sum().item()',
                ''),
               ('    specificity = tn / (tn + fp) if tn + fp else math.nan',
                '    specificity = tp / (tp + fp) if tp + fp else math.nan')],
    ),
    dict(
        cell="sensitivity_specificity",
        id="sens-zero-not-nan",
        description="guards the division with max(..., 1): no lesion gives sensitivity 0 instead of NaN",
        patch=[('    sensitivity = tp / (tp + fn) if tp + fn else math.nan\n    specificity = tn / (tn + fp) if tn + fp else math.nan\n    return sensitivity, specificity',
                '    return tp / max(tp + fn, 1), tn / max(tn + fp, 1)')],
    ),
    dict(
        cell="sensitivity_specificity",
        id="sens-tensors",
        description="returns 0-d tensors instead of Python floats",
        patch=[('    tp = (flagged & lesion).sum().item()\n    fn = (~flagged & lesion).sum().item()\n    tn = (~flagged & ~lesion).sum().item()\n    fp = (flagged & ~lesion).sum().item()\n    sensitivity = tp / (tp + fn) if tp + fn else math.nan\n    specificity = tn / (tn + fp) if tn + fp else math.nan',
                '    sensitivity = (flagged & lesion).sum() / lesion.sum()\n    specificity = (~flagged & ~lesion).sum() / (~lesion).sum()')],
    ),
    # ---------------------------------------------------------------- sliding_window
    dict(
        cell="sliding_window",
        id="window-no-normalise",
        description="adds up the weighted logits but never divides by the summed weights",
        patch=[('    total, norm = None, torch.zeros(height, width)',
                '    total = None'),
               ('                norm[top:top + win_h, left:left + win_w] += weights\n    return total / norm',
                '    return total')],
    ),
    dict(
        cell="sliding_window",
        id="window-plain-average",
        description="averages overlapping windows uniformly instead of with the Gaussian blend weights",
        patch=[('    weights = blend_weights((win_h, win_w), "gaussian")                   # (h, w), 1 at the centre',
                ''),
               ('                total[:, :, top:top + win_h, left:left + win_w] += logits * weights\n                norm[top:top + win_h, left:left + win_w] += weights',
                '                total[:, :, top:top + win_h, left:left + win_w] += logits\n                norm[top:top + win_h, left:left + win_w] += 1')],
    ),
    dict(
        cell="sliding_window",
        id="window-misses-edge",
        description="steps with range(0, size - window + 1, step): no last window flush with the edge, border pixels uncovered",
        patch=[('    weights = blend_weights((win_h, win_w), "gaussian")                   # (h, w), 1 at the centre',
                '    weights = blend_weights((win_h, win_w), "gaussian")                   # (h, w), 1 at the centre\n    step_h, step_w = max(1, int(win_h * (1 - overlap))), max(1, int(win_w * (1 - overlap)))'),
               ('        for top in window_starts(height, win_h, overlap):\n            for left in window_starts(width, win_w, overlap):',
                '        for top in range(0, height - win_h + 1, step_h):\n            for left in range(0, width - win_w + 1, step_w):')],
    ),
    dict(
        cell="sliding_window",
        id="window-delegates",
        description="calls segkit.inference.sliding_window_logits instead of writing it",
        source='''
def sliding_window(model, batch, window, overlap):
    from segkit.inference import sliding_window_logits
    return sliding_window_logits(model, batch, window=window, overlap=overlap, blend="gaussian")
''',
    ),
    # ---------------------------------------------------------------- class_areas_m2
    dict(
        cell="class_areas_m2",
        id="area-gsd-not-squared",
        description="multiplies the pixel count by the GSD instead of the GSD squared",
        patch=[('        raise ValueError(f"gsd_m must be a positive number of metres per pixel, got {gsd_m!r}")',
                '        raise ValueError("gsd_m must be positive")'),
               ('    counts = torch.bincount(labels, minlength=num_classes).double()    # (num_classes,)\n    return counts * gsd_m**2',
                '    return torch.bincount(labels, minlength=num_classes).double() * gsd_m')],
    ),
    dict(
        cell="class_areas_m2",
        id="area-no-minlength",
        description="bincount without minlength: classes above the largest present one are missing",
        patch=[('        raise ValueError(f"gsd_m must be a positive number of metres per pixel, got {gsd_m!r}")',
                '        raise ValueError("gsd_m must be positive")'),
               ('    counts = torch.bincount(labels, minlength=num_classes).double()    # (num_classes,)\n    return counts * gsd_m**2',
                '    return torch.bincount(labels).double() * gsd_m**2')],
    ),
    dict(
        cell="class_areas_m2",
        id="area-ignore-zero-falsy",
        description="tests `if ignore_index:`, so ignore_index=0 ignores nothing",
        patch=[('        raise ValueError(f"gsd_m must be a positive number of metres per pixel, got {gsd_m!r}")',
                '        raise ValueError("gsd_m must be positive")'),
               ('    if ignore_index is not None:',
                '    if ignore_index:'),
               ('    counts = torch.bincount(labels, minlength=num_classes).double()    # (num_classes,)\n    return counts * gsd_m**2',
                '    return torch.bincount(labels, minlength=num_classes).double() * gsd_m**2')],
    ),
    dict(
        cell="class_areas_m2",
        id="area-no-gsd-check",
        description="accepts a zero or negative ground resolution and returns zero or negative areas",
        source='''
def class_areas_m2(mask, gsd_m, num_classes, ignore_index=None):
    labels = mask.reshape(-1)
    if ignore_index is not None:
        labels = labels[labels != ignore_index]
    return torch.bincount(labels, minlength=num_classes).double() * gsd_m**2
''',
    ),
    # ---------------------------------------------------------------- free_space_heading
    dict(
        cell="free_space_heading",
        id="heading-all-floor-pixels",
        description="counts every floor pixel of a column, including floor seen behind an obstacle",
        patch=[('    from_bottom = floor.flip(0).long()                       # row 0 is now the row in front of the robot\n    runs = from_bottom.cumprod(dim=0).sum(dim=0).double()    # (W,) consecutive floor pixels from the bottom',
                '    runs = floor.double().sum(dim=0)')],
    ),
    dict(
        cell="free_space_heading",
        id="heading-linear-angle",
        description="maps the column linearly onto the field of view instead of atan(dx / f)",
        patch=[('    from_bottom = floor.flip(0).long()                       # row 0 is now the row in front of the robot\n    runs = from_bottom.cumprod(dim=0).sum(dim=0).double()    # (W,) consecutive floor pixels from the bottom',
                '    runs = floor.flip(0).long().cumprod(dim=0).sum(dim=0).double()'),
               ('    focal = (width / 2) / math.tan(math.radians(fov_deg) / 2)\n    return math.degrees(math.atan((target.item() - width / 2) / focal))',
                '    return float((target.item() - width / 2) / (width / 2) * fov_deg / 2)')],
    ),
    dict(
        cell="free_space_heading",
        id="heading-zero-when-blocked",
        description="returns 0 (straight on) when there is no free floor, instead of nan",
        patch=[('    from_bottom = floor.flip(0).long()                       # row 0 is now the row in front of the robot\n    runs = from_bottom.cumprod(dim=0).sum(dim=0).double()    # (W,) consecutive floor pixels from the bottom',
                '    runs = floor.flip(0).long().cumprod(dim=0).sum(dim=0).double()'),
               ('        return math.nan',
                '        return 0.0')],
    ),
    dict(
        cell="free_space_heading",
        id="heading-run-from-top",
        description="counts the run from the top row (far away) instead of the bottom row (in front of the robot)",
        patch=[('    from_bottom = floor.flip(0).long()                       # row 0 is now the row in front of the robot\n    runs = from_bottom.cumprod(dim=0).sum(dim=0).double()    # (W,) consecutive floor pixels from the bottom',
                '    runs = floor.long().cumprod(dim=0).sum(dim=0).double()')],
    ),
    dict(
        cell="free_space_heading",
        id="heading-sign-flipped",
        description="measures the offset as centre minus column, so right becomes left",
        patch=[('    from_bottom = floor.flip(0).long()                       # row 0 is now the row in front of the robot\n    runs = from_bottom.cumprod(dim=0).sum(dim=0).double()    # (W,) consecutive floor pixels from the bottom',
                '    runs = floor.flip(0).long().cumprod(dim=0).sum(dim=0).double()'),
               ('    return math.degrees(math.atan((target.item() - width / 2) / focal))',
                '    return math.degrees(math.atan((width / 2 - target.item()) / focal))')],
    ),
]
