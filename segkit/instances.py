"""From semantic masks to instances: components, boxes, matching, AP and panoptic quality, and
unit 08's two ways of splitting touching objects (a boundary class, distance transform + watershed).

An *instance map* is an integer ``(H, W)`` tensor: 0 = no instance, ``k > 0`` = pixel of instance
``k``. Functions returning one value per instance list the instances in increasing id order.

Boxes are ``(x1, y1, x2, y2)`` in pixel indices with ``x2, y2`` *inclusive*, as
``torchvision.ops.masks_to_boxes``: a single pixel at column 3, row 5 has the box ``(3, 5, 3, 5)``.
:func:`box_iou` reads boxes as continuous coordinates, like ``torchvision.ops.box_iou``: such a box
has area ``(x2 - x1) * (y2 - y1)``, one pixel less per side than the pixels it covers.

Matching rule: a prediction and a target match when their IoU is *strictly* above the threshold.
At thresholds >= 0.5 each instance can match at most one other (two disjoint masks cannot both
overlap a third by more than half of their union), so the matching is unique; below 0.5 pairs
are taken greedily by decreasing IoU.

Interactive segmentation (a user clicks, a model answers with a mask) is measured by simulating
the user: :func:`next_click` puts the next click where the current mask is most wrong, and
:func:`noc` counts the clicks needed to reach an IoU (NoC@85, NoC@90), as in the RITM, SimpleClick
and SAM evaluations.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from segkit._checks import check_finite, check_label_tensor, check_labels, check_tensor

__all__ = [
    "connected_components",
    "semantic_to_instances",
    "masks_to_boxes",
    "box_iou",
    "mask_iou",
    "InstanceMatches",
    "match_instances",
    "instance_scores",
    "panoptic_quality",
    "boundary_target",
    "split_by_boundary_class",
    "split_by_watershed",
    "distance_to_boundary",
    "next_click",
    "noc",
]

# Neighbour offsets (dy, dx) looking forward in raster order; the other half is symmetric.
_OFFSETS = {4: ((0, 1), (1, 0)), 8: ((0, 1), (1, 0), (1, 1), (1, -1))}


def _check_map(x: Tensor | np.ndarray, name: str, dims: tuple[int, ...] = (2,)) -> Tensor:
    """An integer (or bool) tensor with ``x.dim()`` in ``dims``, non-empty, no negative value."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    shapes = " or ".join({2: "(H, W)", 3: "(N, H, W)"}.get(d, f"{d}-D") for d in dims)
    check_tensor(x, name, f"{shapes} (or a numpy array)")
    check_label_tensor(x, name, "integer or bool values", " (threshold float masks first, e.g. mask > 0.5)")
    if x.dim() not in dims:
        raise ValueError(f"{name} must be {shapes}, got shape {tuple(x.shape)}")
    if x.dtype != torch.bool and int(x.min()) < 0:
        raise ValueError(f"{name} has negative values (min {int(x.min())})")
    return x.long()


def _check_connectivity(connectivity: int) -> None:
    if connectivity not in _OFFSETS:
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")


