"""segkit.metrics against torchmetrics, plus strict input checks and hypothesis invariants."""
from __future__ import annotations

import math
import re
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_confusion_matrix,
    multiclass_f1_score,
    multiclass_jaccard_index,
)

from segkit import metrics as M

IGNORES = [None, 255, -1, 0, 2]


def random_batch(seed: int, num_classes: int = 5, shape=(2, 12, 10), ignore_index=None,
                 absent: tuple[int, ...] = ()):
    """Labels with some classes absent from both pred and target, and some ignored pixels."""
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, num_classes, shape, generator=g)
    pred = torch.randint(0, num_classes, shape, generator=g)
    for c in absent:
        target[target == c] = (c + 1) % num_classes
        pred[pred == c] = (c + 1) % num_classes
    if ignore_index is not None:
        target[torch.rand(shape, generator=g) < 0.2] = ignore_index
    return pred, target


def defined(x: torch.Tensor) -> torch.Tensor:
    return ~torch.isnan(x)


@pytest.mark.parametrize("ignore_index", IGNORES)
@pytest.mark.parametrize("seed", range(3))
def test_confusion_matrix_equals_torchmetrics(ignore_index, seed):
    pred, target = random_batch(seed, ignore_index=ignore_index, absent=(3,))
    cm = M.confusion_matrix(pred, target, 5, ignore_index)
    assert cm.dtype == torch.int64 and cm.shape == (5, 5)
    assert torch.equal(cm, multiclass_confusion_matrix(pred, target, 5, ignore_index=ignore_index))


@pytest.mark.parametrize("ignore_index", IGNORES)
@pytest.mark.parametrize("seed", range(3))
def test_scores_equal_torchmetrics_where_defined(ignore_index, seed):
    pred, target = random_batch(seed, ignore_index=ignore_index, absent=(1, 4))
    kw = dict(num_classes=5, ignore_index=ignore_index)
    cm = M.confusion_matrix(pred, target, 5, ignore_index)

    iou, dice, recall = M.iou_per_class(cm), M.dice_per_class(cm), M.class_accuracy(cm)
    ref_iou = multiclass_jaccard_index(pred, target, average="none", **kw).double()
    ref_dice = multiclass_f1_score(pred, target, average="none", **kw).double()
    ref_recall = multiclass_accuracy(pred, target, average="none", **kw).double()
    absent = torch.tensor([c in (1, 4) for c in range(5)])
    assert torch.equal(torch.isnan(iou), absent), "IoU of a class absent from both must be NaN"
    assert torch.equal(torch.isnan(dice), absent)
    torch.testing.assert_close(iou[defined(iou)], ref_iou[defined(iou)], atol=1e-6, rtol=0)
    torch.testing.assert_close(dice[defined(dice)], ref_dice[defined(dice)], atol=1e-6, rtol=0)
    torch.testing.assert_close(recall[defined(recall)], ref_recall[defined(recall)], atol=1e-6, rtol=0)

    assert M.pixel_accuracy(cm) == pytest.approx(float(multiclass_accuracy(pred, target, average="micro", **kw)))
    assert M.frequency_weighted_iou(cm) == pytest.approx(
        float(multiclass_jaccard_index(pred, target, average="weighted", **kw)))
    scores = M.SegmentationMetrics(5, ignore_index)
    scores.update(pred, target)
    result = scores.compute()
    assert result["mean_iou"] == pytest.approx(float(multiclass_jaccard_index(pred, target, average="macro", **kw)))
    assert result["mean_dice"] == pytest.approx(float(ref_dice[defined(result["dice_per_class"])].mean()))


def test_ignore_index_inside_classes_matches_torchmetrics_macro():
    pred, target = random_batch(7, ignore_index=2)
    scores = M.SegmentationMetrics(5, ignore_index=2)
    scores.update(pred, target)
    result = scores.compute()
    assert result["confusion_matrix"][2].sum() == 0, "row of the ignored class must be empty"
    assert math.isnan(result["iou_per_class"][2]), "the ignored class is reported as NaN"
    ref = multiclass_jaccard_index(pred, target, 5, average="macro", ignore_index=2)
    assert result["mean_iou"] == pytest.approx(float(ref))


