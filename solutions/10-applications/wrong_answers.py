"""Plausible wrong answers for unit 10 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    # ---------------------------------------------------------------- per_class_recall
    dict(
        cell="per_class_recall",
        id="recall-column-sum",
        description="divides by the column sum: that is precision, not recall",
        source='''
def per_class_recall(cm):
    cm = cm.double()
    return cm.diagonal() / cm.sum(dim=0)
''',
    ),
    dict(
        cell="per_class_recall",
        id="recall-epsilon",
        description="an epsilon in the denominator turns an absent class's NaN into 0",
        source='''
def per_class_recall(cm):
    cm = cm.double()
    return cm.diagonal() / (cm.sum(dim=1) + 1e-9)
''',
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
        source='''
def sensitivity_specificity(prob, target, threshold):
    flagged, lesion = prob >= threshold, target == 1
    tp = (flagged & lesion).sum().item()
    fn = (~flagged & lesion).sum().item()
    fp = (flagged & ~lesion).sum().item()
    sensitivity = tp / (tp + fn) if tp + fn else math.nan
    specificity = tp / (tp + fp) if tp + fp else math.nan
    return sensitivity, specificity
''',
    ),
    dict(
        cell="sensitivity_specificity",
        id="sens-zero-not-nan",
        description="guards the division with max(..., 1): no lesion gives sensitivity 0 instead of NaN",
        source='''
def sensitivity_specificity(prob, target, threshold):
    flagged, lesion = prob >= threshold, target == 1
    tp = (flagged & lesion).sum().item()
    fn = (~flagged & lesion).sum().item()
    tn = (~flagged & ~lesion).sum().item()
    fp = (flagged & ~lesion).sum().item()
    return tp / max(tp + fn, 1), tn / max(tn + fp, 1)
''',
    ),
    dict(
        cell="sensitivity_specificity",
        id="sens-tensors",
        description="returns 0-d tensors instead of Python floats",
        source='''
def sensitivity_specificity(prob, target, threshold):
    flagged, lesion = prob >= threshold, target == 1
    sensitivity = (flagged & lesion).sum() / lesion.sum()
    specificity = (~flagged & ~lesion).sum() / (~lesion).sum()
    return sensitivity, specificity
''',
    ),
    # ---------------------------------------------------------------- sliding_window
    dict(
        cell="sliding_window",
        id="window-no-normalise",
        description="adds up the weighted logits but never divides by the summed weights",
        source='''
def sliding_window(model, batch, window, overlap):
    n, _, height, width = batch.shape
    win_h, win_w = min(window, height), min(window, width)
    weights = blend_weights((win_h, win_w), "gaussian")
    total = None
    with torch.no_grad():
        for top in window_starts(height, win_h, overlap):
            for left in window_starts(width, win_w, overlap):
                logits = model(batch[:, :, top:top + win_h, left:left + win_w])
                if total is None:
                    total = torch.zeros(n, logits.shape[1], height, width)
                total[:, :, top:top + win_h, left:left + win_w] += logits * weights
    return total
''',
    ),
    dict(
        cell="sliding_window",
        id="window-plain-average",
        description="averages overlapping windows uniformly instead of with the Gaussian blend weights",
        source='''
def sliding_window(model, batch, window, overlap):
    n, _, height, width = batch.shape
    win_h, win_w = min(window, height), min(window, width)
    total, norm = None, torch.zeros(height, width)
    with torch.no_grad():
        for top in window_starts(height, win_h, overlap):
            for left in window_starts(width, win_w, overlap):
                logits = model(batch[:, :, top:top + win_h, left:left + win_w])
                if total is None:
                    total = torch.zeros(n, logits.shape[1], height, width)
                total[:, :, top:top + win_h, left:left + win_w] += logits
                norm[top:top + win_h, left:left + win_w] += 1
    return total / norm
''',
    ),
    dict(
        cell="sliding_window",
        id="window-misses-edge",
        description="steps with range(0, size - window + 1, step): no last window flush with the edge, border pixels uncovered",
        source='''
def sliding_window(model, batch, window, overlap):
    n, _, height, width = batch.shape
    win_h, win_w = min(window, height), min(window, width)
    weights = blend_weights((win_h, win_w), "gaussian")
    step_h, step_w = max(1, int(win_h * (1 - overlap))), max(1, int(win_w * (1 - overlap)))
    total, norm = None, torch.zeros(height, width)
    with torch.no_grad():
        for top in range(0, height - win_h + 1, step_h):
            for left in range(0, width - win_w + 1, step_w):
                logits = model(batch[:, :, top:top + win_h, left:left + win_w])
                if total is None:
                    total = torch.zeros(n, logits.shape[1], height, width)
                total[:, :, top:top + win_h, left:left + win_w] += logits * weights
                norm[top:top + win_h, left:left + win_w] += weights
    return total / norm
''',
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
        source='''
def class_areas_m2(mask, gsd_m, num_classes, ignore_index=None):
    if not gsd_m > 0:
        raise ValueError("gsd_m must be positive")
    labels = mask.reshape(-1)
    if ignore_index is not None:
        labels = labels[labels != ignore_index]
    return torch.bincount(labels, minlength=num_classes).double() * gsd_m
''',
    ),
    dict(
        cell="class_areas_m2",
        id="area-no-minlength",
        description="bincount without minlength: classes above the largest present one are missing",
        source='''
def class_areas_m2(mask, gsd_m, num_classes, ignore_index=None):
    if not gsd_m > 0:
        raise ValueError("gsd_m must be positive")
    labels = mask.reshape(-1)
    if ignore_index is not None:
        labels = labels[labels != ignore_index]
    return torch.bincount(labels).double() * gsd_m**2
''',
    ),
    dict(
        cell="class_areas_m2",
        id="area-ignore-zero-falsy",
        description="tests `if ignore_index:`, so ignore_index=0 ignores nothing",
        source='''
def class_areas_m2(mask, gsd_m, num_classes, ignore_index=None):
    if not gsd_m > 0:
        raise ValueError("gsd_m must be positive")
    labels = mask.reshape(-1)
    if ignore_index:
        labels = labels[labels != ignore_index]
    return torch.bincount(labels, minlength=num_classes).double() * gsd_m**2
''',
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
        source='''
def free_space_heading(floor, fov_deg):
    height, width = floor.shape
    runs = floor.double().sum(dim=0)
    if runs.sum() == 0:
        return math.nan
    x = torch.arange(width, dtype=torch.float64) + 0.5
    target = (runs * x).sum() / runs.sum()
    focal = (width / 2) / math.tan(math.radians(fov_deg) / 2)
    return math.degrees(math.atan((target.item() - width / 2) / focal))
''',
    ),
    dict(
        cell="free_space_heading",
        id="heading-linear-angle",
        description="maps the column linearly onto the field of view instead of atan(dx / f)",
        source='''
def free_space_heading(floor, fov_deg):
    height, width = floor.shape
    runs = floor.flip(0).long().cumprod(dim=0).sum(dim=0).double()
    if runs.sum() == 0:
        return math.nan
    x = torch.arange(width, dtype=torch.float64) + 0.5
    target = (runs * x).sum() / runs.sum()
    return float((target.item() - width / 2) / (width / 2) * fov_deg / 2)
''',
    ),
    dict(
        cell="free_space_heading",
        id="heading-zero-when-blocked",
        description="returns 0 (straight on) when there is no free floor, instead of nan",
        source='''
def free_space_heading(floor, fov_deg):
    height, width = floor.shape
    runs = floor.flip(0).long().cumprod(dim=0).sum(dim=0).double()
    if runs.sum() == 0:
        return 0.0
    x = torch.arange(width, dtype=torch.float64) + 0.5
    target = (runs * x).sum() / runs.sum()
    focal = (width / 2) / math.tan(math.radians(fov_deg) / 2)
    return math.degrees(math.atan((target.item() - width / 2) / focal))
''',
    ),
    dict(
        cell="free_space_heading",
        id="heading-run-from-top",
        description="counts the run from the top row (far away) instead of the bottom row (in front of the robot)",
        source='''
def free_space_heading(floor, fov_deg):
    height, width = floor.shape
    runs = floor.long().cumprod(dim=0).sum(dim=0).double()
    if runs.sum() == 0:
        return math.nan
    x = torch.arange(width, dtype=torch.float64) + 0.5
    target = (runs * x).sum() / runs.sum()
    focal = (width / 2) / math.tan(math.radians(fov_deg) / 2)
    return math.degrees(math.atan((target.item() - width / 2) / focal))
''',
    ),
    dict(
        cell="free_space_heading",
        id="heading-sign-flipped",
        description="measures the offset as centre minus column, so right becomes left",
        source='''
def free_space_heading(floor, fov_deg):
    height, width = floor.shape
    runs = floor.flip(0).long().cumprod(dim=0).sum(dim=0).double()
    if runs.sum() == 0:
        return math.nan
    x = torch.arange(width, dtype=torch.float64) + 0.5
    target = (runs * x).sum() / runs.sum()
    focal = (width / 2) / math.tan(math.radians(fov_deg) / 2)
    return math.degrees(math.atan((width / 2 - target.item()) / focal))
''',
    ),
]