def _label_regions(fg: Tensor, key: Tensor | None, connectivity: int) -> tuple[Tensor, int]:
    """Label the connected regions of ``fg`` whose neighbours also share the same ``key``.

    Union-find in whole-tensor steps, every pixel a node: each pixel starts pointing at the first
    pixel of its horizontal run; then, until no link joins two trees, every root takes the smallest
    root it is linked to (``scatter_reduce`` with ``amin``) and pointer jumping flattens the trees.
    A region ends up named by its first pixel in raster order, so labels come out numbered like
    ``scipy.ndimage.label``'s. Background pixels are never linked and stay alone.
    """
    height, width = fg.shape
    index = torch.arange(height * width, device=fg.device).view(height, width)  # raster order

    joins_left = torch.zeros_like(fg)  # pixel continues the run of its left neighbour
    joins_left[:, 1:] = fg[:, 1:] & fg[:, :-1]
    if key is not None:
        joins_left[:, 1:] &= key[:, 1:] == key[:, :-1]
    run_start = torch.where(joins_left, 0, index).cummax(dim=1).values  # (H, W)
    parent = run_start.reshape(-1)  # (H*W,) every tree is a star: parent = root

    sources, targets = [], []
    for dy, dx in _OFFSETS[connectivity][1:]:  # links between rows; runs already join (0, 1)
        rows_a, rows_b = slice(0, height - dy), slice(dy, height)
        cols_a = slice(max(0, -dx), width - max(0, dx))
        cols_b = slice(max(0, dx), width - max(0, -dx))
        linked = fg[rows_a, cols_a] & fg[rows_b, cols_b]  # each pixel and its lower neighbour
        if key is not None:
            linked &= key[rows_a, cols_a] == key[rows_b, cols_b]
        sources.append(index[rows_a, cols_a].masked_select(linked))
        targets.append(index[rows_b, cols_b].masked_select(linked))
    u, v = torch.cat(sources), torch.cat(targets)  # (E,) links, one per neighbour pair

    while True:
        root_u, root_v = parent.gather(0, u), parent.gather(0, v)
        open_link = root_u != root_v  # links still joining two trees
        if not bool(open_link.any()):
            break
        u, v = u.masked_select(open_link), v.masked_select(open_link)
        root_u, root_v = root_u.masked_select(open_link), root_v.masked_select(open_link)
        # every root joins the smallest root it is linked to
        parent.scatter_reduce_(0, torch.maximum(root_u, root_v), torch.minimum(root_u, root_v), "amin")
        while True:  # pointer jumping
            grand = parent.gather(0, parent)
            if torch.equal(grand, parent):
                break
            parent = grand

    fg = fg.reshape(-1)
    rank = (fg & (parent == index.reshape(-1))).cumsum(0)  # root r -> 1..count
    labels = torch.where(fg, rank.gather(0, parent), 0)
    return labels.view(height, width), int(rank[-1])


def connected_components(mask: Tensor | np.ndarray, connectivity: int = 4) -> tuple[Tensor, int]:
    """Label the connected regions of the nonzero pixels of a 2-D mask.

    Args:
        mask: ``(H, W)`` bool or integer (every nonzero value is foreground), tensor or array.
        connectivity: 4 (edge neighbours) or 8 (edge and corner neighbours).

    Returns:
        ``(labels, count)``: int64 ``(H, W)`` with 0 for background and ``1..count`` numbered by
        each region's first pixel in raster order (the numbering of ``scipy.ndimage.label``), on
        the mask's device.

    Built in lessons/08-semantic-vs-instance.
    """
    _check_connectivity(connectivity)
    mask = _check_map(mask, "mask")
    return _label_regions(mask != 0, None, connectivity)


def semantic_to_instances(mask: Tensor | np.ndarray, classes: Sequence[int] | None = None,
                          connectivity: int = 4) -> Tensor:
    """Split a semantic mask into instances: connected regions of a single class each.

    Args:
        mask: integer ``(H, W)`` class labels.
        classes: the classes to split (e.g. the "thing" classes); ``None``: every label but 0.
            Pass it explicitly to keep a void label such as 255 out.
        connectivity: 4 or 8.

    Returns:
        int64 ``(H, W)`` instance map: 0 outside ``classes``, ``1..K`` numbered in raster order
        of each instance's first pixel. Two touching regions of different classes are different
        instances.

    Built in lessons/08-semantic-vs-instance.
    """
    _check_connectivity(connectivity)
    mask = _check_map(mask, "mask")
    if classes is None:
        fg = mask != 0
    else:
        fg = torch.isin(mask, torch.as_tensor(list(classes), dtype=torch.int64, device=mask.device))
    return _label_regions(fg, mask, connectivity)[0]


def _compact_ids(instances: Tensor) -> tuple[Tensor, Tensor]:
    """Sorted nonzero ids ``(K,)`` and, per pixel, the position ``0..K`` (0 = background)."""
    values, inverse = torch.unique(instances.reshape(-1), return_inverse=True)
    if int(values[0]) == 0:
        return values[1:], inverse
    return values, inverse + 1