def test_hand_worked_example():
    target = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 255]])
    pred = torch.tensor([[0, 1, 1, 1], [0, 0, 2, 2]])
    cm = M.confusion_matrix(pred, target, 3, ignore_index=255)
    assert cm.tolist() == [[3, 1, 0], [0, 2, 1], [0, 0, 0]]
    iou = M.iou_per_class(cm)
    torch.testing.assert_close(iou, torch.tensor([3 / 4, 2 / 4, 0 / 1], dtype=torch.float64))
    assert M.pixel_accuracy(cm) == pytest.approx(5 / 7)
    assert M.mean_iou(cm) == pytest.approx((0.75 + 0.5 + 0.0) / 3)
    torch.testing.assert_close(M.dice_per_class(cm), torch.tensor([6 / 7, 4 / 6, 0.0], dtype=torch.float64))
    assert M.frequency_weighted_iou(cm) == pytest.approx(4 / 7 * 0.75 + 3 / 7 * 0.5)


def test_logits_are_argmaxed():
    pred, target = random_batch(3)
    logits = torch.nn.functional.one_hot(pred, 5).permute(0, 3, 1, 2).float() * 3 + torch.rand(2, 5, 12, 10)
    assert torch.equal(M.confusion_matrix(logits, target, 5), M.confusion_matrix(pred, target, 5))
    assert torch.equal(M.confusion_matrix(logits[0], target[0], 5), M.confusion_matrix(pred[0], target[0], 5))


def test_single_class_image_and_uint8_labels():
    target = torch.full((8, 8), 3, dtype=torch.uint8)
    cm = M.confusion_matrix(target.clone(), target, 4)
    iou = M.iou_per_class(cm)
    assert iou[3] == 1 and torch.isnan(iou[:3]).all()
    assert M.mean_iou(cm) == 1.0 and M.pixel_accuracy(cm) == 1.0
    ref = multiclass_jaccard_index(target.long(), target.long(), 4, average="macro")
    assert M.mean_iou(cm) == pytest.approx(float(ref))


def test_nothing_counted_gives_nan_without_warnings():
    target = torch.full((4, 4), 255)
    cm = M.confusion_matrix(torch.zeros(4, 4, dtype=torch.long), target, 3, ignore_index=255)
    assert cm.sum() == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(M.mean_iou(cm)) and math.isnan(M.pixel_accuracy(cm))
        assert math.isnan(M.mean_dice(cm)) and math.isnan(M.frequency_weighted_iou(cm))


def test_streaming_accumulator_reset_and_errors():
    scores = M.SegmentationMetrics(5, ignore_index=255)
    with pytest.raises(RuntimeError, match="before any update"):
        scores.compute()
    pred, target = random_batch(1, ignore_index=255)
    scores.update(pred[:1], target[:1])
    scores.update(pred[1:], target[1:])
    assert torch.equal(scores.compute()["confusion_matrix"], M.confusion_matrix(pred, target, 5, 255))
    scores.reset()
    with pytest.raises(RuntimeError):
        scores.compute()


