"""segkit.losses against torch.nn.functional.cross_entropy, gradcheck and hand-worked values."""
from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F

from segkit import losses as L


def batch(seed: int = 0, shape=(2, 4, 6, 5), ignore_index=None, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=g, dtype=dtype) * 2
    target = torch.randint(0, shape[1], (shape[0], *shape[2:]), generator=g)
    if ignore_index is not None:
        target[torch.rand(target.shape, generator=g) < 0.3] = ignore_index
    return logits, target


@pytest.mark.parametrize("ignore_index", [None, 255, -100, 1])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_equals_pytorch(ignore_index, weighted, reduction):
    logits, target = batch(3, ignore_index=ignore_index)
    weight = torch.tensor([0.5, 2.0, 1.0, 3.0]) if weighted else None
    ours = L.cross_entropy(logits, target, weight, ignore_index, reduction=reduction)
    ref = F.cross_entropy(logits, target, weight, reduction=reduction,
                          ignore_index=-100 if ignore_index is None else ignore_index)
    torch.testing.assert_close(ours, ref)


def test_cross_entropy_gradient_equals_pytorch():
    logits, target = batch(4, ignore_index=255)
    weight = torch.tensor([1.0, 2.0, 0.5, 1.5])
    a, b = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    L.cross_entropy(a, target, weight, 255).backward()
    F.cross_entropy(b, target, weight, ignore_index=255).backward()
    torch.testing.assert_close(a.grad, b.grad)


def test_cross_entropy_other_shapes():
    logits = torch.randn(7, 3)  # (N, C): plain classification also works
    target = torch.tensor([0, 2, 1, 1, 0, 2, 2])
    torch.testing.assert_close(L.cross_entropy(logits, target), F.cross_entropy(logits, target))


def test_all_ignored_batch_gives_zero_not_nan():
    logits, target = batch(5)
    target[:] = 255
    assert math.isnan(F.cross_entropy(logits, target, ignore_index=255)), "PyTorch gives NaN here"
    x = logits.clone().requires_grad_()
    loss = L.cross_entropy(x, target, ignore_index=255)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(x.grad, torch.zeros_like(x)), "an all-ignored batch must leave a zero gradient"
    assert L.soft_dice_loss(x, target, ignore_index=255, smooth=0.0).item() == 0.0
    assert L.DiceCELoss(ignore_index=255)(x, target).item() == 0.0


def test_cross_entropy_hand_worked():
    # two classes, equal logits -> every pixel costs log 2; the ignored pixel costs nothing
    logits = torch.zeros(1, 2, 1, 3)
    target = torch.tensor([[[0, 1, 255]]])
    assert L.cross_entropy(logits, target, ignore_index=255).item() == pytest.approx(math.log(2))
    weight = torch.tensor([1.0, 3.0])
    # weighted mean: (1 * log2 + 3 * log2) / (1 + 3)
    assert L.cross_entropy(logits, target, weight, 255).item() == pytest.approx(math.log(2))


def test_soft_dice_hand_worked():
    # confident, correct logits -> Dice close to 1, loss close to 0
    target = torch.tensor([[[0, 1], [1, 1]]])
    perfect = F.one_hot(target, 2).permute(0, 3, 1, 2).float() * 50
    assert L.soft_dice_loss(perfect, target, smooth=0.0).item() == pytest.approx(0.0, abs=1e-6)
    # uniform probabilities: class 0: I = 0.5, P + G = 2 + 1; class 1: I = 1.5, P + G = 2 + 3
    uniform = torch.zeros(1, 2, 2, 2)
    expected = 1 - ((2 * 0.5) / 3 + (2 * 1.5) / 5) / 2
    assert L.soft_dice_loss(uniform, target, smooth=0.0).item() == pytest.approx(expected)
    # smooth s: (2 I + s) / (P + G + s)
    expected = 1 - ((1 + 1) / 4 + (3 + 1) / 6) / 2
    assert L.soft_dice_loss(uniform, target, smooth=1.0).item() == pytest.approx(expected)


def test_soft_dice_ignore_index_drops_pixels():
    logits, target = batch(6, ignore_index=255)
    valid = target != 255
    # the same loss as computed on the valid pixels alone, as a (1, C, P) batch
    flat_logits = logits.permute(1, 0, 2, 3)[:, valid].unsqueeze(0)
    flat_target = target[valid].unsqueeze(0)
    torch.testing.assert_close(L.soft_dice_loss(logits, target, 255), L.soft_dice_loss(flat_logits, flat_target))


@pytest.mark.parametrize("ignore_index", [None, 255])
def test_soft_dice_gradcheck(ignore_index):
    logits, target = batch(7, shape=(2, 3, 4, 3), ignore_index=ignore_index, dtype=torch.float64)
    logits.requires_grad_()
    assert torch.autograd.gradcheck(lambda x: L.soft_dice_loss(x, target, ignore_index), (logits,))
    assert torch.autograd.gradcheck(lambda x: L.cross_entropy(x, target, None, ignore_index), (logits,))