def masks_to_boxes(instances: Tensor | np.ndarray) -> Tensor:
    """Tight boxes around instances, like ``torchvision.ops.masks_to_boxes``.

    Args:
        instances: an instance map ``(H, W)`` (one box per nonzero id, increasing id order) or a
            stack of binary masks ``(K, H, W)`` (one box per mask; none may be empty).

    Returns:
        float32 ``(K, 4)`` boxes ``(x1, y1, x2, y2)``, ``x2, y2`` inclusive pixel indices.

    Built in lessons/09-segmentation-vs-detection.
    """
    instances = _check_map(instances, "instances", dims=(2, 3))
    if instances.dim() == 3:  # (K, H, W) stack of masks
        masks = instances != 0
        empty = ~masks.flatten(1).any(1)
        if bool(empty.any()):
            raise ValueError(f"masks {empty.nonzero().flatten().tolist()} are empty: no box")
        rows, cols = masks.any(2).byte(), masks.any(1).byte()  # (K, H), (K, W)
        height, width = rows.shape[1], cols.shape[1]
        x1, y1 = cols.argmax(1), rows.argmax(1)  # first occupied column / row
        x2, y2 = width - 1 - cols.flip(1).argmax(1), height - 1 - rows.flip(1).argmax(1)
        return torch.stack([x1, y1, x2, y2], dim=1).float()
    width = instances.shape[1]
    ids, position = _compact_ids(instances)  # (K,), (H*W,)
    on = position > 0
    index, flat = position[on] - 1, on.nonzero().squeeze(1)  # instance and pixel of each fg pixel
    ys, xs = flat // width, flat % width
    start = torch.zeros(len(ids), dtype=torch.int64, device=instances.device)
    x1, y1 = (start.scatter_reduce(0, index, c, "amin", include_self=False) for c in (xs, ys))
    x2, y2 = (start.scatter_reduce(0, index, c, "amax", include_self=False) for c in (xs, ys))
    return torch.stack([x1, y1, x2, y2], dim=1).float()


def _check_boxes(boxes: Tensor, name: str) -> Tensor:
    check_tensor(boxes, name, "(K, 4)")
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must be a (K, 4) tensor of (x1, y1, x2, y2), got {tuple(boxes.shape)}")
    boxes = check_finite(boxes.double(), name)
    if bool((boxes[:, 2] < boxes[:, 0]).any() | (boxes[:, 3] < boxes[:, 1]).any()):
        raise ValueError(f"{name} need x2 >= x1 and y2 >= y1")
    return boxes


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """IoU of every pair of boxes, like ``torchvision.ops.box_iou``.

    Args:
        boxes1: ``(P, 4)``, boxes2: ``(T, 4)``, as ``(x1, y1, x2, y2)`` with ``x2 >= x1, y2 >= y1``.

    Returns:
        float64 ``(P, T)`` in [0, 1]; NaN for two zero-area boxes (0 / 0), as torchvision.
        Areas are ``(x2 - x1) * (y2 - y1)``: add 1 to ``x2, y2`` of :func:`masks_to_boxes`'s
        boxes to count whole pixels.

    Built in lessons/09-segmentation-vs-detection.
    """
    boxes1, boxes2 = _check_boxes(boxes1, "boxes1"), _check_boxes(boxes2, "boxes2")
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])  # (P,)
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])  # (T,)
    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])  # (P, T, 2)
    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (P, T, 2)
    inter = (bottom_right - top_left).clamp(min=0).prod(2)  # (P, T)
    return inter / (area1[:, None] + area2[None, :] - inter)


def _overlap(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """IoU matrix ``(P, T)`` of two instance maps, with the pred and target ids it refers to."""
    if pred.shape != target.shape:
        raise ValueError(f"pred of shape {tuple(pred.shape)} does not match target of shape "
                         f"{tuple(target.shape)}")
    pred_ids, p = _compact_ids(pred)
    target_ids, t = _compact_ids(target)
    size = (len(pred_ids) + 1, len(target_ids) + 1)
    counts = torch.bincount(p * size[1] + t, minlength=size[0] * size[1]).view(size).double()
    inter = counts[1:, 1:]  # (P, T) shared pixels
    union = counts.sum(1)[1:, None] + counts.sum(0)[None, 1:] - inter
    return inter / union, pred_ids, target_ids


def mask_iou(pred: Tensor | np.ndarray, target: Tensor | np.ndarray) -> Tensor:
    """IoU of every pair of instance masks, counting pixels.

    Args:
        pred, target: two instance maps ``(H, W)`` (rows/columns follow increasing nonzero ids),
            or two stacks of binary masks ``(P, H, W)`` and ``(T, H, W)``.

    Returns:
        float64 ``(P, T)`` in [0, 1].

    Built in lessons/09-segmentation-vs-detection.
    """
    pred = _check_map(pred, "pred", dims=(2, 3))
    target = _check_map(target, "target", dims=(2, 3))
    if pred.dim() == 2 and target.dim() == 2:
        return _overlap(pred, target)[0]
    if pred.dim() != 3 or target.dim() != 3 or pred.shape[1:] != target.shape[1:]:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must be two "
                         f"(H, W) instance maps or two (K, H, W) stacks of the same H, W")
    p, t = (pred != 0).flatten(1).double(), (target != 0).flatten(1).double()  # (P, HW), (T, HW)
    inter = p @ t.T  # (P, T)
    return inter / (p.sum(1)[:, None] + t.sum(1)[None, :] - inter)