BAD_INPUTS = [
    # (description, pred, target, num_classes, ignore_index, exception, message fragment)
    ("shape mismatch", torch.zeros(2, 4, 4, dtype=torch.long), torch.zeros(2, 4, 5, dtype=torch.long), 3, None, ValueError, "do not match"),
    ("float target", torch.zeros(4, 4, dtype=torch.long), torch.zeros(4, 4), 3, None, TypeError, "integer class labels"),
    ("target label >= C", torch.zeros(4, 4, dtype=torch.long), torch.full((4, 4), 3), 3, None, ValueError, "label 3 outside [0, 3)"),
    ("negative target", torch.zeros(4, 4, dtype=torch.long), torch.full((4, 4), -1), 3, None, ValueError, "label -1"),
    ("label between C and ignore_index", torch.zeros(1, 4, dtype=torch.long), torch.tensor([[0, 7, 255, 1]]), 3, 255, ValueError, "labels [7]"),
    ("pred label >= C", torch.full((4, 4), 5), torch.zeros(4, 4, dtype=torch.long), 3, None, ValueError, "pred has label 5"),
    ("pred equal to ignore_index", torch.full((4, 4), 255), torch.zeros(4, 4, dtype=torch.long), 3, 255, ValueError, "pred has label 255"),
    ("NaN logits", torch.full((1, 3, 4, 4), float("nan")), torch.zeros(1, 4, 4, dtype=torch.long), 3, None, ValueError, "NaN or inf"),
    ("inf logits", torch.full((1, 3, 4, 4), float("inf")), torch.zeros(1, 4, 4, dtype=torch.long), 3, None, ValueError, "NaN or inf"),
    ("logits with wrong C", torch.zeros(1, 4, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long), 3, None, ValueError, "expected (1, 3, 4, 4)"),
    ("empty tensors", torch.zeros(0, 4, 4, dtype=torch.long), torch.zeros(0, 4, 4, dtype=torch.long), 3, None, ValueError, "empty"),
    ("num_classes 0", torch.zeros(4, 4, dtype=torch.long), torch.zeros(4, 4, dtype=torch.long), 0, None, ValueError, "num_classes must be a positive int"),
    ("num_classes float", torch.zeros(4, 4, dtype=torch.long), torch.zeros(4, 4, dtype=torch.long), 3.0, None, TypeError, "num_classes must be an int"),
    ("1-D target", torch.zeros(4, dtype=torch.long), torch.zeros(4, dtype=torch.long), 3, None, ValueError, "(N, H, W) or (H, W)"),
    ("numpy pred", torch.zeros(4, 4, dtype=torch.long).numpy(), torch.zeros(4, 4, dtype=torch.long), 3, None, TypeError, "torch.Tensor"),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_inputs_raise_clear_errors(case):
    _, pred, target, num_classes, ignore_index, error, fragment = case
    with pytest.raises(error, match=re.escape(fragment)):
        M.confusion_matrix(pred, target, num_classes, ignore_index)


@pytest.mark.parametrize("cm, error", [
    (torch.zeros(2, 3), ValueError), (torch.tensor([[1, -1], [0, 2]]), ValueError),
    (torch.tensor([[float("nan"), 0], [0, 1]]), ValueError), (torch.zeros(0, 0), ValueError),
    ([[1, 0], [0, 1]], TypeError),
])
def test_bad_confusion_matrix(cm, error):
    with pytest.raises(error):
        M.iou_per_class(cm)


# ---- properties -------------------------------------------------------------------------------

labels = st.integers(0, 2**31 - 1).map(lambda seed: random_batch(seed, num_classes=4, shape=(3, 6, 7)))


@settings(max_examples=50, deadline=None)
@given(batch=labels)
def test_iou_in_unit_interval_or_nan(batch):
    iou = M.iou_per_class(M.confusion_matrix(*batch, num_classes=4))
    ok = torch.isnan(iou) | ((iou >= 0) & (iou <= 1))
    assert ok.all(), f"IoU outside [0, 1]: {iou}"


@settings(max_examples=50, deadline=None)
@given(batch=labels, perm=st.permutations(range(4)))
def test_permuting_class_ids_permutes_the_result(batch, perm):
    pred, target = batch
    perm = torch.tensor(perm)
    iou = M.iou_per_class(M.confusion_matrix(pred, target, 4))
    iou_perm = M.iou_per_class(M.confusion_matrix(perm[pred], perm[target], 4))
    torch.testing.assert_close(iou_perm[perm], iou, equal_nan=True)


@settings(max_examples=50, deadline=None)
@given(batch=labels)
def test_perfect_prediction_scores_one(batch):
    _, target = batch
    scores = M.SegmentationMetrics(4)
    scores.update(target, target)
    result = scores.compute()
    assert result["pixel_accuracy"] == result["mean_iou"] == result["mean_dice"] == result["fw_iou"] == 1.0


@settings(max_examples=50, deadline=None)
@given(batch=labels, split=st.integers(1, 2))
def test_accumulating_batches_equals_one_big_batch(batch, split):
    pred, target = batch
    scores = M.SegmentationMetrics(4)
    scores.update(pred[:split], target[:split])
    scores.update(pred[split:], target[split:])
    whole = M.SegmentationMetrics(4)
    whole.update(pred, target)
    a, b = scores.compute(), whole.compute()
    assert torch.equal(a["confusion_matrix"], b["confusion_matrix"])
    assert a["mean_iou"] == b["mean_iou"] or (math.isnan(a["mean_iou"]) and math.isnan(b["mean_iou"]))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    pred, target = random_batch(0, ignore_index=255)
    cm = M.confusion_matrix(pred.cuda(), target.cuda(), 5, 255)
    assert cm.device.type == "cuda"
    assert torch.equal(cm.cpu(), M.confusion_matrix(pred, target, 5, 255))


def test_boundary_band_marks_pixels_near_label_changes():
    mask = torch.zeros(6, 8, dtype=torch.int64)
    mask[:, 4:] = 1  # one vertical edge between columns 3 and 4
    band = M.boundary_band(mask, 1)
    assert band.dtype == torch.bool and band.shape == mask.shape
    assert band[:, 3:5].all() and not band[:, :3].any() and not band[:, 5:].any()
    assert M.boundary_band(mask, 2)[:, 2:6].all() and not M.boundary_band(mask, 2)[:, :2].any()
    batch = torch.stack([mask, torch.zeros_like(mask)])
    assert torch.equal(M.boundary_band(batch, 1)[0], band) and not M.boundary_band(batch, 1)[1].any()
    with pytest.raises(ValueError, match="width"):
        M.boundary_band(mask, 0)
    with pytest.raises(TypeError):
        M.boundary_band(mask.float(), 1)
