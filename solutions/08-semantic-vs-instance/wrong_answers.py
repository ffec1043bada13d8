"""Plausible wrong answers for unit 08 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    dict(
        cell='connected_components',
        id='cc-always-4-connected',
        description='ignores the connectivity argument: always 4 neighbours',
        patch=[('    if connectivity == 8:\n        steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]',
                '')],
    ),
    dict(
        cell='connected_components',
        id='cc-column-major-numbering',
        description='scans columns before rows, so components are numbered in the wrong order',
        source='''
from collections import deque


def connected_components(mask, connectivity=4):
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    fg = (mask != 0).tolist()
    height, width = len(fg), len(fg[0])
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)] + ([(-1, -1), (-1, 1), (1, -1), (1, 1)] if connectivity == 8 else [])
    labels = [[0] * width for _ in range(height)]
    count = 0
    for x in range(width):
        for y in range(height):
            if not fg[y][x] or labels[y][x]:
                continue
            count += 1
            labels[y][x] = count
            queue = deque([(y, x)])
            while queue:
                cy, cx = queue.popleft()
                for dy, dx in steps:
                    ny, nx = cy + dy, cx + dx
                    if 0 <= ny < height and 0 <= nx < width and fg[ny][nx] and not labels[ny][nx]:
                        labels[ny][nx] = count
                        queue.append((ny, nx))
    return torch.tensor(labels, dtype=torch.int64), count
''',
    ),
    dict(
        cell='connected_components',
        id='cc-only-value-1-is-foreground',
        description='treats only pixels equal to 1 as foreground (integer masks with 2, 255 ... lose pixels)',
        patch=[('    fg = (mask != 0).tolist()                                  # H lists of W bools',
                '    fg = (mask == 1).tolist()'),
               ('    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]\n    if connectivity == 8:\n        steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]',
                '    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)] + ([(-1, -1), (-1, 1), (1, -1), (1, 1)] if connectivity == 8 else [])')],
    ),
    dict(
        cell='connected_components',
        id='cc-delegates-to-scipy',
        description='calls scipy.ndimage.label instead of writing the search',
        source='''
import numpy as np
import scipy.ndimage


def connected_components(mask, connectivity=4):
    if connectivity not in (4, 8):
        raise ValueError("connectivity must be 4 or 8")
    structure = np.ones((3, 3), dtype=int) if connectivity == 8 else None
    labels, count = scipy.ndimage.label(mask.numpy() != 0, structure=structure)
    return torch.from_numpy(labels).long(), int(count)
''',
    ),
    dict(
        cell='connected_components',
        id='cc-delegates-to-segkit',
        description='calls segkit.instances.connected_components',
        source='''
from segkit.instances import connected_components as _cc


def connected_components(mask, connectivity=4):
    return _cc(mask, connectivity)
''',
    ),
    dict(
        cell='connected_components',
        id='cc-any-other-connectivity-is-4',
        description='no ValueError: any connectivity other than 8 silently means 4',
        source='''
from collections import deque


def connected_components(mask, connectivity=4):
    fg = (mask != 0).tolist()
    height, width = len(fg), len(fg[0])
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)] + ([(-1, -1), (-1, 1), (1, -1), (1, 1)] if connectivity == 8 else [])
    labels = [[0] * width for _ in range(height)]
    count = 0
    for y in range(height):
        for x in range(width):
            if not fg[y][x] or labels[y][x]:
                continue
            count += 1
            labels[y][x] = count
            queue = deque([(y, x)])
            while queue:
                cy, cx = queue.popleft()
                for dy, dx in steps:
                    ny, nx = cy + dy, cx + dx
                    if 0 <= ny < height and 0 <= nx < width and fg[ny][nx] and not labels[ny][nx]:
                        labels[ny][nx] = count
                        queue.append((ny, nx))
    return torch.tensor(labels, dtype=torch.int64), count
''',
    ),
    dict(
        cell='boundary_target',
        id='boundary-outer-ring',
        description='marks the background pixels next to an instance as boundary (a ring outside, not inside)',
        patch=[('    differs = torch.zeros_like(ids, dtype=torch.bool)        # has a 4-neighbour with another value\n    vertical = ids[1:, :] != ids[:-1, :]                      # (H-1, W) pairs of rows\n    horizontal = ids[:, 1:] != ids[:, :-1]                    # (H, W-1) pairs of columns\n    differs[1:, :] |= vertical\n    differs[:-1, :] |= vertical\n    differs[:, 1:] |= horizontal\n    differs[:, :-1] |= horizontal',
                '    p = torch.nn.functional.pad(ids[None, None].float(), (1, 1, 1, 1), mode="replicate")[0, 0]\n    c = p[1:-1, 1:-1]\n    differs = (p[:-2, 1:-1] != c) | (p[2:, 1:-1] != c) | (p[1:-1, :-2] != c) | (p[1:-1, 2:] != c)'),
               ('    target[(ids > 0) & differs] = 2',
                '    target[differs] = 2')],
    ),
    dict(
        cell='boundary_target',
        id='boundary-only-against-background',
        description='boundary only where an instance meets background: contacts between two instances are missed',
        patch=[('    differs = torch.zeros_like(ids, dtype=torch.bool)        # has a 4-neighbour with another value\n    vertical = ids[1:, :] != ids[:-1, :]                      # (H-1, W) pairs of rows\n    horizontal = ids[:, 1:] != ids[:, :-1]                    # (H, W-1) pairs of columns\n    differs[1:, :] |= vertical\n    differs[:-1, :] |= vertical\n    differs[:, 1:] |= horizontal\n    differs[:, :-1] |= horizontal\n    target = (ids > 0).long()                                 # interior everywhere on instances\n    target[(ids > 0) & differs] = 2',
                '    fg = ids > 0\n    p = torch.nn.functional.pad(fg[None, None].float(), (1, 1, 1, 1), mode="replicate")[0, 0] > 0\n    near_background = ~p[:-2, 1:-1] | ~p[2:, 1:-1] | ~p[1:-1, :-2] | ~p[1:-1, 2:]\n    target = fg.long()\n    target[fg & near_background] = 2')],
    ),
    dict(
        cell='boundary_target',
        id='boundary-8-neighbours',
        description='uses the 8 neighbours: a corner contact also makes boundary',
        patch=[('    differs = torch.zeros_like(ids, dtype=torch.bool)        # has a 4-neighbour with another value\n    vertical = ids[1:, :] != ids[:-1, :]                      # (H-1, W) pairs of rows\n    horizontal = ids[:, 1:] != ids[:, :-1]                    # (H, W-1) pairs of columns\n    differs[1:, :] |= vertical\n    differs[:-1, :] |= vertical\n    differs[:, 1:] |= horizontal\n    differs[:, :-1] |= horizontal',
                '    p = torch.nn.functional.pad(ids[None, None].float(), (1, 1, 1, 1), mode="replicate")[0, 0]\n    h, w = ids.shape\n    differs = torch.zeros(h, w, dtype=torch.bool)\n    for dy in (0, 1, 2):\n        for dx in (0, 1, 2):\n            differs |= p[dy:dy + h, dx:dx + w] != ids')],
    ),
    dict(
        cell='boundary_target',
        id='boundary-image-edge-is-background',
        description='pads with zeros, so every instance pixel on the image edge becomes boundary',
        patch=[('    differs = torch.zeros_like(ids, dtype=torch.bool)        # has a 4-neighbour with another value\n    vertical = ids[1:, :] != ids[:-1, :]                      # (H-1, W) pairs of rows\n    horizontal = ids[:, 1:] != ids[:, :-1]                    # (H, W-1) pairs of columns\n    differs[1:, :] |= vertical\n    differs[:-1, :] |= vertical\n    differs[:, 1:] |= horizontal\n    differs[:, :-1] |= horizontal',
                '    p = torch.nn.functional.pad(ids, (1, 1, 1, 1), value=0)\n    c = p[1:-1, 1:-1]\n    differs = (p[:-2, 1:-1] != c) | (p[2:, 1:-1] != c) | (p[1:-1, :-2] != c) | (p[1:-1, 2:] != c)')],
    ),
    dict(
        cell='boundary_target',
        id='boundary-roll-wraps-around',
        description='compares with torch.roll, so the image edge is compared with the opposite edge',
        patch=[('    vertical = ids[1:, :] != ids[:-1, :]                      # (H-1, W) pairs of rows\n    horizontal = ids[:, 1:] != ids[:, :-1]                    # (H, W-1) pairs of columns\n    differs[1:, :] |= vertical\n    differs[:-1, :] |= vertical\n    differs[:, 1:] |= horizontal\n    differs[:, :-1] |= horizontal',
                '    for shift, dim in ((1, 0), (-1, 0), (1, 1), (-1, 1)):\n        differs |= torch.roll(ids, shift, dim) != ids')],
    ),
    dict(
        cell='match_instances',
        id='match-iou-at-least-threshold',
        description='matches at IoU >= 0.5 instead of strictly above',
        patch=[("    # positions 0..P and 0..T (0 = background) of every pixel, as in unit 03's confusion matrix\n    p = torch.searchsorted(torch.tensor([0] + pred_ids), pred.flatten())\n    t = torch.searchsorted(torch.tensor([0] + target_ids), target.flatten())\n    size = (len(pred_ids) + 1, len(target_ids) + 1)\n    counts = torch.bincount(p * size[1] + t, minlength=size[0] * size[1]).view(size).double()\n    inter = counts[1:, 1:]                                         # (P, T) shared pixels\n    union = counts.sum(1)[1:, None] + counts.sum(0)[None, 1:] - inter\n    iou = inter / union\n    pairs, used_target = [], set()\n    for i, j in (iou > iou_threshold).nonzero().tolist():          # unique at thresholds >= 0.5\n        pairs.append((pred_ids[i], target_ids[j], float(iou[i, j])))\n        used_target.add(target_ids[j])\n    used_pred = {a for a, _, _ in pairs}\n    return (pairs, [i for i in pred_ids if i not in used_pred],\n            [j for j in target_ids if j not in used_target])",
                '    pairs, used_pred, used_target = [], set(), set()\n    for a in pred_ids:\n        for b in target_ids:\n            p, t = pred == a, target == b\n            inter = int((p & t).sum())\n            union = int((p | t).sum())\n            iou = inter / union if union else 0.0\n            if iou >= iou_threshold:\n                pairs.append((a, b, iou))\n                used_pred.add(a)\n                used_target.add(b)\n    return (pairs, [i for i in pred_ids if i not in used_pred], [j for j in target_ids if j not in used_target])')],
    ),
    dict(
        cell='match_instances',
        id='match-overlap-over-target-area',
        description="divides the overlap by the target's area (coverage), not by the union",
        patch=[("    # positions 0..P and 0..T (0 = background) of every pixel, as in unit 03's confusion matrix\n    p = torch.searchsorted(torch.tensor([0] + pred_ids), pred.flatten())\n    t = torch.searchsorted(torch.tensor([0] + target_ids), target.flatten())\n    size = (len(pred_ids) + 1, len(target_ids) + 1)\n    counts = torch.bincount(p * size[1] + t, minlength=size[0] * size[1]).view(size).double()\n    inter = counts[1:, 1:]                                         # (P, T) shared pixels\n    union = counts.sum(1)[1:, None] + counts.sum(0)[None, 1:] - inter\n    iou = inter / union\n    pairs, used_target = [], set()\n    for i, j in (iou > iou_threshold).nonzero().tolist():          # unique at thresholds >= 0.5\n        pairs.append((pred_ids[i], target_ids[j], float(iou[i, j])))\n        used_target.add(target_ids[j])\n    used_pred = {a for a, _, _ in pairs}\n    return (pairs, [i for i in pred_ids if i not in used_pred],\n            [j for j in target_ids if j not in used_target])",
                '    pairs, used_pred, used_target = [], set(), set()\n    for a in pred_ids:\n        for b in target_ids:\n            p, t = pred == a, target == b\n            inter = int((p & t).sum())\n            union = int(t.sum())\n            iou = inter / union if union else 0.0\n            if iou > iou_threshold:\n                pairs.append((a, b, iou))\n                used_pred.add(a)\n                used_target.add(b)\n    return (pairs, [i for i in pred_ids if i not in used_pred], [j for j in target_ids if j not in used_target])')],
    ),
    dict(
        cell='match_instances',
        id='match-ids-assumed-1-to-k',
        description='assumes the ids are 1..max, so missing ids become empty instances',
        source='''
def match_instances(pred, target, iou_threshold=0.5):
    pred_ids = list(range(1, int(pred.max()) + 1))
    target_ids = list(range(1, int(target.max()) + 1))
    pairs, used_pred, used_target = [], set(), set()
    for a in pred_ids:
        for b in target_ids:
            p, t = pred == a, target == b
            inter = int((p & t).sum())
            union = int((p | t).sum())
            iou = inter / union if union else 0.0
            if iou > iou_threshold:
                pairs.append((a, b, iou))
                used_pred.add(a)
                used_target.add(b)
    return (pairs, [i for i in pred_ids if i not in used_pred], [j for j in target_ids if j not in used_target])
''',
    ),
    dict(
        cell='match_instances',
        id='match-background-is-an-instance',
        description='keeps id 0 (background) as an instance',
        source='''
def match_instances(pred, target, iou_threshold=0.5):
    pred_ids = [int(i) for i in pred.unique()]
    target_ids = [int(i) for i in target.unique()]
    pairs, used_pred, used_target = [], set(), set()
    for a in pred_ids:
        for b in target_ids:
            p, t = pred == a, target == b
            inter = int((p & t).sum())
            union = int((p | t).sum())
            iou = inter / union if union else 0.0
            if iou > iou_threshold:
                pairs.append((a, b, iou))
                used_pred.add(a)
                used_target.add(b)
    return (pairs, [i for i in pred_ids if i not in used_pred], [j for j in target_ids if j not in used_target])
''',
    ),
    dict(
        cell='match_instances',
        id='match-delegates-to-segkit',
        description="converts segkit.instances.match_instances' result instead of matching",
        source='''
import segkit.instances


def match_instances(pred, target, iou_threshold=0.5):
    m = segkit.instances.match_instances(pred, target, iou_threshold)
    pairs = [(int(a), int(b), float(c)) for a, b, c in zip(m.pred_ids, m.target_ids, m.ious)]
    return pairs, m.unmatched_pred.tolist(), m.unmatched_target.tolist()
''',
    ),
    dict(
        cell='panoptic_quality',
        id='pq-without-halves',
        description='RQ = TP / (TP + FP + FN): forgets the halves (that is IoU-like, not F1)',
        patch=[('    rq = tp / (tp + 0.5 * fp + 0.5 * fn)',
                '    rq = tp / (tp + fp + fn)')],
    ),
    dict(
        cell='panoptic_quality',
        id='pq-sq-over-all-targets',
        description='SQ averages the matched IoUs over all true instances instead of over the matches',
        patch=[('    sq = iou_sum / tp if tp else 0.0',
                '    sq = iou_sum / (tp + fn) if tp + fn else 0.0')],
    ),
    dict(
        cell='panoptic_quality',
        id='pq-empty-is-zero',
        description='nothing on either side scores 0 instead of NaN',
        patch=[('        return {"pq": math.nan, "sq": math.nan, "rq": math.nan}',
                '        return {"pq": 0.0, "sq": 0.0, "rq": 0.0}')],
    ),
    dict(
        cell='panoptic_quality',
        id='pq-no-match-gives-nan-sq',
        description='SQ is NaN (0 / 0) when there is no match, instead of 0',
        patch=[('    sq = iou_sum / tp if tp else 0.0',
                '    sq = iou_sum / tp if tp else math.nan')],
    ),
    dict(
        cell='panoptic_quality',
        id='pq-delegates-to-segkit',
        description='calls segkit.instances.panoptic_quality with one thing class',
        source='''
import segkit.instances


def panoptic_quality(pred, target):
    r = segkit.instances.panoptic_quality((pred > 0).long(), pred, (target > 0).long(), target, num_classes=2)
    return {k: float(r[f"{k}_per_class"][1]) for k in ("pq", "sq", "rq")}
''',
    ),
]