class InstanceMatches(NamedTuple):
    """Result of :func:`match_instances`; ids are those of the instance maps."""

    pred_ids: Tensor  # (M,) matched prediction ids
    target_ids: Tensor  # (M,) the target each one matched
    ious: Tensor  # (M,) float64, their IoU
    unmatched_pred: Tensor  # ids of false positives
    unmatched_target: Tensor  # ids of false negatives


def _check_threshold(iou_threshold: float) -> None:
    if not isinstance(iou_threshold, (int, float)) or not 0 <= iou_threshold < 1:
        raise ValueError(f"iou_threshold must be in [0, 1), got {iou_threshold!r}")


def match_instances(pred: Tensor | np.ndarray, target: Tensor | np.ndarray,
                    iou_threshold: float = 0.5) -> InstanceMatches:
    """Pair predicted and true instances whose mask IoU is above ``iou_threshold``.

    Args:
        pred, target: instance maps ``(H, W)`` of the same shape (0 = none).
        iou_threshold: in ``[0, 1)``; a pair matches when IoU > threshold (strictly). At >= 0.5
            the matching is unique; below, pairs are taken greedily by decreasing IoU.

    Returns:
        :class:`InstanceMatches` with matched ids (in increasing pred id order), their IoU, and
        the unmatched ids of each side.

    Built in lessons/08-semantic-vs-instance.
    """
    _check_threshold(iou_threshold)
    iou, pred_ids, target_ids = _overlap(_check_map(pred, "pred"), _check_map(target, "target"))
    candidates = (iou > iou_threshold).nonzero()  # (K, 2) pairs (i, j)
    order = iou[candidates[:, 0], candidates[:, 1]].argsort(descending=True, stable=True)
    used_pred, used_target, pairs = set(), set(), []
    for i, j in candidates[order].tolist():  # loops over candidate pairs, not pixels
        if i not in used_pred and j not in used_target:
            used_pred.add(i)
            used_target.add(j)
            pairs.append((i, j))
    pairs.sort()
    i = torch.tensor([p[0] for p in pairs], dtype=torch.int64, device=iou.device)
    j = torch.tensor([p[1] for p in pairs], dtype=torch.int64, device=iou.device)
    free_pred = torch.ones(len(pred_ids), dtype=torch.bool, device=iou.device)
    free_target = torch.ones(len(target_ids), dtype=torch.bool, device=iou.device)
    free_pred[i], free_target[j] = False, False
    return InstanceMatches(pred_ids[i], target_ids[j], iou[i, j],
                           pred_ids[free_pred], target_ids[free_target])


