"""Plausible wrong answers for unit 02 (instructor side; never released to lessons/)."""
_TRAIN_STEP_TESTS = ("test_train_step",)  # the training cell after it would cost a minute per run

WRONG_ANSWERS = [
    # ---- pixel_cross_entropy -----------------------------------------------------------------
    dict(
        cell="pixel_cross_entropy",
        id="log-of-softmax",
        description="log(softmax(...)) instead of log_softmax: huge logits overflow to inf/nan",
        source='''
def pixel_cross_entropy(logits, target, ignore_index=None):
    log_probs = torch.log(torch.softmax(logits, dim=1))
    ignored = target == ignore_index if ignore_index is not None else torch.zeros_like(target, dtype=torch.bool)
    picked = log_probs.gather(1, target.masked_fill(ignored, 0)[:, None]).squeeze(1)
    keep = ~ignored
    return -(picked * keep).sum() / keep.sum().clamp(min=1)
''',
    ),
    dict(
        cell="pixel_cross_entropy",
        id="sum-not-mean",
        description="sums the per-pixel losses instead of averaging them",
        patch=[('    safe = target.masked_fill(ignored, 0)                                  # (N, H, W), valid class indices\n    picked = log_probs.gather(1, safe[:, None]).squeeze(1)                 # (N, H, W) = log p_target\n    keep = ~ignored\n    return -(picked * keep).sum() / keep.sum().clamp(min=1)             # 0 if nothing is counted',
                '    picked = log_probs.gather(1, target.masked_fill(ignored, 0)[:, None]).squeeze(1)\n    return -(picked * ~ignored).sum()')],
    ),
    dict(
        cell="pixel_cross_entropy",
        id="mean-over-all-pixels",
        description="zeroes the ignored pixels' losses but still divides by every pixel",
        patch=[('    safe = target.masked_fill(ignored, 0)                                  # (N, H, W), valid class indices\n    picked = log_probs.gather(1, safe[:, None]).squeeze(1)                 # (N, H, W) = log p_target\n    keep = ~ignored\n    return -(picked * keep).sum() / keep.sum().clamp(min=1)             # 0 if nothing is counted',
                '    picked = log_probs.gather(1, target.masked_fill(ignored, 0)[:, None]).squeeze(1)\n    return -(picked * ~ignored).sum() / target.numel()')],
    ),
    dict(
        cell="pixel_cross_entropy",
        id="ignore-index-0-is-none",
        description="`if ignore_index:` takes ignore_index=0 (a real class) for 'no ignore'",
        patch=[('    ignored = target == ignore_index if ignore_index is not None else torch.zeros_like(target, dtype=torch.bool)\n    safe = target.masked_fill(ignored, 0)                                  # (N, H, W), valid class indices\n    picked = log_probs.gather(1, safe[:, None]).squeeze(1)                 # (N, H, W) = log p_target',
                '    if ignore_index:\n        ignored = target == ignore_index\n    else:\n        ignored = torch.zeros_like(target, dtype=torch.bool)\n    picked = log_probs.gather(1, target.masked_fill(ignored, 0)[:, None]).squeeze(1)')],
    ),
    dict(
        cell="pixel_cross_entropy",
        id="all-ignored-nan",
        description="divides by the number of kept pixels without a guard: all ignored gives 0/0 = nan",
        patch=[('    safe = target.masked_fill(ignored, 0)                                  # (N, H, W), valid class indices\n    picked = log_probs.gather(1, safe[:, None]).squeeze(1)                 # (N, H, W) = log p_target',
                '    picked = log_probs.gather(1, target.masked_fill(ignored, 0)[:, None]).squeeze(1)'),
               ('    return -(picked * keep).sum() / keep.sum().clamp(min=1)             # 0 if nothing is counted',
                '    return -(picked * keep).sum() / keep.sum()')],
    ),
    dict(
        cell="pixel_cross_entropy",
        id="softmax-over-last-dim",
        description="log_softmax over the last dimension (width) instead of the class dimension 1",
        source='''
def pixel_cross_entropy(logits, target, ignore_index=None):
    log_probs = F.log_softmax(logits, dim=-1)
    ignored = target == ignore_index if ignore_index is not None else torch.zeros_like(target, dtype=torch.bool)
    picked = log_probs.gather(1, target.masked_fill(ignored, 0)[:, None]).squeeze(1)
    keep = ~ignored
    return -(picked * keep).sum() / keep.sum().clamp(min=1)
''',
    ),
    dict(
        cell="pixel_cross_entropy",
        id="delegates-f-cross-entropy",
        description="calls F.cross_entropy (forbidden by the statement) and patches its nan",
        source='''
def pixel_cross_entropy(logits, target, ignore_index=None):
    loss = F.cross_entropy(logits, target, ignore_index=-100 if ignore_index is None else ignore_index)
    return torch.nan_to_num(loss, nan=0.0)
''',
    ),
    dict(
        cell="pixel_cross_entropy",
        id="delegates-segkit-cross-entropy",
        description="calls segkit.losses.cross_entropy, segkit's version of this exercise",
        source='''
from segkit.losses import cross_entropy


def pixel_cross_entropy(logits, target, ignore_index=None):
    return cross_entropy(logits, target, ignore_index=ignore_index)
''',
    ),
    # ---- logits_to_labels --------------------------------------------------------------------
    dict(
        cell="logits_to_labels",
        id="argmax-dim-1-always",
        description="argmax over dim 1 for every input: right for (N, C, H, W), wrong for one image (C, H, W)",
        patch=[('    return logits.argmax(dim=logits.dim() - 3)',
                '    return logits.argmax(dim=1)')],
    ),
    dict(
        cell="logits_to_labels",
        id="argmax-dim-0-always",
        description="argmax over dim 0 for every input: the batch dimension for (N, C, H, W)",
        patch=[('    return logits.argmax(dim=logits.dim() - 3)',
                '    return logits.argmax(dim=0)')],
    ),
    dict(
        cell="logits_to_labels",
        id="max-values",
        description="returns the highest score (max(...).values) instead of its index",
        patch=[('    return logits.argmax(dim=logits.dim() - 3)',
                '    return logits.max(dim=logits.dim() - 3).values')],
    ),
    dict(
        cell="logits_to_labels",
        id="keepdim",
        description="argmax with keepdim=True: a class axis of size 1 stays in the labels",
        patch=[('    return logits.argmax(dim=logits.dim() - 3)',
                '    return logits.argmax(dim=logits.dim() - 3, keepdim=True)')],
    ),
    dict(
        cell="logits_to_labels",
        id="no-dimension-check",
        description="no check of the number of dimensions: a 2-D or 5-D input returns something",
        source='''
def logits_to_labels(logits):
    return logits.argmax(dim=-3 if logits.dim() >= 3 else 0)
''',
    ),
    dict(
        cell="logits_to_labels",
        id="silent-error-message",
        description="raises ValueError without saying which shape it got",
        patch=[('        raise ValueError(f"logits must be (N, C, H, W) or (C, H, W), got shape {tuple(logits.shape)}")',
                '        raise ValueError("wrong input")')],
    ),
    # ---- receptive_field ---------------------------------------------------------------------
    dict(
        cell="receptive_field",
        id="ignores-stride",
        description="adds (k - 1) per layer, ignoring that strides multiply the later steps",
        source='''
def receptive_field(layers):
    field = 1
    for kernel_size, stride, dilation in layers:
        field += dilation * (kernel_size - 1)
    return field
''',
    ),
    dict(
        cell="receptive_field",
        id="own-stride-first",
        description="multiplies the jump by a layer's stride before adding its own kernel",
        source='''
def receptive_field(layers):
    field, jump = 1, 1
    for kernel_size, stride, dilation in layers:
        jump *= stride
        field += dilation * (kernel_size - 1) * jump
    return field
''',
    ),
    dict(
        cell="receptive_field",
        id="ignores-dilation",
        description="forgets the dilation: a dilated 3x3 still counts as 3 pixels",
        patch=[('        field += dilation * (kernel_size - 1) * jump',
                '        field += (kernel_size - 1) * jump')],
    ),
    dict(
        cell="receptive_field",
        id="dilated-kernel-k-times-d",
        description="takes k * d as the dilated kernel's span instead of (k - 1) * d + 1",
        patch=[('        field += dilation * (kernel_size - 1) * jump',
                '        field += (kernel_size * dilation - 1) * jump')],
    ),
    dict(
        cell="receptive_field",
        id="product-of-kernels",
        description="multiplies the kernel sizes (as if fields grew geometrically)",
        source='''
def receptive_field(layers):
    field = 1
    for kernel_size, stride, dilation in layers:
        field = max(field * kernel_size * dilation // max(stride, 1), field)
    return field
''',
    ),
    # ---- train_step --------------------------------------------------------------------------
    dict(
        cell="train_step",
        id="no-zero-grad",
        description="never clears the gradients: every step replays all the previous ones",
        source='''
def train_step(model, images, masks, optimizer):
    loss = F.cross_entropy(model(images), masks)
    loss.backward()
    optimizer.step()
    return loss.item()
''',
        tests=_TRAIN_STEP_TESTS,
    ),
    dict(
        cell="train_step",
        id="zero-grad-after-backward",
        description="zero_grad() between backward() and step(): the update uses zero gradients",
        source='''
def train_step(model, images, masks, optimizer):
    loss = F.cross_entropy(model(images), masks)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()
''',
        tests=_TRAIN_STEP_TESTS,
    ),
    dict(
        cell="train_step",
        id="no-step",
        description="computes the gradients but never calls optimizer.step()",
        source='''
def train_step(model, images, masks, optimizer):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), masks)
    loss.backward()
    return loss.item()
''',
        tests=_TRAIN_STEP_TESTS,
    ),
    dict(
        cell="train_step",
        id="loss-after-update",
        description="returns the loss recomputed after the update, not the one that was minimised",
        source='''
def train_step(model, images, masks, optimizer):
    optimizer.zero_grad()
    F.cross_entropy(model(images), masks).backward()
    optimizer.step()
    with torch.no_grad():
        return F.cross_entropy(model(images), masks).item()
''',
        tests=_TRAIN_STEP_TESTS,
    ),
    dict(
        cell="train_step",
        id="returns-tensor",
        description="returns the loss tensor (keeping the graph alive) instead of loss.item()",
        source='''
def train_step(model, images, masks, optimizer):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), masks)
    loss.backward()
    optimizer.step()
    return loss
''',
        tests=_TRAIN_STEP_TESTS,
    ),
    dict(
        cell="train_step",
        id="forward-under-no-grad",
        description="runs the forward pass under torch.no_grad(), so there is nothing to back-propagate",
        source='''
def train_step(model, images, masks, optimizer):
    optimizer.zero_grad()
    with torch.no_grad():
        logits = model(images)
    loss = F.cross_entropy(logits, masks)
    loss.backward()
    optimizer.step()
    return loss.item()
''',
        tests=_TRAIN_STEP_TESTS,
    ),
]
