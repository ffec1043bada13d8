"""Plausible wrong answers for unit 08 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    dict(
        cell='connected_components',
        id='cc-always-4-connected',
        description='ignores the connectivity argument: always 4 neighbours',
        source='''
from collections import deque


def connected_components(mask, connectivity=4):
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    fg = (mask != 0).tolist()
    height, width = len(fg), len(fg[0])
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
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
        source='''
from collections import deque


def connected_components(mask, connectivity=4):
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    fg = (mask == 1).tolist()
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
        source='''
def boundary_target(instances):
    ids = instances.long()
    p = torch.nn.functional.pad(ids[None, None].float(), (1, 1, 1, 1), mode="replicate")[0, 0]
    c = p[1:-1, 1:-1]
    differs = (p[:-2, 1:-1] != c) | (p[2:, 1:-1] != c) | (p[1:-1, :-2] != c) | (p[1:-1, 2:] != c)
    target = (ids > 0).long()
    target[differs] = 2
    return target
''',
    ),
    dict(
        cell='boundary_target',
        id='boundary-only-against-background',
        description='boundary only where an instance meets background: contacts between two instances are missed',
        source='''
def boundary_target(instances):
    ids = instances.long()
    fg = ids > 0
    p = torch.nn.functional.pad(fg[None, None].float(), (1, 1, 1, 1), mode="replicate")[0, 0] > 0
    near_background = ~p[:-2, 1:-1] | ~p[2:, 1:-1] | ~p[1:-1, :-2] | ~p[1:-1, 2:]
    target = fg.long()
    target[fg & near_background] = 2
    return target
''',
    ),
    dict(
        cell='boundary_target',
        id='boundary-8-neighbours',
        description='uses the 8 neighbours: a corner contact also makes boundary',
        source='''
def boundary_target(instances):
    ids = instances.long()
    p = torch.nn.functional.pad(ids[None, None].float(), (1, 1, 1, 1), mode="replicate")[0, 0]
    h, w = ids.shape
    differs = torch.zeros(h, w, dtype=torch.bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            differs |= p[dy:dy + h, dx:dx + w] != ids
    target = (ids > 0).long()
    target[(ids > 0) & differs] = 2
    return target
''',
    ),
    dict(
        cell='boundary_target',
        id='boundary-image-edge-is-background',
        description='pads with zeros, so every instance pixel on the image edge becomes boundary',
        source='''
def boundary_target(instances):
    ids = instances.long()
    p = torch.nn.functional.pad(ids, (1, 1, 1, 1), value=0)
    c = p[1:-1, 1:-1]
    differs = (p[:-2, 1:-1] != c) | (p[2:, 1:-1] != c) | (p[1:-1, :-2] != c) | (p[1:-1, 2:] != c)
    target = (ids > 0).long()
    target[(ids > 0) & differs] = 2
    return target
''',
    ),
    dict(
        cell='boundary_target',
        id='boundary-roll-wraps-around',
        description='compares with torch.roll, so the image edge is compared with the opposite edge',
        source='''
def boundary_target(instances):
    ids = instances.long()
    differs = torch.zeros_like(ids, dtype=torch.bool)
    for shift, dim in ((1, 0), (-1, 0), (1, 1), (-1, 1)):
        differs |= torch.roll(ids, shift, dim) != ids
    target = (ids > 0).long()
    target[(ids > 0) & differs] = 2
    return target
''',
    ),
    dict(
        cell='match_instances',
        id='match-iou-at-least-threshold',
        description='matches at IoU >= 0.5 instead of strictly above',
        source='''
def match_instances(pred, target, iou_threshold=0.5):
    pred_ids = [int(i) for i in pred.unique() if i != 0]
    target_ids = [int(i) for i in target.unique() if i != 0]
    pairs, used_pred, used_target = [], set(), set()
    for a in pred_ids:
        for b in target_ids:
            p, t = pred == a, target == b
            inter = int((p & t).sum())
            union = int((p | t).sum())
            iou = inter / union if union else 0.0
            if iou >= iou_threshold:
                pairs.append((a, b, iou))
                used_pred.add(a)
                used_target.add(b)
    return (pairs, [i for i in pred_ids if i not in used_pred], [j for j in target_ids if j not in used_target])
''',
    ),
    dict(
        cell='match_instances',
        id='match-overlap-over-target-area',
        description="divides the overlap by the target's area (coverage), not by the union",
        source='''
def match_instances(pred, target, iou_threshold=0.5):
    pred_ids = [int(i) for i in pred.unique() if i != 0]
    target_ids = [int(i) for i in target.unique() if i != 0]
    pairs, used_pred, used_target = [], set(), set()
    for a in pred_ids:
        for b in target_ids:
            p, t = pred == a, target == b
            inter = int((p & t).sum())
            union = int(t.sum())
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
        source='''
def panoptic_quality(pred, target):
    pairs, unmatched_pred, unmatched_target = match_instances(pred, target, 0.5)
    tp, fp, fn = len(pairs), len(unmatched_pred), len(unmatched_target)
    if tp + fp + fn == 0:
        return {"pq": math.nan, "sq": math.nan, "rq": math.nan}
    iou_sum = sum(iou for _, _, iou in pairs)
    rq = tp / (tp + fp + fn)
    sq = iou_sum / tp if tp else 0.0
    return {"pq": sq * rq, "sq": sq, "rq": rq}
''',
    ),
    dict(
        cell='panoptic_quality',
        id='pq-sq-over-all-targets',
        description='SQ averages the matched IoUs over all true instances instead of over the matches',
        source='''
def panoptic_quality(pred, target):
    pairs, unmatched_pred, unmatched_target = match_instances(pred, target, 0.5)
    tp, fp, fn = len(pairs), len(unmatched_pred), len(unmatched_target)
    if tp + fp + fn == 0:
        return {"pq": math.nan, "sq": math.nan, "rq": math.nan}
    iou_sum = sum(iou for _, _, iou in pairs)
    rq = tp / (tp + 0.5 * fp + 0.5 * fn)
    sq = iou_sum / (tp + fn) if tp + fn else 0.0
    return {"pq": sq * rq, "sq": sq, "rq": rq}
''',
    ),
    dict(
        cell='panoptic_quality',
        id='pq-empty-is-zero',
        description='nothing on either side scores 0 instead of NaN',
        source='''
def panoptic_quality(pred, target):
    pairs, unmatched_pred, unmatched_target = match_instances(pred, target, 0.5)
    tp, fp, fn = len(pairs), len(unmatched_pred), len(unmatched_target)
    if tp + fp + fn == 0:
        return {"pq": 0.0, "sq": 0.0, "rq": 0.0}
    iou_sum = sum(iou for _, _, iou in pairs)
    rq = tp / (tp + 0.5 * fp + 0.5 * fn)
    sq = iou_sum / tp if tp else 0.0
    return {"pq": sq * rq, "sq": sq, "rq": rq}
''',
    ),
    dict(
        cell='panoptic_quality',
        id='pq-no-match-gives-nan-sq',
        description='SQ is NaN (0 / 0) when there is no match, instead of 0',
        source='''
def panoptic_quality(pred, target):
    pairs, unmatched_pred, unmatched_target = match_instances(pred, target, 0.5)
    tp, fp, fn = len(pairs), len(unmatched_pred), len(unmatched_target)
    if tp + fp + fn == 0:
        return {"pq": math.nan, "sq": math.nan, "rq": math.nan}
    iou_sum = sum(iou for _, _, iou in pairs)
    rq = tp / (tp + 0.5 * fp + 0.5 * fn)
    sq = iou_sum / tp if tp else math.nan
    return {"pq": sq * rq, "sq": sq, "rq": rq}
''',
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