def instance_scores(pred: Tensor | np.ndarray, target: Tensor | np.ndarray,
                    iou_threshold: float = 0.5, scores: Tensor | None = None) -> dict[str, float]:
    """Detection-style scores of an instance segmentation at one IoU threshold.

    With ``TP`` matched pairs (:func:`match_instances`), ``FP`` unmatched predictions and ``FN``
    unmatched targets: precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)``,
    F1 ``2 TP / (2 TP + FP + FN)``; each NaN when its denominator is 0.

    AP is the area under the precision-recall curve obtained by lowering a confidence threshold
    over the predictions (all-point interpolation: precision at recall ``r`` is the best precision
    at any recall ``>= r``, as in COCO/VOC). Predictions with equal scores enter together, so
    without ``scores`` the curve is a single point and ``AP = precision * recall``. The key is
    named after the threshold: ``"ap50"`` at 0.5, ``"ap75"`` at 0.75. NaN if there is no target;
    0 if there are targets but no prediction.

    Args:
        pred, target: instance maps ``(H, W)``.
        iou_threshold: in ``[0, 1)``; see :func:`match_instances` (matching ignores the scores).
        scores: optional finite confidences ``(P,)``, one per predicted id in increasing order.

    Returns:
        ``{"tp", "fp", "fn"}`` (ints) and ``{"precision", "recall", "f1", "apXX"}`` (floats).

    Built in lessons/08-semantic-vs-instance.
    """
    matches = match_instances(pred, target, iou_threshold)
    tp, fp, fn = len(matches.pred_ids), len(matches.unmatched_pred), len(matches.unmatched_target)
    num_pred, num_target = tp + fp, tp + fn
    if scores is None:
        scores = torch.ones(num_pred, dtype=torch.float64)
    check_tensor(scores, "scores", f"({num_pred},)")
    if scores.shape != (num_pred,):
        raise ValueError(f"scores must be a tensor of shape ({num_pred},), one per predicted "
                         f"instance, got {tuple(scores.shape)}")
    check_finite(scores, "scores")

    nan = float("nan")
    pred_ids = torch.cat([matches.pred_ids, matches.unmatched_pred]).sort().values.cpu()
    is_tp = torch.isin(pred_ids, matches.pred_ids.cpu())  # (P,) in increasing id order
    scores = scores.detach().double().cpu()
    if num_target == 0:
        ap = nan
    elif num_pred == 0:
        ap = 0.0
    else:
        order = scores.argsort(descending=True, stable=True)
        ranked, hits = scores[order], is_tp[order].double()
        last_of_tie = torch.ones(num_pred, dtype=torch.bool)
        last_of_tie[:-1] = ranked[1:] != ranked[:-1]  # the curve only has points between ties
        tps = hits.cumsum(0)[last_of_tie]
        precision = tps / (torch.arange(1, num_pred + 1, dtype=torch.float64)[last_of_tie])
        recall = tps / num_target
        best_after = precision.flip(0).cummax(0).values.flip(0)  # interpolated precision
        steps = torch.diff(recall, prepend=recall.new_zeros(1))
        ap = float((steps * best_after).sum())
    key = f"ap{round(100 * iou_threshold)}"
    return {
        "tp": tp, "fp": fp, "fn": fn,
        "precision": tp / num_pred if num_pred else nan,
        "recall": tp / num_target if num_target else nan,
        "f1": 2 * tp / (2 * tp + fp + fn) if num_pred + num_target else nan,
        key: ap,
    }