def test_dice_ce_loss_module():
    logits, target = batch(8, ignore_index=255)
    weight = torch.tensor([1.0, 2.0, 1.0, 1.0])
    loss = L.DiceCELoss(weight, ignore_index=255, dice_weight=0.5)
    expected = F.cross_entropy(logits, target, weight, ignore_index=255) + 0.5 * L.soft_dice_loss(logits, target, 255)
    torch.testing.assert_close(loss(logits, target), expected)
    assert "weight" in dict(loss.named_buffers()), "weights must move with .to(device)"
    torch.testing.assert_close(L.CrossEntropyLoss(weight, 255)(logits, target),
                               F.cross_entropy(logits, target, weight, ignore_index=255))
    torch.testing.assert_close(L.SoftDiceLoss(255)(logits, target), L.soft_dice_loss(logits, target, 255))


def test_class_weights():
    counts = torch.tensor([60.0, 30.0, 10.0, 0.0])
    inverse = L.class_weights(counts, 4)
    torch.testing.assert_close(inverse, torch.tensor([1 / (3 * 0.6), 1 / (3 * 0.3), 1 / (3 * 0.1), 0.0]))
    assert (inverse[:3] * counts[:3]).sum() == pytest.approx(counts.sum()), "balanced: mean weight per pixel is 1"
    median = L.class_weights(counts, 4, method="median_freq")
    torch.testing.assert_close(median, torch.tensor([0.3 / 0.6, 1.0, 0.3 / 0.1, 0.0]))
    masks = torch.tensor([[[0, 0, 1], [2, 255, 0]], [[0, 0, 0], [1, 1, 255]]])  # 0:6 1:3 2:1
    torch.testing.assert_close(L.class_weights(masks, 3, ignore_index=255),
                               L.class_weights(torch.tensor([6, 3, 1]), 3))
    torch.testing.assert_close(L.class_weights(list(masks), 3, ignore_index=255),
                               L.class_weights(masks, 3, ignore_index=255))


BAD = [
    ("float target", lambda: L.cross_entropy(torch.randn(1, 3, 2, 2), torch.zeros(1, 2, 2)), TypeError, "integer class labels"),
    ("integer logits", lambda: L.cross_entropy(torch.zeros(1, 3, 2, 2, dtype=torch.long), torch.zeros(1, 2, 2, dtype=torch.long)), TypeError, "float tensor"),
    ("shape mismatch", lambda: L.cross_entropy(torch.randn(1, 3, 2, 2), torch.zeros(1, 2, 3, dtype=torch.long)), ValueError, "do not match"),
    ("label >= C", lambda: L.cross_entropy(torch.randn(1, 3, 2, 2), torch.full((1, 2, 2), 3)), ValueError, "labels [3] outside [0, 3)"),
    ("negative label", lambda: L.soft_dice_loss(torch.randn(1, 3, 2, 2), torch.full((1, 2, 2), -1)), ValueError, "labels [-1]"),
    ("label not ignore", lambda: L.cross_entropy(torch.randn(1, 3, 2, 2), torch.full((1, 2, 2), 7), ignore_index=255), ValueError, "not ignore_index=255"),
    ("NaN logits", lambda: L.cross_entropy(torch.full((1, 3, 2, 2), float("nan")), torch.zeros(1, 2, 2, dtype=torch.long)), ValueError, "NaN or inf"),
    ("empty batch", lambda: L.cross_entropy(torch.randn(0, 3, 2, 2), torch.zeros(0, 2, 2, dtype=torch.long)), ValueError, "empty"),
    ("wrong weight shape", lambda: L.cross_entropy(torch.randn(1, 3, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long), torch.ones(4)), ValueError, "shape (3,)"),
    ("negative weight", lambda: L.cross_entropy(torch.randn(1, 3, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long), torch.tensor([1.0, -1.0, 1.0])), ValueError, ">= 0"),
    ("bad reduction", lambda: L.cross_entropy(torch.randn(1, 3, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long), reduction="avg"), ValueError, "reduction"),
    ("negative smooth", lambda: L.soft_dice_loss(torch.randn(1, 3, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long), smooth=-1.0), ValueError, "smooth"),
    ("class_weights method", lambda: L.class_weights(torch.ones(3), 3, method="log"), ValueError, "median_freq"),
    ("class_weights counts shape", lambda: L.class_weights(torch.ones(4), 3), ValueError, "shape (3,)"),
    ("class_weights nothing counted", lambda: L.class_weights(torch.zeros(3), 3), ValueError, "no pixel"),
    ("class_weights float masks", lambda: L.class_weights(torch.rand(2, 4, 4), 3), TypeError, "integer"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_inputs_raise_clear_errors(case):
    _, call, error, fragment = case
    with pytest.raises(error, match=re.escape(fragment)):
        call()
