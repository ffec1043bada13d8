"""Plausible wrong answers for unit 01 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    # ---- colorize ----------------------------------------------------------------------------
    dict(
        cell="colorize",
        id="no-range-check",
        description="palette[mask] alone: a label >= C is an IndexError, a negative one silently takes a colour from the end",
        source='''
def colorize(mask: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    return palette[mask]
''',
    ),
    dict(
        cell="colorize",
        id="negative-labels-pass",
        description="checks only the upper end of the range: -1 is coloured with the last colour",
        source='''
def colorize(mask: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    if (mask >= palette.shape[0]).any():
        raise ValueError(f"labels must be < {palette.shape[0]}")
    return palette[mask]
''',
    ),
    dict(
        cell="colorize",
        id="off-by-one-range",
        description="checks mask > C instead of mask >= C: label C slips through to an IndexError",
        source='''
def colorize(mask: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    c = palette.shape[0]
    if (mask < 0).any() or (mask > c).any():
        raise ValueError(f"labels outside [0, {c})")
    return palette[mask]
''',
    ),
    dict(
        cell="colorize",
        id="channels-first",
        description="returns the picture channels-first (3, H, W), the layout of image tensors",
        source='''
def colorize(mask: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    c = palette.shape[0]
    if (mask < 0).any() or (mask >= c).any():
        raise ValueError(f"labels outside [0, {c})")
    return palette[mask].permute(2, 0, 1)
''',
    ),
    dict(
        cell="colorize",
        id="float-colours",
        description="scales the colours to [0, 1] floats instead of keeping the palette's uint8",
        source='''
def colorize(mask: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    c = palette.shape[0]
    if (mask < 0).any() or (mask >= c).any():
        raise ValueError(f"labels outside [0, {c})")
    return palette[mask].float() / 255
''',
    ),
    dict(
        cell="colorize",
        id="delegates-viz-colorize",
        description="calls segkit.viz.colorize, the library version of this exercise",
        source='''
def colorize(mask: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(viz.colorize(mask, palette, ignore_index=None))
''',
    ),
    # ---- class_frequencies -------------------------------------------------------------------
    dict(
        cell="class_frequencies",
        id="no-minlength",
        description="bincount without minlength: classes after the largest present label have no entry",
        patch=[('    bad = (labels < 0) | (labels >= num_classes)\n    if bad.any():\n        raise ValueError(f"labels {labels[bad].unique().tolist()} are outside [0, {num_classes})")\n    counts = torch.bincount(labels, minlength=num_classes)  # (C,)\n    return counts.float() / labels.numel()',
                '    if ((labels < 0) | (labels >= num_classes)).any():\n        raise ValueError("labels outside [0, num_classes)")\n    return torch.bincount(labels).float() / labels.numel()')],
    ),
    dict(
        cell="class_frequencies",
        id="counts-not-fractions",
        description="returns the pixel counts, not divided by the number of pixels",
        patch=[('    bad = (labels < 0) | (labels >= num_classes)\n    if bad.any():\n        raise ValueError(f"labels {labels[bad].unique().tolist()} are outside [0, {num_classes})")\n    counts = torch.bincount(labels, minlength=num_classes)  # (C,)\n    return counts.float() / labels.numel()',
                '    if ((labels < 0) | (labels >= num_classes)).any():\n        raise ValueError("labels outside [0, num_classes)")\n    return torch.bincount(labels, minlength=num_classes).float()')],
    ),
    dict(
        cell="class_frequencies",
        id="divides-by-h-times-w",
        description="divides by H * W of one mask: a batch (N, H, W) sums to N, not 1",
        patch=[('    bad = (labels < 0) | (labels >= num_classes)\n    if bad.any():\n        raise ValueError(f"labels {labels[bad].unique().tolist()} are outside [0, {num_classes})")\n    counts = torch.bincount(labels, minlength=num_classes)  # (C,)\n    return counts.float() / labels.numel()',
                '    if ((labels < 0) | (labels >= num_classes)).any():\n        raise ValueError("labels outside [0, num_classes)")\n    return torch.bincount(labels, minlength=num_classes).float() / (mask.shape[-2] * mask.shape[-1])')],
    ),
    dict(
        cell="class_frequencies",
        id="float64",
        description="returns float64 fractions (.double()) instead of float32",
        patch=[('    bad = (labels < 0) | (labels >= num_classes)\n    if bad.any():\n        raise ValueError(f"labels {labels[bad].unique().tolist()} are outside [0, {num_classes})")\n    counts = torch.bincount(labels, minlength=num_classes)  # (C,)\n    return counts.float() / labels.numel()',
                '    if ((labels < 0) | (labels >= num_classes)).any():\n        raise ValueError("labels outside [0, num_classes)")\n    return torch.bincount(labels, minlength=num_classes).double() / labels.numel()')],
    ),
    dict(
        cell="class_frequencies",
        id="no-label-check",
        description="no range check: a label == num_classes grows the result, a negative one is a RuntimeError",
        patch=[('    bad = (labels < 0) | (labels >= num_classes)\n    if bad.any():\n        raise ValueError(f"labels {labels[bad].unique().tolist()} are outside [0, {num_classes})")\n    counts = torch.bincount(labels, minlength=num_classes)  # (C,)\n    return counts.float() / labels.numel()',
                '    return torch.bincount(labels, minlength=num_classes).float() / labels.numel()')],
    ),
    # ---- one_hot -----------------------------------------------------------------------------
    dict(
        cell="one_hot",
        id="class-axis-last",
        description="F.one_hot as it comes: the class axis last, (H, W, C)",
        patch=[('    bad = valid & ((mask < 0) | (mask >= num_classes))\n    if bad.any():\n        raise ValueError(f"labels {mask[bad].unique().tolist()} are outside [0, {num_classes}) and not ignore_index={ignore_index}")\n    planes = F.one_hot(torch.where(valid, mask, 0), num_classes)  # (..., H, W, C), int64\n    planes = planes * valid.unsqueeze(-1)  # ignored pixels: all zeros\n    return planes.movedim(-1, -3).float()  # (..., C, H, W)',
                '    planes = F.one_hot(torch.where(valid, mask, 0), num_classes) * valid.unsqueeze(-1)\n    return planes.float()')],
    ),
    dict(
        cell="one_hot",
        id="permute-2-0-1",
        description="permute(2, 0, 1) works for one mask and breaks on a batch (N, H, W)",
        patch=[('    bad = valid & ((mask < 0) | (mask >= num_classes))\n    if bad.any():\n        raise ValueError(f"labels {mask[bad].unique().tolist()} are outside [0, {num_classes}) and not ignore_index={ignore_index}")\n    planes = F.one_hot(torch.where(valid, mask, 0), num_classes)  # (..., H, W, C), int64\n    planes = planes * valid.unsqueeze(-1)  # ignored pixels: all zeros\n    return planes.movedim(-1, -3).float()  # (..., C, H, W)',
                '    planes = F.one_hot(torch.where(valid, mask, 0), num_classes) * valid.unsqueeze(-1)\n    return planes.permute(2, 0, 1).float()')],
    ),
    dict(
        cell="one_hot",
        id="ignored-become-class-0",
        description="replaces ignored labels by 0 and forgets to zero them afterwards: they land in class 0",
        source='''
def one_hot(mask: torch.Tensor, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    safe = torch.where(mask == ignore_index, 0, mask)
    return F.one_hot(safe, num_classes).movedim(-1, -3).float()
''',
    ),
    dict(
        cell="one_hot",
        id="hardcoded-255",
        description="tests for 255 instead of the ignore_index argument",
        source='''
def one_hot(mask: torch.Tensor, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    valid = mask != 255
    if (valid & ((mask < 0) | (mask >= num_classes))).any():
        raise ValueError("labels outside [0, num_classes)")
    planes = F.one_hot(torch.where(valid, mask, 0), num_classes) * valid.unsqueeze(-1)
    return planes.movedim(-1, -3).float()
''',
    ),
    dict(
        cell="one_hot",
        id="out-of-range-ignored",
        description="treats every out-of-range label as ignored instead of raising ValueError",
        source='''
def one_hot(mask: torch.Tensor, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    valid = (mask >= 0) & (mask < num_classes)
    planes = F.one_hot(torch.where(valid, mask, 0), num_classes) * valid.unsqueeze(-1)
    return planes.movedim(-1, -3).float()
''',
    ),
    dict(
        cell="one_hot",
        id="ignore-index-0-is-none",
        description="`if ignore_index:` takes ignore_index=0 (class 0 ignored) for 'nothing ignored'",
        source='''
def one_hot(mask: torch.Tensor, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    if ignore_index:
        valid = mask != ignore_index
    else:
        valid = torch.ones_like(mask, dtype=torch.bool)
    if (valid & ((mask < 0) | (mask >= num_classes))).any():
        raise ValueError("labels outside [0, num_classes)")
    planes = F.one_hot(torch.where(valid, mask, 0), num_classes) * valid.unsqueeze(-1)
    return planes.movedim(-1, -3).float()
''',
    ),
    dict(
        cell="one_hot",
        id="int64-planes",
        description="returns F.one_hot's int64 planes instead of float32",
        patch=[('    bad = valid & ((mask < 0) | (mask >= num_classes))\n    if bad.any():\n        raise ValueError(f"labels {mask[bad].unique().tolist()} are outside [0, {num_classes}) and not ignore_index={ignore_index}")\n    planes = F.one_hot(torch.where(valid, mask, 0), num_classes)  # (..., H, W, C), int64\n    planes = planes * valid.unsqueeze(-1)  # ignored pixels: all zeros\n    return planes.movedim(-1, -3).float()  # (..., C, H, W)',
                '    if (valid & ((mask < 0) | (mask >= num_classes))).any():\n        raise ValueError("labels outside [0, num_classes)")\n    planes = F.one_hot(torch.where(valid, mask, 0), num_classes) * valid.unsqueeze(-1)\n    return planes.movedim(-1, -3)')],
    ),
    # ---- overlay -----------------------------------------------------------------------------
    dict(
        cell="overlay",
        id="palette-not-scaled",
        description="mixes the 0..255 palette with the [0, 1] image without dividing by 255",
        patch=[('        raise ValueError(f"image {tuple(image.shape)} and mask {tuple(mask.shape)} must have the same height and width")\n    colours = palette[mask].float() / 255.0  # (H, W, 3)\n    return (1.0 - alpha) * image.permute(1, 2, 0).float() + alpha * colours',
                '        raise ValueError("image and mask sizes differ")\n    return (1 - alpha) * image.permute(1, 2, 0) + alpha * palette[mask].float()')],
    ),
    dict(
        cell="overlay",
        id="alpha-swapped",
        description="alpha weights the image instead of the mask",
        patch=[('        raise ValueError(f"image {tuple(image.shape)} and mask {tuple(mask.shape)} must have the same height and width")\n    colours = palette[mask].float() / 255.0  # (H, W, 3)\n    return (1.0 - alpha) * image.permute(1, 2, 0).float() + alpha * colours',
                '        raise ValueError("image and mask sizes differ")\n    return alpha * image.permute(1, 2, 0) + (1 - alpha) * palette[mask].float() / 255')],
    ),
    dict(
        cell="overlay",
        id="channels-first-output",
        description="blends in the image's layout and returns (3, H, W), not channels-last",
        patch=[('        raise ValueError(f"image {tuple(image.shape)} and mask {tuple(mask.shape)} must have the same height and width")\n    colours = palette[mask].float() / 255.0  # (H, W, 3)\n    return (1.0 - alpha) * image.permute(1, 2, 0).float() + alpha * colours',
                '        raise ValueError("image and mask sizes differ")\n    return (1 - alpha) * image + alpha * palette[mask].permute(2, 0, 1).float() / 255')],
    ),
    dict(
        cell="overlay",
        id="no-size-check",
        description="no check that the image and mask sizes agree (torch's broadcasting error instead)",
        patch=[('    if image.shape[-2:] != mask.shape:\n        raise ValueError(f"image {tuple(image.shape)} and mask {tuple(mask.shape)} must have the same height and width")\n    colours = palette[mask].float() / 255.0  # (H, W, 3)\n    return (1.0 - alpha) * image.permute(1, 2, 0).float() + alpha * colours',
                '    return (1 - alpha) * image.permute(1, 2, 0) + alpha * palette[mask].float() / 255')],
    ),
    dict(
        cell="overlay",
        id="alpha-open-interval",
        description="rejects the ends alpha=0 and alpha=1, which are valid opacities",
        source='''
def overlay(image: torch.Tensor, mask: torch.Tensor, palette: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if image.shape[-2:] != mask.shape:
        raise ValueError("image and mask sizes differ")
    return (1 - alpha) * image.permute(1, 2, 0) + alpha * palette[mask].float() / 255
''',
    ),
    dict(
        cell="overlay",
        id="delegates-viz-overlay",
        description="calls segkit.viz.overlay, the library version of this exercise",
        source='''
def overlay(image: torch.Tensor, mask: torch.Tensor, palette: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    return torch.as_tensor(viz.overlay(image, mask, palette, alpha=alpha, ignore_index=None)).float()
''',
    ),
]