def _segments(sem: Tensor, inst: Tensor, num_classes: int, stride: int,
              ignore_index: int | None) -> tuple[Tensor, Tensor]:
    """Segments of a panoptic map: the class of each ``(S,)`` and, per pixel, its position
    ``0..S`` (0 = void). A segment is one ``(image, class, instance id)`` triple."""
    sem = sem.long().reshape(-1, sem.shape[-2] * sem.shape[-1])  # (N, H*W)
    inst = inst.reshape(sem.shape)
    image = torch.arange(sem.shape[0], device=sem.device)[:, None]  # (N, 1)
    key = (image * num_classes + sem) * stride + inst + 1  # one value per segment, >= 1
    if ignore_index is not None:
        key = key.masked_fill(sem == ignore_index, 0)
    ids, position = _compact_ids(key)
    return ((ids - 1) // stride) % num_classes, position


def panoptic_quality(pred_sem: Tensor, pred_inst: Tensor, gt_sem: Tensor, gt_inst: Tensor,
                     num_classes: int, ignore_index: int | None = None) -> dict[str, object]:
    """Panoptic quality of Kirillov et al. (CVPR 2019), per class and averaged over classes.

    A *segment* is the set of pixels sharing one ``(class, instance id)`` pair in one image (give
    "stuff" classes instance id 0: the whole class region is then one segment). A predicted and
    a true segment of the same class match when their IoU > 0.5, which makes matches unique.
    Per class, over all images::

        PQ = sum_TP IoU / (TP + FP/2 + FN/2)  =  SQ * RQ
        SQ = sum_TP IoU / TP      RQ = TP / (TP + FP/2 + FN/2)

    Void (``gt_sem == ignore_index``): as in the reference ``panopticapi``, the predicted pixels
    that fall on void are removed from the union, and a predicted segment that lies more than half
    on void is not a false positive. Predicted pixels labelled ``ignore_index`` belong to no
    segment. A class with TP = FP = FN = 0 gets NaN and is left out of the means; SQ of a class
    with FP or FN but no TP is 0 (as ``panopticapi``).

    Args:
        pred_sem, gt_sem: integer class maps ``(H, W)`` or ``(N, H, W)``, values in ``[0, C)`` or
            ``ignore_index``.
        pred_inst, gt_inst: instance ids ``>= 0`` of the same shape.
        num_classes: ``C``.
        ignore_index: the void label, or ``None``.

    Returns:
        ``"pq"``, ``"sq"``, ``"rq"`` (floats, means over classes); ``"pq_per_class"``,
        ``"sq_per_class"``, ``"rq_per_class"`` (float64 ``(C,)``); ``"tp"``, ``"fp"``, ``"fn"``
        (int64 ``(C,)``).

    Built in lessons/08-semantic-vs-instance.
    """
    pred_inst, gt_inst = _check_map(pred_inst, "pred_inst", (2, 3)), _check_map(gt_inst, "gt_inst", (2, 3))
    for name, sem in (("pred_sem", pred_sem), ("gt_sem", gt_sem)):
        check_label_tensor(sem, name)
        check_labels(sem, num_classes, ignore_index, name=name)
    shapes = {"pred_sem": tuple(pred_sem.shape), "pred_inst": tuple(pred_inst.shape),
              "gt_sem": tuple(gt_sem.shape), "gt_inst": tuple(gt_inst.shape)}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"the four maps must share one (H, W) or (N, H, W) shape, got {shapes}")
    stride = int(max(pred_inst.max(), gt_inst.max())) + 1
    pred_class, p = _segments(pred_sem, pred_inst, num_classes, stride, ignore_index)  # (P,), (N*H*W,)
    gt_class, g = _segments(gt_sem, gt_inst, num_classes, stride, ignore_index)  # (G,), (N*H*W,)
    size = (len(pred_class) + 1, len(gt_class) + 1)
    counts = torch.bincount(p * size[1] + g, minlength=size[0] * size[1]).view(size).double()
    pred_area, gt_area, on_void = counts.sum(1)[1:], counts.sum(0)[1:], counts[1:, 0]
    inter = counts[1:, 1:]  # (P, G)
    union = pred_area[:, None] + gt_area[None, :] - inter - on_void[:, None]
    same_class = pred_class[:, None] == gt_class[None, :]
    matched = same_class & (inter / union > 0.5)  # (P, G), at most one True per row and column
    iou = torch.where(matched, inter / union, torch.zeros_like(inter))

    def per_class(values: Tensor, classes: Tensor) -> Tensor:  # sum the values of each class
        total = torch.zeros(num_classes, dtype=values.dtype, device=values.device)
        return total.index_add_(0, classes, values)

    tp = per_class(matched.any(1).long(), pred_class)
    iou_sum = per_class(iou.sum(1), pred_class)
    fp = per_class((~matched.any(1) & (on_void <= 0.5 * pred_area)).long(), pred_class)
    fn = per_class((~matched.any(0)).long(), gt_class)
    tp, fp, fn, iou_sum = tp.cpu(), fp.cpu(), fn.cpu(), iou_sum.cpu()
    denominator = tp.double() + 0.5 * fp + 0.5 * fn  # float64: int64 + 0.5 * int64 would be float32
    defined = denominator > 0
    nan = torch.full((num_classes,), float("nan"), dtype=torch.float64)
    pq = torch.where(defined, iou_sum / denominator, nan)
    rq = torch.where(defined, tp / denominator, nan)
    sq = torch.where(defined, torch.where(tp > 0, iou_sum / tp, torch.zeros_like(iou_sum)), nan)
    return {
        "pq": float(pq.nanmean()), "sq": float(sq.nanmean()), "rq": float(rq.nanmean()),
        "pq_per_class": pq, "sq_per_class": sq, "rq_per_class": rq,
        "tp": tp, "fp": fp, "fn": fn,
    }


# ---------------------------------------------------------------- splitting touching objects (lessons/08)


def boundary_target(instances: Tensor | np.ndarray) -> Tensor:
    """Three-class training target that separates touching instances: 0 background, 1 interior,
    2 boundary (an instance pixel with a 4-neighbour of another value; outside the image does not count).

    Args:
        instances: instance map ``(H, W)``, 0 = none.

    Returns:
        int64 ``(H, W)`` in {0, 1, 2}.

    Built in lessons/08-semantic-vs-instance.
    """
    ids = _check_map(instances, "instances")
    differs = torch.zeros_like(ids, dtype=torch.bool)  # has a 4-neighbour with another value
    vertical = ids[1:, :] != ids[:-1, :]  # (H-1, W)
    horizontal = ids[:, 1:] != ids[:, :-1]  # (H, W-1)
    differs[1:, :] |= vertical
    differs[:-1, :] |= vertical
    differs[:, 1:] |= horizontal
    differs[:, :-1] |= horizontal
    target = (ids > 0).long()
    target[(ids > 0) & differs] = 2
    return target


