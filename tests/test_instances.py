"""segkit.instances against scipy, torchvision and torchmetrics, plus hand-worked examples."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
import torchvision.ops as ops
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torchmetrics.detection import PanopticQuality

from segkit import instances as I

STRUCTURE = {4: None, 8: np.ones((3, 3), dtype=bool)}


def blobs(seed: int, shape=(40, 50), density=0.5) -> np.ndarray:
    return np.random.default_rng(seed).random(shape) < density


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("density", [0.2, 0.5, 0.7])
def test_connected_components_equal_scipy(connectivity, density):
    mask = blobs(int(density * 10), density=density)
    labels, count = I.connected_components(torch.from_numpy(mask), connectivity)
    ref, ref_count = ndi.label(mask, structure=STRUCTURE[connectivity])
    assert count == ref_count
    assert labels.dtype == torch.int64
    assert np.array_equal(labels.numpy(), ref), "same numbering as scipy (first pixel in raster order)"


@settings(max_examples=50, deadline=None)
@given(mask=arrays(np.bool_, st.tuples(st.integers(1, 12), st.integers(1, 12))),
       connectivity=st.sampled_from([4, 8]))
def test_connected_components_equal_scipy_property(mask, connectivity):
    labels, count = I.connected_components(mask, connectivity)
    ref, ref_count = ndi.label(mask, structure=STRUCTURE[connectivity])
    assert count == ref_count and np.array_equal(labels.numpy(), ref)


def test_connected_components_hand_worked_and_worst_case():
    mask = torch.tensor([[1, 1, 0, 0],
                         [0, 1, 0, 1],
                         [0, 0, 1, 1],
                         [1, 0, 0, 0]])
    four, n4 = I.connected_components(mask, 4)
    eight, n8 = I.connected_components(mask, 8)
    assert n4 == 3 and four.tolist() == [[1, 1, 0, 0], [0, 1, 0, 2], [0, 0, 2, 2], [3, 0, 0, 0]]
    assert n8 == 2, "the diagonal joins the first two blobs under 8-connectivity"
    assert I.connected_components(torch.zeros(3, 3, dtype=torch.bool))[1] == 0
    # a spiral: one component whose path length is about H * W / 2
    spiral = np.zeros((64, 64), dtype=bool)
    for k in range(0, 32, 2):
        spiral[k, k:64 - k] = spiral[k:64 - k, 63 - k] = spiral[63 - k, k:64 - k] = True
        spiral[k + 2:64 - k, k] = True
    labels, count = I.connected_components(spiral)
    assert count == ndi.label(spiral)[1] and np.array_equal(labels.numpy(), ndi.label(spiral)[0])


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two label maps are equal up to renaming the labels (0 stays 0)."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    return (len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))
            and np.array_equal(a == 0, b == 0))


@pytest.mark.parametrize("connectivity", [4, 8])
def test_semantic_to_instances_equals_scipy_per_class(connectivity):
    rng = np.random.default_rng(1)
    semantic = rng.integers(0, 4, (30, 30)).repeat(2, 0).repeat(2, 1)
    instances = I.semantic_to_instances(torch.from_numpy(semantic), classes=[1, 3], connectivity=connectivity)
    ref = np.zeros_like(semantic)
    for c in (1, 3):
        labels, count = ndi.label(semantic == c, structure=STRUCTURE[connectivity])
        ref[labels > 0] = labels[labels > 0] + ref.max()
    assert same_partition(instances.numpy(), ref)


def test_semantic_to_instances_hand_worked():
    semantic = torch.tensor([[1, 1, 2, 0],
                             [0, 0, 2, 0],
                             [1, 0, 0, 255]])
    assert I.semantic_to_instances(semantic, classes=[1, 2]).tolist() == [[1, 1, 2, 0], [0, 0, 2, 0], [3, 0, 0, 0]]
    assert I.semantic_to_instances(semantic).max() == 4, "by default every nonzero label, 255 too"


def test_masks_to_boxes_equal_torchvision():
    instances, count = I.connected_components(blobs(3, density=0.4))
    stack = instances[None] == torch.arange(1, count + 1)[:, None, None]  # (K, H, W)
    reference = ops.masks_to_boxes(stack)
    assert torch.equal(I.masks_to_boxes(instances), reference)
    assert torch.equal(I.masks_to_boxes(stack), reference)
    single = torch.zeros(8, 6, dtype=torch.long)
    single[5, 3] = 7
    assert I.masks_to_boxes(single).tolist() == [[3.0, 5.0, 3.0, 5.0]], "inclusive (x1, y1, x2, y2)"


def test_box_iou_equals_torchvision():
    instances, _ = I.connected_components(blobs(4, density=0.45))
    boxes = I.masks_to_boxes(instances)
    boxes[:, 2:] += 1  # whole-pixel boxes: no zero-area box
    torch.testing.assert_close(I.box_iou(boxes, boxes[:9]), ops.box_iou(boxes, boxes[:9]).double())
    assert I.box_iou(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 1, 3, 3]])).item() == pytest.approx(1 / 7)


def test_mask_iou_maps_and_stacks_agree():
    pred = torch.tensor([[1, 1, 0], [2, 2, 0], [2, 2, 0]])
    target = torch.tensor([[0, 5, 5], [0, 0, 0], [3, 3, 0]])
    iou = I.mask_iou(pred, target)  # rows: pred 1, 2; columns: target 3, 5
    torch.testing.assert_close(iou, torch.tensor([[0.0, 1 / 3], [2 / 4, 0.0]], dtype=torch.float64))
    stacks = I.mask_iou(torch.stack([pred == 1, pred == 2]), torch.stack([target == 3, target == 5]))
    torch.testing.assert_close(stacks, iou)


def test_match_instances_hand_worked():
    target = torch.tensor([[1, 1, 1, 1, 0, 2, 2, 0, 3, 3]])
    pred = torch.tensor([[4, 4, 4, 0, 0, 5, 0, 0, 0, 6]])
    # IoU: pred 4 ~ target 1: 3/4; pred 5 ~ target 2: 1/2 (not > 0.5); pred 6 ~ target 3: 1/2
    matches = I.match_instances(pred, target, 0.5)
    assert matches.pred_ids.tolist() == [4] and matches.target_ids.tolist() == [1]
    assert matches.ious.tolist() == [0.75]
    assert matches.unmatched_pred.tolist() == [5, 6] and matches.unmatched_target.tolist() == [2, 3]
    loose = I.match_instances(pred, target, 0.4)
    assert loose.pred_ids.tolist() == [4, 5, 6] and loose.target_ids.tolist() == [1, 2, 3]


def test_match_below_half_is_greedy_by_iou():
    target = torch.tensor([[1, 1, 1, 1, 1, 1, 0, 0]])
    pred = torch.tensor([[2, 2, 2, 3, 3, 3, 3, 3]])  # IoU 3/6 and 3/8 with the same target
    matches = I.match_instances(pred, target, 0.2)
    assert matches.pred_ids.tolist() == [2] and matches.unmatched_pred.tolist() == [3]


def test_instance_scores_hand_worked():
    target = torch.tensor([[1, 1, 0, 2, 2, 0, 3, 3, 0, 4]])
    pred = torch.tensor([[1, 1, 0, 2, 2, 0, 0, 0, 5, 0]])  # 2 TP, 1 FP, 2 FN
    scores = I.instance_scores(pred, target)
    assert (scores["tp"], scores["fp"], scores["fn"]) == (2, 1, 2)
    assert scores["precision"] == pytest.approx(2 / 3) and scores["recall"] == pytest.approx(2 / 4)
    assert scores["f1"] == pytest.approx(4 / 7)
    assert scores["ap50"] == pytest.approx(2 / 3 * 2 / 4), "no scores: one PR point, AP = P * R"
    ranked = I.instance_scores(pred, target, scores=torch.tensor([0.9, 0.8, 0.1]))
    # ranked: TP, TP, FP -> recall 1/4, 2/4 at precision 1: AP = 0.5
    assert ranked["ap50"] == pytest.approx(0.5)
    wrong_first = I.instance_scores(pred, target, scores=torch.tensor([0.2, 0.1, 0.9]))
    # FP first: (P, R) = (0, 0), (1/2, 1/4), (2/3, 2/4): interpolated AP = 1/4 * 2/3 + 1/4 * 2/3
    assert wrong_first["ap50"] == pytest.approx(1 / 3)
    assert "ap75" in I.instance_scores(pred, target, 0.75)


def test_instance_scores_empty_sides():
    target = torch.tensor([[1, 1, 0]])
    nothing = torch.zeros(1, 3, dtype=torch.long)
    no_pred = I.instance_scores(nothing, target)
    assert no_pred["ap50"] == 0.0 and no_pred["recall"] == 0.0 and math.isnan(no_pred["precision"])
    no_target = I.instance_scores(target, nothing)
    assert math.isnan(no_target["ap50"]) and no_target["precision"] == 0.0 and no_target["f1"] == 0.0


def test_panoptic_quality_hand_worked():
    # class 0 stuff (instance 0), class 1 things; 255 is void
    gt_sem = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 255]])
    gt_inst = torch.tensor([[0, 0, 0, 1, 1, 2, 2, 0]])
    pred_sem = torch.tensor([[0, 0, 1, 1, 1, 1, 1, 1]])
    pred_inst = torch.tensor([[0, 0, 5, 5, 5, 6, 6, 6]])
    result = I.panoptic_quality(pred_sem, pred_inst, gt_sem, gt_inst, num_classes=2, ignore_index=255)
    # stuff: IoU 2/3 -> TP. thing 1: pred 5 (3 px) vs gt 1 (2 px): IoU 2/3 -> TP.
    # pred 6 covers gt 2 (2 px) + 1 void px: union = 3 + 2 - 2 - 1 = 2 -> IoU 1 -> TP.
    torch.testing.assert_close(result["sq_per_class"], torch.tensor([2 / 3, (2 / 3 + 1) / 2], dtype=torch.float64))
    assert result["tp"].tolist() == [1, 2] and result["fp"].tolist() == [0, 0] and result["fn"].tolist() == [0, 0]
    assert result["pq"] == pytest.approx((2 / 3 + 5 / 6) / 2) and result["rq"] == 1.0


def test_panoptic_quality_fp_fn_and_absent_class():
    gt_sem = torch.tensor([[1, 1, 0, 0]])
    gt_inst = torch.tensor([[1, 1, 0, 0]])
    pred_sem = torch.tensor([[1, 0, 0, 0]])
    pred_inst = torch.tensor([[3, 0, 0, 0]])
    result = I.panoptic_quality(pred_sem, pred_inst, gt_sem, gt_inst, num_classes=3)
    # class 1: pred 3 vs gt 1: IoU 1/2, not > 0.5 -> 1 FP + 1 FN, PQ = SQ = RQ = 0
    assert result["tp"][1] == 0 and result["fp"][1] == 1 and result["fn"][1] == 1
    assert result["pq_per_class"][1] == 0 and result["sq_per_class"][1] == 0
    # class 0: IoU 2/3 (TP); class 2 absent everywhere -> NaN, left out of the mean
    assert math.isnan(result["pq_per_class"][2])
    assert result["pq"] == pytest.approx((2 / 3 + 0) / 2)


@pytest.mark.parametrize("seed", range(4))
def test_panoptic_quality_equals_torchmetrics(seed):
    g = torch.Generator().manual_seed(seed)

    def blocks(high, low=0):
        return torch.randint(low, high, (2, 4, 4), generator=g).repeat_interleave(4, 1).repeat_interleave(4, 2)

    gt_sem = blocks(4)
    gt_inst = torch.where(gt_sem >= 2, blocks(4, 1), 0)  # classes 0, 1 stuff; 2, 3 things
    noise = torch.rand(2, 8, 8, generator=g).repeat_interleave(2, 1).repeat_interleave(2, 2) < 0.3
    pred_sem = torch.where(noise, torch.randint(0, 4, noise.shape, generator=g), gt_sem)
    pred_inst = torch.where(pred_sem >= 2, torch.where(noise, 5, gt_inst), 0)
    gt_sem[:, :3], gt_inst[:, :3] = 255, 0  # void rows
    ours = I.panoptic_quality(pred_sem, pred_inst, gt_sem, gt_inst, num_classes=4, ignore_index=255)
    metric = PanopticQuality(things={2, 3}, stuffs={0, 1}, return_per_class=True, return_sq_and_rq=True)
    ref = metric(torch.stack([pred_sem, pred_inst], -1), torch.stack([gt_sem, gt_inst], -1))
    per_class = torch.stack([ours["pq_per_class"], ours["sq_per_class"], ours["rq_per_class"]], 1)
    torch.testing.assert_close(per_class[[2, 3, 0, 1]], ref.double(), atol=1e-6, rtol=0)  # things first


BAD = [
    ("float mask", lambda: I.connected_components(torch.rand(4, 4)), TypeError, "mask > 0.5"),
    ("3-D mask", lambda: I.connected_components(torch.zeros(2, 4, 4, dtype=torch.long)), ValueError, "(H, W)"),
    ("empty mask", lambda: I.connected_components(torch.zeros(0, 4, dtype=torch.bool)), ValueError, "empty"),
    ("connectivity 6", lambda: I.connected_components(torch.ones(3, 3, dtype=torch.bool), 6), ValueError, "4 or 8"),
    ("negative ids", lambda: I.masks_to_boxes(torch.tensor([[-1, 0]])), ValueError, "negative"),
    ("empty mask in stack", lambda: I.masks_to_boxes(torch.zeros(2, 3, 3, dtype=torch.bool)), ValueError, "masks [0, 1] are empty"),
    ("boxes shape", lambda: I.box_iou(torch.zeros(3, 5), torch.zeros(2, 4)), ValueError, "(K, 4)"),
    ("inverted box", lambda: I.box_iou(torch.tensor([[2.0, 0, 1, 1]]), torch.zeros(1, 4)), ValueError, "x2 >= x1"),
    ("NaN box", lambda: I.box_iou(torch.tensor([[0.0, 0, float("nan"), 1]]), torch.zeros(1, 4)), ValueError, "NaN"),
    ("map shape mismatch", lambda: I.match_instances(torch.zeros(3, 3, dtype=torch.long), torch.zeros(3, 4, dtype=torch.long)), ValueError, "does not match"),
    ("threshold 1.5", lambda: I.match_instances(torch.zeros(3, 3, dtype=torch.long), torch.zeros(3, 3, dtype=torch.long), 1.5), ValueError, "[0, 1)"),
    ("NaN scores", lambda: I.instance_scores(torch.tensor([[1, 0]]), torch.tensor([[1, 0]]), scores=torch.tensor([float("nan")])), ValueError, "NaN"),
    ("scores length", lambda: I.instance_scores(torch.tensor([[1, 0]]), torch.tensor([[1, 0]]), scores=torch.ones(2)), ValueError, "shape (1,)"),
    ("PQ label >= C", lambda: I.panoptic_quality(torch.full((2, 2), 3), torch.zeros(2, 2, dtype=torch.long), torch.zeros(2, 2, dtype=torch.long), torch.zeros(2, 2, dtype=torch.long), 3), ValueError, "pred_sem has labels [3]"),
    ("PQ shapes", lambda: I.panoptic_quality(torch.zeros(2, 2, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 2, dtype=torch.long), torch.zeros(2, 2, dtype=torch.long), 3), ValueError, "share one"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_inputs_raise_clear_errors(case):
    _, call, error, fragment = case
    with pytest.raises(error, match=re.escape(fragment)):
        call()


# ---------------------------------------------------------------- splitting touching objects (unit 08's methods)


def _boundary_reference(ids):
    padded = torch.nn.functional.pad(ids[None, None].double(), (1, 1, 1, 1), mode="replicate")[0, 0]
    centre = padded[1:-1, 1:-1]
    differs = ((padded[:-2, 1:-1] != centre) | (padded[2:, 1:-1] != centre)
               | (padded[1:-1, :-2] != centre) | (padded[1:-1, 2:] != centre))
    out = (ids > 0).long()
    out[(ids > 0) & differs] = 2
    return out


def test_boundary_target_matches_a_padded_reference():
    ids = torch.tensor([[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 2], [0, 1, 1, 1, 2]])
    assert I.boundary_target(ids).tolist() == [[0, 0, 0, 0, 0], [0, 2, 2, 2, 0], [0, 2, 1, 2, 2], [0, 2, 1, 2, 2]]
    gen = torch.Generator().manual_seed(0)
    blocks = torch.randint(0, 4, (9, 11), generator=gen).repeat_interleave(3, 0).repeat_interleave(2, 1)
    before = blocks.clone()
    assert torch.equal(I.boundary_target(blocks), _boundary_reference(blocks))
    assert torch.equal(blocks, before)


def _two_touching_discs(size=40, radius=8):
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    a = (ys - 20) ** 2 + (xs - 13) ** 2 <= radius**2
    b = (ys - 20) ** 2 + (xs - 27) ** 2 <= radius**2
    return a, b


def test_split_by_watershed_separates_two_touching_discs():
    a, b = _two_touching_discs()
    assert I.connected_components(a | b)[1] == 1, "the discs touch: one component"
    split = I.split_by_watershed(a | b, min_distance=4)
    assert split.dtype == torch.int64 and int(split.max()) == 2
    matches = I.match_instances(split, a.long() + 2 * (b & ~a).long(), 0.5)
    assert len(matches.pred_ids) == 2


def test_split_by_boundary_class_splits_at_the_predicted_boundary():
    a, b = _two_touching_discs()
    truth = a.long() + 2 * (b & ~a).long()
    target = I.boundary_target(truth)
    probs = torch.nn.functional.one_hot(target, 3).permute(2, 0, 1).float()  # a perfect prediction
    split = I.split_by_boundary_class(probs)
    assert int(split.max()) == 2
    assert torch.equal(split > 0, truth > 0), "the seeds grow back over the boundary ring"
    assert len(I.match_instances(split, truth, 0.5).pred_ids) == 2
    with pytest.raises(ValueError, match="probs must be a float \\(3, H, W\\)"):
        I.split_by_boundary_class(probs[:2])


# ------------------------------------------------------------- interactive segmentation


def _reference_click(pred: np.ndarray, target: np.ndarray):
    """The protocol written with scipy on the whole image: border as boundary, first argmax."""
    fn, fp = target & ~pred, pred & ~target
    d_fn = ndi.distance_transform_edt(np.pad(fn, 1))[1:-1, 1:-1]
    d_fp = ndi.distance_transform_edt(np.pad(fp, 1))[1:-1, 1:-1]
    if not fn.any() and not fp.any():
        return None
    positive = d_fn.max() > d_fp.max()
    y, x = np.unravel_index(np.argmax(d_fn if positive else d_fp), pred.shape)
    return int(y), int(x), bool(positive)


@pytest.mark.parametrize("seed", range(6))
def test_distance_to_boundary_equals_scipy(seed):
    rng = np.random.default_rng(seed)
    mask = ndi.binary_opening(rng.random((37, 51)) < 0.3 + 0.1 * seed)
    got = I.distance_to_boundary(torch.from_numpy(mask))
    ref = ndi.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    assert got.dtype == torch.int64
    np.testing.assert_allclose(got.double().sqrt().numpy(), ref, atol=1e-12)


@settings(max_examples=80, deadline=None)
@given(pred=arrays(np.bool_, st.tuples(st.integers(1, 9), st.integers(1, 9))), data=st.data())
def test_next_click_equals_scipy_reference(pred, data):
    target = data.draw(arrays(np.bool_, pred.shape))
    assert I.next_click(torch.from_numpy(pred), torch.from_numpy(target)) == _reference_click(pred, target)


@pytest.mark.parametrize("seed", range(4))
def test_next_click_on_blobs_equals_scipy_reference(seed):
    rng = np.random.default_rng(seed)
    target = ndi.binary_closing(rng.random((48, 64)) < 0.45, iterations=2)
    pred = ndi.binary_dilation(target, iterations=seed) if seed % 2 else ndi.binary_erosion(target, iterations=seed)
    pred = pred.copy()
    pred[5:15, 40:60] = True  # a false-positive patch
    assert I.next_click(pred, target) == _reference_click(pred, target)


def test_next_click_hand_cases():
    target = torch.zeros(7, 9, dtype=torch.bool)
    target[1:6, 2:7] = True  # a 5 x 5 square: its centre (3, 4) is 3 pixels from the background
    empty = torch.zeros_like(target)
    assert I.next_click(empty, target) == (3, 4, True), "the first click goes to the object's centre"
    assert I.next_click(target, target) is None, "a perfect prediction needs no click"
    assert I.next_click(target, empty) == (3, 4, False), "only false positives: a negative click"
    # the image border counts as boundary: a full-image object is deepest in the middle, not at a corner
    full = torch.ones(5, 5, dtype=torch.bool)
    assert I.next_click(torch.zeros(5, 5, dtype=torch.bool), full) == (2, 2, True)
    # ties: a 2 x 4 object has eight pixels at distance 1; the first in row-major order wins
    bar = torch.zeros(4, 6, dtype=torch.bool)
    bar[1:3, 1:5] = True
    assert I.next_click(torch.zeros_like(bar), bar) == (1, 1, True)
    # equal largest distances on both sides: the click is negative (positive needs strictly larger)
    pred, target = torch.zeros(3, 7, dtype=torch.bool), torch.zeros(3, 7, dtype=torch.bool)
    target[1, 1] = True
    pred[1, 5] = True
    assert I.next_click(pred, target) == (1, 5, False)
    # integer masks (nonzero = True) are accepted, and the inputs are not modified
    ints = target.long() * 3
    before = ints.clone()
    assert I.next_click(torch.zeros_like(ints), ints) == (1, 1, True)
    assert torch.equal(ints, before)


def test_next_click_errors():
    with pytest.raises(ValueError, match=r"\(4, 4\).*\(4, 5\)"):
        I.next_click(torch.zeros(4, 4, dtype=torch.bool), torch.zeros(4, 5, dtype=torch.bool))
    with pytest.raises(TypeError, match="float"):
        I.next_click(torch.zeros(4, 4), torch.zeros(4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        I.next_click(torch.zeros(1, 4, 4, dtype=torch.bool), torch.zeros(1, 4, 4, dtype=torch.bool))


def test_noc():
    curve = [0.40, 0.84, 0.86, 0.89, 0.91, 0.95]
    assert I.noc(curve, 0.85) == 3
    assert I.noc(curve, 0.90) == 5
    assert I.noc(curve, 0.85, max_clicks=2) == 2, "never reached within max_clicks: max_clicks"
    assert I.noc([0.2, 0.3], 0.9) == 20, "a short curve that never reaches the threshold counts max_clicks"
    assert I.noc(torch.tensor([0.9]), 0.9) == 1, "IoU equal to the threshold counts (>=)"
    assert I.noc(np.array([0.95, 0.5, 0.99]), 0.9) == 1, "the first click that reaches it, not the last"
    assert I.noc([], 0.9, max_clicks=5) == 5
    assert np.mean([I.noc(c, 0.85) for c in ([0.9], [0.1] * 20, [0.5, 0.86])]) == pytest.approx((1 + 20 + 2) / 3)
    with pytest.raises(ValueError, match="0.85"):
        I.noc(curve, 85)
    with pytest.raises(ValueError, match="max_clicks"):
        I.noc(curve, 0.9, max_clicks=0)
    with pytest.raises(ValueError, match="NaN"):
        I.noc([0.5, float("nan")], 0.9)
    with pytest.raises(ValueError, match="1-D"):
        I.noc([[0.5]], 0.9)
