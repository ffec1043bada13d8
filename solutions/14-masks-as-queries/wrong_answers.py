"""Plausible wrong answers for unit 14 (instructor side; never released to lessons/).

Each is a patch of the solution's answer cell: `python -m segkit.course wrong-answers 14-masks-as-queries`
swaps it in, re-runs the exercise's visible and hidden tests and fails if one keeps full marks.
"""
WRONG_ANSWERS = [
    # ------------------------------------------------------------ matching_cost
    dict(
        cell="matching_cost",
        id="cost-softmax-without-no-object",
        description='softmax over the K real classes only: "no object" never takes probability away',
        patch=[("probs = class_logits.softmax(-1)", "probs = class_logits[:, :-1].softmax(-1)")],
    ),
    dict(
        cell="matching_cost",
        id="cost-log-probability",
        description="uses the loss's -log p(class) instead of the cost's -p(class)",
        patch=[("cost_class = -probs[:, target_classes]", "cost_class = -probs[:, target_classes].log()")],
    ),
    dict(
        cell="matching_cost",
        id="cost-bce-summed",
        description="sums the BCE over the pixels instead of averaging it",
        patch=[("(1 - y).T) / pixels", "(1 - y).T)")],
    ),
    dict(
        cell="matching_cost",
        id="cost-dice-epsilon",
        description="a tiny epsilon 'for safety' in the Dice instead of the exact +1 smoothing",
        patch=[("cost_dice = 1 - (2 * s @ y.T + 1) / (s.sum(1)[:, None] + y.sum(1)[None, :] + 1)",
                "cost_dice = 1 - (2 * s @ y.T) / (s.sum(1)[:, None] + y.sum(1)[None, :] + 1e-6)")],
    ),
    dict(
        cell="matching_cost",
        id="cost-log-of-sigmoid",
        description="BCE as log(sigmoid): -inf (and a NaN or inf cost) for confident logits",
        patch=[("cost_bce = (F.softplus(-x) @ y.T + F.softplus(x) @ (1 - y).T) / pixels",
                "cost_bce = -(torch.log(x.sigmoid()) @ y.T + torch.log(1 - x.sigmoid()) @ (1 - y).T) / pixels")],
    ),
    dict(
        cell="matching_cost",
        id="cost-clamps-caller-logits",
        description="clamps the flattened logits in place 'against overflow': a view, so the caller's mask_logits change",
        patch=[("x = mask_logits.flatten(1)                                    # (Q, H*W)",
                "x = mask_logits.flatten(1)                                    # (Q, H*W)\n    x.clamp_(-30, 30)")],
    ),
    dict(
        cell="matching_cost",
        id="cost-delegates",
        description="calls segkit's own matching_cost",
        patch=[("    return 2 * cost_class + 5 * cost_bce + 5 * cost_dice",
                "    import segkit.losses\n    return segkit.losses.matching_cost(class_logits, mask_logits, target_classes, target_masks)")],
    ),
    # ------------------------------------------------------------ matched_loss
    dict(
        cell="matched_loss",
        id="loss-matched-queries-only",
        description='cross-entropy over the matched queries only: unmatched ones are never pushed to "no object"',
        patch=[("    loss_class = (w * nll).sum() / w.sum()",
                "    loss_class = (w * nll)[query_index].sum() / w[query_index].sum().clamp(min=1e-12)")],
    ),
    dict(
        cell="matched_loss",
        id="loss-plain-mean",
        description="divides the weighted cross-entropy by the number of queries, not by the sum of the weights",
        patch=[("    loss_class = (w * nll).sum() / w.sum()", "    loss_class = (w * nll).sum() / num_queries")],
    ),
    dict(
        cell="matched_loss",
        id="loss-no-object-weight-ignored",
        description='forgets the "no object" weight: every query weighs 1',
        patch=[("    weight[no_object] = no_object_weight\n", "")],
    ),
    dict(
        cell="matched_loss",
        id="loss-targets-in-order",
        description="pairs the predicted masks with the targets in their own order (target_index ignored; the example has one target)",
        patch=[("y = target_masks[target_index].flatten(1).to(x.dtype)", "y = target_masks.flatten(1).to(x.dtype)"),
               ("wanted[query_index] = target_classes[target_index]", "wanted[query_index] = target_classes")],
    ),
    dict(
        cell="matched_loss",
        id="loss-divides-by-t",
        description="divides by the number of targets without the 'at least 1': NaN when an image has no target",
        patch=[("count = max(len(query_index), 1)", "count = len(query_index)")],
    ),
    dict(
        cell="matched_loss",
        id="loss-divides-by-queries",
        description="normalises the mask and Dice terms by the number of queries instead of the number of targets",
        patch=[("count = max(len(query_index), 1)", "count = num_queries")],
    ),
    # ------------------------------------------------------------ semantic_inference
    dict(
        cell="semantic_inference",
        id="semantic-drop-before-softmax",
        description='drops "no object" before the softmax, so the K class probabilities always sum to 1',
        patch=[("probs = class_logits.softmax(-1)[..., :-1]", "probs = class_logits[..., :-1].softmax(-1)")],
    ),
    dict(
        cell="semantic_inference",
        id="semantic-raw-mask-logits",
        description="weighs the raw mask logits instead of their sigmoid",
        patch=[("mask_logits.sigmoid())", "mask_logits)")],
    ),
    dict(
        cell="semantic_inference",
        id="semantic-hard-class",
        description="gives each query only its most likely class (one-hot) instead of its probabilities",
        patch=[("probs = class_logits.softmax(-1)[..., :-1]",
                "probs = F.one_hot(class_logits.argmax(-1), class_logits.shape[-1])[..., :-1].float()")],
    ),
    dict(
        cell="semantic_inference",
        id="semantic-first-image-only",
        description="uses the first image of the batch only (the example has N = 1)",
        patch=[('return torch.einsum("nqk,nqhw->nkhw", probs, mask_logits.sigmoid())',
                'return torch.einsum("qk,qhw->khw", probs[0], mask_logits[0].sigmoid())[None]')],
    ),
    dict(
        cell="semantic_inference",
        id="semantic-drops-first-class",
        description='drops the first output instead of the last ("no object" is the last one)',
        patch=[("probs = class_logits.softmax(-1)[..., :-1]", "probs = class_logits.softmax(-1)[..., 1:]")],
    ),
    # ------------------------------------------------------------ panoptic_inference
    dict(
        cell="panoptic_inference",
        id="panoptic-owner-without-scores",
        description="gives each pixel to the highest mask probability, not weighted by the class probability",
        patch=[("owner = (scores[order][:, None, None] * masks).argmax(0)", "owner = masks.argmax(0)")],
    ),
    dict(
        cell="panoptic_inference",
        id="panoptic-keeps-no-object",
        description='takes each query\'s best real class, so queries that say "no object" are kept',
        patch=[("scores, labels = class_logits.softmax(-1).max(-1)", "scores, labels = class_logits.softmax(-1)[:, :-1].max(-1)")],
    ),
    dict(
        cell="panoptic_inference",
        id="panoptic-segment-is-all-owned",
        description="a segment is every pixel the query owns, also where its own mask is below 0.5",
        patch=[("segment = owned & own", "segment = owned")],
    ),
    dict(
        cell="panoptic_inference",
        id="panoptic-no-duplicate-check",
        description="never drops a query whose pixels mostly went to others (no overlap_threshold)",
        patch=[("if not segment.any() or owned.sum() < overlap_threshold * own.sum():", "if not segment.any():")],
    ),
    dict(
        cell="panoptic_inference",
        id="panoptic-stuff-gets-ids",
        description="numbers stuff segments like things instead of giving them instance id 0",
        patch=[("        if int(labels[q]) not in stuff_classes:\n            instances[segment] = next_id\n            next_id += 1",
                "        instances[segment] = next_id\n        next_id += 1")],
    ),
    dict(
        cell="panoptic_inference",
        id="panoptic-query-order",
        description="numbers the instances in query order instead of by decreasing class probability",
        patch=[("order = [int(q) for q in torch.argsort(scores, descending=True) if keep[q]]",
                "order = [int(q) for q in range(len(scores)) if keep[q]]")],
    ),
    dict(
        cell="panoptic_inference",
        id="panoptic-sigmoid-in-place",
        description="applies the sigmoid in place on the caller's mask logits",
        patch=[("masks = mask_logits[order].sigmoid()", "masks = mask_logits.sigmoid_()[order]")],
    ),
]
