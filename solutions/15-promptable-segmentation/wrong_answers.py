"""Plausible wrong answers for unit 15 (instructor side; never released to lessons/).

`python -m segkit.course wrong-answers 15-promptable-segmentation` swaps each one into its answer
cell, re-runs the exercise's visible and hidden tests and fails if one keeps full marks. Most are
patches of the solution cell (`old` must occur exactly once in it).
"""
WRONG_ANSWERS = [
    # ------------------------------------------------------------------ encode_points
    dict(
        cell="encode_points",
        id="encode-no-half-pixel",
        description="normalises the pixel index, not the pixel centre (no + 0.5)",
        patch=[("(points[..., 0] + 0.5) / width, (points[..., 1] + 0.5) / height",
                "points[..., 0] / width, points[..., 1] / height")],
    ),
    dict(
        cell="encode_points",
        id="encode-swapped-axes",
        description="divides x by the height and y by the width ((H, W) read as (W, H))",
        patch=[("(points[..., 0] + 0.5) / width, (points[..., 1] + 0.5) / height",
                "(points[..., 0] + 0.5) / height, (points[..., 1] + 0.5) / width")],
    ),
    dict(
        cell="encode_points",
        id="encode-in-place",
        description="shifts the caller's points to pixel centres in place (points += 0.5)",
        patch=[("u = torch.stack([(points[..., 0] + 0.5) / width, (points[..., 1] + 0.5) / height], dim=-1)",
                "points += 0.5\n    u = torch.stack([points[..., 0] / width, points[..., 1] / height], dim=-1)")],
    ),
    dict(
        cell="encode_points",
        id="encode-no-centering",
        description="projects u in [0, 1] instead of 2u - 1 in [-1, 1]",
        patch=[("((2 * u - 1).to(gaussian.dtype) @ gaussian)", "(u.to(gaussian.dtype) @ gaussian)")],
    ),
    dict(
        cell="encode_points",
        id="encode-interleaved",
        description="interleaves sin and cos per frequency instead of all sines then all cosines",
        patch=[("return torch.cat([angles.sin(), angles.cos()], dim=-1)",
                "return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2)")],
    ),
    dict(
        cell="encode_points",
        id="encode-delegates",
        description="delegates to segkit's PositionEmbeddingRandom",
        patch=[("    angles = 2 * math.pi * ((2 * u - 1).to(gaussian.dtype) @ gaussian)                        # (N, P, F)\n"
                "    return torch.cat([angles.sin(), angles.cos()], dim=-1)",
                "    from segkit.models.promptable import PositionEmbeddingRandom\n"
                "    layer = PositionEmbeddingRandom(gaussian.shape[1])\n"
                "    layer.positional_encoding_gaussian_matrix = gaussian\n"
                "    return layer(u)")],
    ),
    # ------------------------------------------------------------------ choose_mask
    dict(
        cell="choose_mask",
        id="choose-zero-logit-on",
        description="a logit of exactly 0 counts as on the object (>= 0)",
        patch=[("return chosen > 0, index", "return chosen >= 0, index")],
    ),
    dict(
        cell="choose_mask",
        id="choose-first-set-only",
        description="indexes the masks of the first prompt set only (the visible example has N = 1)",
        patch=[("chosen = masks[torch.arange(masks.shape[0], device=masks.device), index]", "chosen = masks[0, index]")],
    ),
    dict(
        cell="choose_mask",
        id="choose-tie-last",
        description="takes the last of tied predicted IoUs (the end of an ascending sort)",
        patch=[("index = iou_pred.argmax(dim=1)", "index = iou_pred.argsort(dim=1, stable=True)[:, -1]")],
    ),
    dict(
        cell="choose_mask",
        id="choose-probabilities",
        description="returns the sigmoid probabilities of the chosen mask instead of a bool mask",
        patch=[("return chosen > 0, index", "return chosen.sigmoid(), index")],
    ),
    # ------------------------------------------------------------------ next_click
    dict(
        cell="next_click",
        id="click-no-border",
        description="no padding: the image border is not counted as boundary",
        patch=[("scipy.ndimage.distance_transform_edt(np.pad(false_neg, 1))[1:-1, 1:-1]",
                "scipy.ndimage.distance_transform_edt(false_neg)"),
               ("scipy.ndimage.distance_transform_edt(np.pad(false_pos, 1))[1:-1, 1:-1]",
                "scipy.ndimage.distance_transform_edt(false_pos)")],
    ),
    dict(
        cell="next_click",
        id="click-pad-one-side",
        description="pads only the top and left borders (the border counts on two sides of four)",
        patch=[("scipy.ndimage.distance_transform_edt(np.pad(false_neg, 1))[1:-1, 1:-1]",
                "scipy.ndimage.distance_transform_edt(np.pad(false_neg, ((1, 0), (1, 0))))[1:, 1:]"),
               ("scipy.ndimage.distance_transform_edt(np.pad(false_pos, 1))[1:-1, 1:-1]",
                "scipy.ndimage.distance_transform_edt(np.pad(false_pos, ((1, 0), (1, 0))))[1:, 1:]")],
    ),
    dict(
        cell="next_click",
        id="click-tie-positive",
        description="clicks positive when the largest distances are equal (>= instead of >)",
        patch=[("positive = bool(d_fn.max() > d_fp.max())", "positive = bool(d_fn.max() >= d_fp.max())")],
    ),
    dict(
        cell="next_click",
        id="click-xy",
        description="returns (x, y) as SAM writes points, not (row, column)",
        patch=[("return int(y), int(x), positive", "return int(x), int(y), positive")],
    ),
    dict(
        cell="next_click",
        id="click-union",
        description="one distance transform of all errors together; the sign from the mask the farthest pixel is in",
        patch=[("    positive = bool(d_fn.max() > d_fp.max())\n"
                "    y, x = np.unravel_index(int(np.argmax(d_fn if positive else d_fp)), pred_np.shape)   # first maximum, row-major\n",
                "    d_all = scipy.ndimage.distance_transform_edt(np.pad(false_neg | false_pos, 1))[1:-1, 1:-1]\n"
                "    y, x = np.unravel_index(int(np.argmax(d_all)), pred_np.shape)\n"
                "    positive = bool(false_neg[y, x])\n")],
    ),
    dict(
        cell="next_click",
        id="click-modifies-pred",
        description="builds the false positives in the prediction's own memory (pred.numpy() is a view)",
        patch=[("    false_neg, false_pos = target_np & ~pred_np, pred_np & ~target_np\n",
                "    false_neg = target_np & ~pred_np\n"
                "    false_pos = pred.numpy()                   # the predicted pixels ...\n"
                "    false_pos[target_np] = False               # ... minus the object's\n")],
    ),
    dict(
        cell="next_click",
        id="click-delegates",
        description="delegates to segkit.instances.next_click",
        patch=[("    pred_np, target_np = pred.cpu().numpy().astype(bool), target.cpu().numpy().astype(bool)\n",
                "    import segkit.instances\n"
                "    return segkit.instances.next_click(pred, target)\n"
                "    pred_np, target_np = pred.cpu().numpy().astype(bool), target.cpu().numpy().astype(bool)\n")],
    ),
    # ------------------------------------------------------------------ noc
    dict(
        cell="noc",
        id="noc-strict",
        description="IoU strictly above the threshold (> instead of >=)",
        patch=[("if float(value) >= threshold:", "if float(value) > threshold:")],
    ),
    dict(
        cell="noc",
        id="noc-epsilon",
        description="an epsilon 'for safety' below the threshold",
        patch=[("if float(value) >= threshold:", "if float(value) >= threshold - 1e-6:")],
    ),
    dict(
        cell="noc",
        id="noc-zero-based",
        description="0-based click number",
        patch=[("enumerate(list(ious)[:max_clicks], start=1)", "enumerate(list(ious)[:max_clicks])")],
    ),
    dict(
        cell="noc",
        id="noc-no-cap",
        description="looks at every click of the curve, not only the first max_clicks",
        patch=[("enumerate(list(ious)[:max_clicks], start=1)", "enumerate(list(ious), start=1)")],
    ),
    dict(
        cell="noc",
        id="noc-sorted-search",
        description="assumes the IoU curve increases (as in the example) and binary-searches it",
        patch=[("    for k, value in enumerate(list(ious)[:max_clicks], start=1):\n"
                "        if float(value) >= threshold:\n"
                "            return k\n"
                "    return max_clicks\n",
                "    values = torch.as_tensor([float(v) for v in list(ious)[:max_clicks]])\n"
                "    k = int(torch.searchsorted(values, threshold)) + 1\n"
                "    return k if k <= len(values) else max_clicks\n")],
    ),
    dict(
        cell="noc",
        id="noc-curve-length",
        description="returns the length of the curve, not max_clicks, when the threshold is never reached",
        patch=[("    return max_clicks\n", "    return min(len(list(ious)), max_clicks)\n")],
    ),
]