def split_by_boundary_class(probs: Tensor, seed_threshold: float = 0.7, grow_steps: int = 3) -> Tensor:
    """Instances from a background / interior / boundary prediction (:func:`boundary_target`'s classes).

    Seeds are the 4-connected components of the pixels whose interior probability exceeds
    ``seed_threshold``; each seed then grows ``grow_steps`` times by one pixel (3 x 3 max-pooling
    of the ids) into the predicted foreground (argmax interior or boundary) that has no id yet.

    Args:
        probs: float ``(3, H, W)``, class probabilities (softmax of the logits).

    Returns:
        int64 instance map ``(H, W)``.

    Built in lessons/08-semantic-vs-instance.
    """
    if not isinstance(probs, Tensor) or not probs.is_floating_point() or probs.dim() != 3 or probs.shape[0] != 3:
        raise ValueError(f"probs must be a float (3, H, W) tensor, got "
                         f"{tuple(probs.shape) if isinstance(probs, Tensor) else type(probs).__name__}")
    if isinstance(grow_steps, bool) or not isinstance(grow_steps, int) or grow_steps < 0:
        raise ValueError(f"grow_steps must be an int >= 0, got {grow_steps!r}")
    ids, _ = connected_components(probs[1] > seed_threshold)  # sure interior only
    foreground = probs.argmax(0) > 0
    for _ in range(grow_steps):
        neighbour = torch.nn.functional.max_pool2d(ids[None, None].float(), 3, stride=1, padding=1)[0, 0].long()
        ids = torch.where((ids == 0) & foreground, neighbour, ids)
    return ids


def split_by_watershed(foreground: Tensor | np.ndarray, min_distance: int) -> Tensor:
    """Split touching round objects by their shape: distance transform, one marker per local maximum
    (at least ``min_distance`` pixels apart, per connected blob), watershed of the inverted distance.

    Needs scipy and scikit-image (``pip install scipy scikit-image``).

    Args:
        foreground: ``(H, W)`` bool or 0/1.
        min_distance: the smallest distance between two markers, about an object's radius.

    Returns:
        int64 instance map ``(H, W)`` (on the CPU).

    Built in lessons/08-semantic-vs-instance.
    """
    try:
        import scipy.ndimage as ndi
        from skimage import feature, segmentation
    except ImportError as error:
        raise ImportError("split_by_watershed needs scipy and scikit-image: pip install scipy scikit-image") from error
    mask = _check_map(foreground, "foreground").cpu().numpy() != 0
    if isinstance(min_distance, bool) or not isinstance(min_distance, int) or min_distance < 1:
        raise ValueError(f"min_distance must be a positive int, got {min_distance!r}")
    distance = ndi.distance_transform_edt(mask)  # (H, W) float64
    blobs = connected_components(torch.from_numpy(mask))[0].numpy()
    peaks = feature.peak_local_max(distance, min_distance=min_distance, labels=blobs, exclude_border=False)
    markers = np.zeros(mask.shape, dtype=np.int64)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)  # one marker per hill
    return torch.from_numpy(segmentation.watershed(-distance, markers, mask=mask)).long()


# ------------------------------------------------------------- interactive segmentation


def _check_binary(x: Tensor | np.ndarray, name: str) -> Tensor:
    """A bool (or integer, nonzero = True) ``(H, W)`` tensor."""
    return _check_map(x, name) != 0


