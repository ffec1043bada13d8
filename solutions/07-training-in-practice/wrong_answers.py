"""Plausible wrong answers for unit 07 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    # ---------------------------------------------------------------- random_crop_flip
    dict(
        cell="random_crop_flip",
        id="crop-flip-image-only",
        description="the classic bug: the image is flipped, the mask is not",
        patch=[('        image, mask = image.flip(-1), mask.flip(-1)',
                '        image = image.flip(-1)')],
    ),
    dict(
        cell="random_crop_flip",
        id="crop-offset-off-by-one",
        description="randint's high end is exclusive: the last window (bottom / right edge) never occurs",
        patch=[('    top = int(torch.randint(0, image.shape[1] - h + 1, (1,), generator=generator))\n    left = int(torch.randint(0, image.shape[2] - w + 1, (1,), generator=generator))',
                '    top = int(torch.randint(0, max(image.shape[1] - h, 1), (1,), generator=generator))\n    left = int(torch.randint(0, max(image.shape[2] - w, 1), (1,), generator=generator))')],
    ),
    dict(
        cell="random_crop_flip",
        id="crop-pad-mask-with-zero",
        description="the mask is padded with 0 (a real class) instead of ignore_index",
        patch=[('        mask = F.pad(mask, (0, pad_w, 0, pad_h), value=ignore_index)',
                '        mask = F.pad(mask, (0, pad_w, 0, pad_h), value=0)')],
    ),
    dict(
        cell="random_crop_flip",
        id="crop-global-rng",
        description="draws from the global torch RNG instead of `generator`: not reproducible from a seed",
        patch=[('    top = int(torch.randint(0, image.shape[1] - h + 1, (1,), generator=generator))\n    left = int(torch.randint(0, image.shape[2] - w + 1, (1,), generator=generator))',
                '    top = int(torch.randint(0, image.shape[1] - h + 1, (1,)))\n    left = int(torch.randint(0, image.shape[2] - w + 1, (1,)))'),
               ('    if float(torch.rand((), generator=generator)) < flip_p:',
                '    if float(torch.rand(())) < flip_p:')],
    ),
    dict(
        cell="random_crop_flip",
        id="crop-height-width-swapped",
        description="size read as (w, h): square crops pass, odd rectangular sizes come out transposed",
        source='''
def random_crop_flip(image, mask, size, ignore_index=255, flip_p=0.5, generator=None):
    w, h = size
    _, height, width = image.shape
    pad_h, pad_w = max(h - height, 0), max(w - width, 0)
    if pad_h or pad_w:
        image = F.pad(image, (0, pad_w, 0, pad_h), value=0.0)
        mask = F.pad(mask, (0, pad_w, 0, pad_h), value=ignore_index)
    top = int(torch.randint(0, image.shape[1] - h + 1, (1,), generator=generator))
    left = int(torch.randint(0, image.shape[2] - w + 1, (1,), generator=generator))
    image = image[:, top:top + h, left:left + w]
    mask = mask[top:top + h, left:left + w]
    if float(torch.rand((), generator=generator)) < flip_p:
        image, mask = image.flip(-1), mask.flip(-1)
    return image.clone(), mask.clone()
''',
    ),
    dict(
        cell="random_crop_flip",
        id="crop-returns-views",
        description="returns slices of the inputs: editing the crop edits the original image",
        patch=[('    return image.clone(), mask.clone()',
                '    return image, mask')],
    ),
    dict(
        cell="random_crop_flip",
        id="crop-delegates-to-segkit",
        description="calls segkit.transforms instead of writing the crop and flip",
        source='''
def random_crop_flip(image, mask, size, ignore_index=255, flip_p=0.5, generator=None):
    import segkit.transforms as T
    if generator is not None:
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
    return T.compose(T.random_crop(size, ignore_index), T.horizontal_flip(flip_p))(image, mask)
''',
    ),
    # ---------------------------------------------------------------- median_frequency_weights
    dict(
        cell="median_frequency_weights",
        id="weights-plain-inverse",
        description="1 / f_c without the median: the right ranking, the wrong scale",
        patch=[('    counts = torch.bincount(labels, minlength=num_classes).double()   # (C,)\n    freq = counts / counts.sum()\n    present = freq > 0',
                '    freq = torch.bincount(labels, minlength=num_classes).double() / labels.numel()'),
               ('    weights[present] = freq[present].median() / freq[present]',
                '    weights[freq > 0] = 1.0 / freq[freq > 0]')],
    ),
    dict(
        cell="median_frequency_weights",
        id="weights-numpy-median",
        description="the average of the two middle values (numpy's median) instead of torch.median's lower one",
        source='''
def median_frequency_weights(masks, num_classes, ignore_index=None):
    import numpy as np
    labels = masks.flatten()
    if ignore_index is not None:
        labels = labels[labels != ignore_index]
    freq = torch.bincount(labels, minlength=num_classes).double() / labels.numel()
    present = freq > 0
    weights = torch.zeros(num_classes, dtype=torch.float64)
    weights[present] = float(np.median(freq[present].numpy())) / freq[present]
    return weights.float()
''',
    ),
    dict(
        cell="median_frequency_weights",
        id="weights-median-over-all-classes",
        description="the median includes absent classes (frequency 0)",
        patch=[('    counts = torch.bincount(labels, minlength=num_classes).double()   # (C,)\n    freq = counts / counts.sum()',
                '    freq = torch.bincount(labels, minlength=num_classes).double() / labels.numel()'),
               ('    weights[present] = freq[present].median() / freq[present]',
                '    weights[present] = freq.median() / freq[present]')],
    ),
    dict(
        cell="median_frequency_weights",
        id="weights-ignore-zero-means-none",
        description="`if ignore_index:` treats ignore_index=0 as no ignore",
        patch=[('    if ignore_index is not None:',
                '    if ignore_index:'),
               ('    counts = torch.bincount(labels, minlength=num_classes).double()   # (C,)\n    freq = counts / counts.sum()',
                '    freq = torch.bincount(labels, minlength=num_classes).double() / labels.numel()')],
    ),
    dict(
        cell="median_frequency_weights",
        id="weights-float64",
        description="returns the float64 counts' dtype instead of float32",
        patch=[('    counts = torch.bincount(labels, minlength=num_classes).double()   # (C,)\n    freq = counts / counts.sum()',
                '    freq = torch.bincount(labels, minlength=num_classes).double() / labels.numel()'),
               ('    return weights.float()',
                '    return weights')],
    ),
    dict(
        cell="median_frequency_weights",
        id="weights-absent-inf",
        description="divides by the frequency of absent classes too: inf weights",
        patch=[('    counts = torch.bincount(labels, minlength=num_classes).double()   # (C,)\n    freq = counts / counts.sum()\n    present = freq > 0\n    weights = torch.zeros(num_classes, dtype=torch.float64)\n    weights[present] = freq[present].median() / freq[present]\n    return weights.float()',
                '    freq = torch.bincount(labels, minlength=num_classes).double() / labels.numel()\n    return (freq[freq > 0].median() / freq).float()')],
    ),
    dict(
        cell="median_frequency_weights",
        id="weights-delegates-to-segkit",
        description="calls segkit.losses.class_weights",
        source='''
def median_frequency_weights(masks, num_classes, ignore_index=None):
    from segkit.losses import class_weights
    return class_weights(masks.reshape(1, -1), num_classes, "median_freq", ignore_index=ignore_index)
''',
    ),
    # ---------------------------------------------------------------- poly_lr
    dict(
        cell="poly_lr",
        id="poly-no-power",
        description="a linear decay: the power is forgotten",
        patch=[('        raise ValueError(f"total_steps must be >= 1, got {total_steps}")\n    return float(base_lr * max(0.0, 1.0 - step / total_steps) ** power)',
                '        raise ValueError("total_steps must be >= 1")\n    return float(base_lr * max(0.0, 1.0 - step / total_steps))')],
    ),
    dict(
        cell="poly_lr",
        id="poly-off-by-one",
        description="divides by total_steps - 1, so the rate reaches 0 one step early",
        patch=[('        raise ValueError(f"total_steps must be >= 1, got {total_steps}")\n    return float(base_lr * max(0.0, 1.0 - step / total_steps) ** power)',
                '        raise ValueError("total_steps must be >= 1")\n    return float(base_lr * max(0.0, 1.0 - step / max(total_steps - 1, 1)) ** power)')],
    ),
    dict(
        cell="poly_lr",
        id="poly-no-clamp",
        description="no clamp past the end: a negative base to a fractional power gives a complex number",
        patch=[('        raise ValueError(f"total_steps must be >= 1, got {total_steps}")\n    return float(base_lr * max(0.0, 1.0 - step / total_steps) ** power)',
                '        raise ValueError("total_steps must be >= 1")\n    return base_lr * (1.0 - step / total_steps) ** power')],
    ),
    dict(
        cell="poly_lr",
        id="poly-returns-factor",
        description="returns the factor (1 - t/T)^p, not the learning rate",
        patch=[('        raise ValueError(f"total_steps must be >= 1, got {total_steps}")\n    return float(base_lr * max(0.0, 1.0 - step / total_steps) ** power)',
                '        raise ValueError("total_steps must be >= 1")\n    return float(max(0.0, 1.0 - step / total_steps) ** power)')],
    ),
    dict(
        cell="poly_lr",
        id="poly-no-validation",
        description="total_steps = 0 divides by zero (ZeroDivisionError) instead of a clear ValueError",
        source='''
def poly_lr(step, total_steps, base_lr, power=0.9):
    return float(base_lr * max(0.0, 1.0 - step / total_steps) ** power)
''',
    ),
    dict(
        cell="poly_lr",
        id="poly-delegates-to-segkit",
        description="calls segkit.train.schedules.poly_factor",
        source='''
def poly_lr(step, total_steps, base_lr, power=0.9):
    from segkit.train.schedules import poly_factor
    if total_steps < 1:
        raise ValueError("total_steps must be >= 1")
    return float(base_lr * poly_factor(step, total_steps, power))
''',
    ),
    # ---------------------------------------------------------------- flip_tta
    dict(
        cell="flip_tta",
        id="tta-not-flipped-back",
        description="the mirrored prediction is averaged without flipping it back",
        patch=[('        probs = model(images).softmax(dim=1)                       # (N, C, H, W)\n        mirrored = model(images.flip(-1)).softmax(dim=1).flip(-1)  # back in the original frame\n    return (probs + mirrored) / 2',
                '        return (model(images).softmax(dim=1) + model(images.flip(-1)).softmax(dim=1)) / 2')],
    ),
    dict(
        cell="flip_tta",
        id="tta-average-logits",
        description="averages logits, then softmax, instead of averaging probabilities",
        patch=[('        probs = model(images).softmax(dim=1)                       # (N, C, H, W)\n        mirrored = model(images.flip(-1)).softmax(dim=1).flip(-1)  # back in the original frame\n    return (probs + mirrored) / 2',
                '        return ((model(images) + model(images.flip(-1)).flip(-1)) / 2).softmax(dim=1)')],
    ),
    dict(
        cell="flip_tta",
        id="tta-train-mode",
        description="eval mode forgotten: BatchNorm uses the batch's statistics",
        source='''
def flip_tta(model, images):
    with torch.no_grad():
        probs = model(images).softmax(dim=1)
        mirrored = model(images.flip(-1)).softmax(dim=1).flip(-1)
    return (probs + mirrored) / 2
''',
    ),
    dict(
        cell="flip_tta",
        id="tta-vertical-flip",
        description="flips the height axis (dim 2) instead of the width",
        patch=[('        mirrored = model(images.flip(-1)).softmax(dim=1).flip(-1)  # back in the original frame',
                '        mirrored = model(images.flip(2)).softmax(dim=1).flip(2)')],
    ),
    dict(
        cell="flip_tta",
        id="tta-no-grad-forgotten",
        description="no torch.no_grad(): the result carries a graph (and memory) it does not need",
        source='''
def flip_tta(model, images):
    model.eval()
    probs = model(images).softmax(dim=1)
    mirrored = model(images.flip(-1)).softmax(dim=1).flip(-1)
    return (probs + mirrored) / 2
''',
    ),
]
