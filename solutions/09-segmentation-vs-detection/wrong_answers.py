"""Plausible wrong answers for unit 09 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    dict(
        cell='masks_to_boxes',
        id='boxes-rows-before-columns',
        description='returns (y1, x1, y2, x2): rows first, as the tensor is indexed',
        patch=[('        raise ValueError(f"masks {empty.nonzero().flatten().tolist()} are empty: they have no box")',
                '        raise ValueError(f"masks {empty.nonzero().flatten().tolist()} are empty")'),
               ('    return torch.stack([x1, y1, x2, y2], dim=1).float()',
                '    return torch.stack([y1, x1, y2, x2], dim=1).float()')],
    ),
    dict(
        cell='masks_to_boxes',
        id='boxes-exclusive-end',
        description='x2, y2 one past the last occupied column and row (slice-style), not inclusive',
        patch=[('        raise ValueError(f"masks {empty.nonzero().flatten().tolist()} are empty: they have no box")',
                '        raise ValueError(f"masks {empty.nonzero().flatten().tolist()} are empty")'),
               ('    x2 = torch.where(cols, xs, -1).max(dim=1).values',
                '    x2 = torch.where(cols, xs, -1).max(dim=1).values + 1'),
               ('    y2 = torch.where(rows, ys, -1).max(dim=1).values',
                '    y2 = torch.where(rows, ys, -1).max(dim=1).values + 1')],
    ),
    dict(
        cell='masks_to_boxes',
        id='boxes-width-from-count',
        description='last column = first + number of occupied columns - 1: wrong when a mask has gaps',
        patch=[('        raise ValueError(f"masks {empty.nonzero().flatten().tolist()} are empty: they have no box")',
                '        raise ValueError(f"masks {empty.nonzero().flatten().tolist()} are empty")'),
               ('    x2 = torch.where(cols, xs, -1).max(dim=1).values',
                '    x2 = x1 + cols.sum(dim=1) - 1'),
               ('    y2 = torch.where(rows, ys, -1).max(dim=1).values',
                '    y2 = y1 + rows.sum(dim=1) - 1')],
    ),
    dict(
        cell='masks_to_boxes',
        id='boxes-empty-mask-not-rejected',
        description='no check for empty masks: they get a nonsense box instead of a ValueError',
        patch=[('    empty = ~masks.flatten(1).any(dim=1)\n    if bool(empty.any()):\n        raise ValueError(f"masks {empty.nonzero().flatten().tolist()} are empty: they have no box")',
                '    pass')],
    ),
    dict(
        cell='masks_to_boxes',
        id='boxes-delegates-to-torchvision',
        description='calls torchvision.ops.masks_to_boxes',
        source='''
import torchvision.ops


def masks_to_boxes(masks):
    if masks.shape[0] and not bool(masks.flatten(1).any(1).all()):
        raise ValueError("empty mask")
    return torchvision.ops.masks_to_boxes(masks.bool())
''',
    ),
    dict(
        cell='box_iou',
        id='iou-pixel-areas-plus-one',
        description='adds 1 to widths and heights (the inclusive pixel convention) inside box_iou',
        source='''
def box_iou(boxes1, boxes2):
    area1 = (boxes1[:, 2] - boxes1[:, 0] + 1) * (boxes1[:, 3] - boxes1[:, 1] + 1)
    area2 = (boxes2[:, 2] - boxes2[:, 0] + 1) * (boxes2[:, 3] - boxes2[:, 1] + 1)
    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    inter = (bottom_right - top_left + 1).clamp(min=0).prod(dim=2)
    return inter / (area1[:, None] + area2[None, :] - inter)
''',
    ),
    dict(
        cell='box_iou',
        id='iou-clamp-after-product',
        description='clamps the intersection area instead of each side: boxes apart in x and y get a positive area',
        patch=[('    inter = (bottom_right - top_left).clamp(min=0).prod(dim=2)                   # (P, T)',
                '    inter = (bottom_right - top_left).prod(dim=2).clamp(min=0)')],
    ),
    dict(
        cell='box_iou',
        id='iou-union-is-sum-of-areas',
        description='union = area1 + area2, forgetting to subtract the intersection',
        patch=[('    return inter / (area1[:, None] + area2[None, :] - inter)',
                '    return inter / (area1[:, None] + area2[None, :])')],
    ),
    dict(
        cell='box_iou',
        id='iou-pairs-row-by-row',
        description='IoU of boxes1[i] with boxes2[i] only (no broadcasting): (P,) instead of (P, T)',
        patch=[('    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])           # (P, T, 2)\n    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])       # (P, T, 2)\n    inter = (bottom_right - top_left).clamp(min=0).prod(dim=2)                   # (P, T)\n    return inter / (area1[:, None] + area2[None, :] - inter)',
                '    top_left = torch.maximum(boxes1[:, :2], boxes2[:, :2])\n    bottom_right = torch.minimum(boxes1[:, 2:], boxes2[:, 2:])\n    inter = (bottom_right - top_left).clamp(min=0).prod(dim=1)\n    return inter / (area1 + area2 - inter)')],
    ),
    dict(
        cell='box_iou',
        id='iou-delegates-to-torchvision',
        description='calls torchvision.ops.box_iou',
        source='''
from torchvision.ops import box_iou as _box_iou


def box_iou(boxes1, boxes2):
    return _box_iou(boxes1, boxes2)
''',
    ),
    dict(
        cell='boxes_to_masks',
        id='box-masks-exclusive-end',
        description='x < x2 and y < y2: reads the inclusive box as exclusive',
        source='''
def boxes_to_masks(boxes, height, width):
    xs = torch.arange(width)[None, None, :]
    ys = torch.arange(height)[None, :, None]
    x1, y1, x2, y2 = (boxes[:, k, None, None] for k in range(4))
    return (xs >= x1) & (xs < x2) & (ys >= y1) & (ys < y2)
''',
    ),
    dict(
        cell='boxes_to_masks',
        id='box-masks-x-as-row',
        description='compares x with the rows and y with the columns',
        source='''
def boxes_to_masks(boxes, height, width):
    xs = torch.arange(width)[None, None, :]
    ys = torch.arange(height)[None, :, None]
    x1, y1, x2, y2 = (boxes[:, k, None, None] for k in range(4))
    return (ys >= x1) & (ys <= x2) & (xs >= y1) & (xs <= y2)
''',
    ),
    dict(
        cell='boxes_to_masks',
        id='box-masks-first-box-only',
        description='builds the mask of the first box only (the example has one box)',
        source='''
def boxes_to_masks(boxes, height, width):
    x1, y1, x2, y2 = boxes[0].long().tolist()
    mask = torch.zeros(1, height, width, dtype=torch.bool)
    mask[0, y1:y2 + 1, x1:x2 + 1] = True
    return mask
''',
    ),
    dict(
        cell='boxes_to_masks',
        id='box-masks-modifies-input',
        description="adds 1 to x2, y2 in place to use exclusive comparisons: the caller's boxes change",
        source='''
def boxes_to_masks(boxes, height, width):
    boxes[:, 2:] += 1
    xs = torch.arange(width)[None, None, :]
    ys = torch.arange(height)[None, :, None]
    x1, y1, x2, y2 = (boxes[:, k, None, None] for k in range(4))
    return (xs >= x1) & (xs < x2) & (ys >= y1) & (ys < y2)
''',
    ),
]