def distance_to_boundary(mask: Tensor | np.ndarray) -> Tensor:
    """Squared Euclidean distance of every True pixel to the nearest False pixel, the image border
    counting as False (as if the mask were padded by one pixel of False); 0 on False pixels.

    Exact, in two separable passes (distance along each column, then the lower envelope along each
    row); the square root is ``scipy.ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]``.

    Args:
        mask: bool (or integer, nonzero = True) ``(H, W)``.

    Returns:
        int64 ``(H, W)``.
    """
    fg = F.pad(_check_binary(mask, "mask"), (1, 1, 1, 1), value=False)  # (H + 2, W + 2), False border
    height, width = fg.shape
    rows = torch.arange(height, device=fg.device)[:, None].expand(height, width)
    # pass 1: distance to the nearest False pixel in the same column (one exists: the border)
    above = torch.where(fg, 0, rows).cummax(0).values  # last False row at or above
    below = torch.where(fg, height, rows).flip(0).cummin(0).values.flip(0)  # first False row at or below
    column = torch.minimum(rows - above, below - rows).long()  # (H + 2, W + 2)
    # pass 2: d2(y, x) = min over x' of (x - x')^2 + column(y, x')^2, a few rows at a time
    offsets = (torch.arange(width, device=fg.device)[:, None] - torch.arange(width, device=fg.device)[None, :]) ** 2
    chunk = max(1, 2**22 // (width * width))
    squared = torch.cat([(column[i : i + chunk, None, :] ** 2 + offsets).amin(-1)  # (chunk, W + 2)
                         for i in range(0, height, chunk)])
    return squared[1:-1, 1:-1]


def next_click(pred: Tensor | np.ndarray, target: Tensor | np.ndarray) -> tuple[int, int, bool] | None:
    """The simulated user's next click: at the pixel deepest inside the largest error.

    The false negatives (``target & ~pred``) and false positives (``pred & ~target``) each get a
    Euclidean distance transform, the image border counting as boundary. The click is positive at
    the farthest false-negative pixel when that distance is strictly larger than the farthest
    false-positive one, otherwise negative at the farthest false-positive pixel. Ties of the
    farthest pixel go to the first in row-major order. An empty prediction thus gets its first
    click at the object pixel farthest from the object's boundary.

    Args:
        pred, target: bool (or integer, nonzero = True) ``(H, W)`` masks of the same shape.

    Returns:
        ``(y, x, positive)`` (row, column, whether the click is on the object), or None when
        ``pred`` equals ``target``.

    Raises:
        TypeError / ValueError: not integer or bool, not 2-D, empty, or shapes differ.

    Built in lessons/15-promptable-segmentation.
    """
    pred, target = _check_binary(pred, "pred"), _check_binary(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred of shape {tuple(pred.shape)} does not match target of shape {tuple(target.shape)}")
    errors = pred ^ target
    if not errors.any():
        return None
    ys, xs = errors.nonzero(as_tuple=True)  # only the errors' bounding box matters: outside it
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1  # there is no error
    fn = (target & ~pred)[y0:y1, x0:x1]
    fp = (pred & ~target)[y0:y1, x0:x1]
    d_fn, d_fp = distance_to_boundary(fn), distance_to_boundary(fp)
    positive = bool(d_fn.max() > d_fp.max())
    index = int((d_fn if positive else d_fp).flatten().argmax())  # the first maximum in row-major order
    width = x1 - x0
    return y0 + index // width, x0 + index % width, positive


def noc(ious: Sequence[float] | Tensor | np.ndarray, threshold: float, max_clicks: int = 20) -> int:
    """Number of clicks: the 1-based index of the first IoU >= ``threshold`` among the first
    ``max_clicks`` (``ious[k]`` is the IoU after click ``k + 1``), or ``max_clicks`` when never
    reached. NoC@85 / NoC@90 over a set of instances is the mean of ``noc(..., 0.85 / 0.90)``.

    Raises:
        ValueError: ``threshold`` outside ``(0, 1]`` (write 0.85, not 85), ``max_clicks`` not a
            positive int, ``ious`` not 1-D or holding NaN.

    Built in lessons/15-promptable-segmentation.
    """
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1] (e.g. 0.85 for NoC@85), got {threshold!r}")
    if not isinstance(max_clicks, int) or isinstance(max_clicks, bool) or max_clicks < 1:
        raise ValueError(f"max_clicks must be a positive int, got {max_clicks!r}")
    values = ious if isinstance(ious, Tensor) else torch.as_tensor(np.asarray(ious, dtype=np.float64))
    if not values.is_floating_point():
        values = values.double()
    if values.dim() != 1:
        raise ValueError(f"ious must be 1-D (one IoU per click), got shape {tuple(values.shape)}")
    values = values[:max_clicks]
    if values.isnan().any():
        raise ValueError(f"ious holds NaN at clicks {(values.isnan().nonzero().flatten() + 1).tolist()}")
    reached = (values >= threshold).nonzero()
    return int(reached[0]) + 1 if len(reached) else max_clicks
