"""Tests of the set-prediction loss in segkit.losses (lessons/14-masks-as-queries): the matching
cost against its formula and against transformers' Mask2Former helpers, the Hungarian matching
against brute force over all assignments, and the loss against a hand-computed example and
against transformers' Mask2FormerLoss."""
from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from segkit.losses import matching_cost, match_queries, set_prediction_loss


def random_case(gen: torch.Generator, queries: int, targets: int, classes: int, size: tuple[int, int], scale: float = 2.0):
    class_logits = torch.randn(queries, classes + 1, generator=gen) * scale
    mask_logits = torch.randn(queries, *size, generator=gen) * scale
    target_classes = torch.randint(0, classes, (targets,), generator=gen)
    target_masks = torch.rand(targets, *size, generator=gen) < 0.4
    return class_logits, mask_logits, target_classes, target_masks


def cost_by_loops(class_logits, mask_logits, target_classes, target_masks):
    """The published cost written pair by pair, with torch.nn.functional's own losses."""
    queries, targets = len(class_logits), len(target_classes)
    cost = torch.zeros(queries, targets, dtype=torch.float64)
    for q in range(queries):
        for t in range(targets):
            x, y = mask_logits[q].double().flatten(), target_masks[t].double().flatten()
            p = F.softmax(class_logits[q].double(), -1)[target_classes[t]]
            bce = F.binary_cross_entropy_with_logits(x, y)  # mean over pixels
            s = x.sigmoid()
            dice = 1 - (2 * (s * y).sum() + 1) / (s.sum() + y.sum() + 1)
            cost[q, t] = 2 * -p + 5 * bce + 5 * dice
    return cost


def test_matching_cost_is_the_published_formula():
    gen = torch.Generator().manual_seed(0)
    for queries, targets, classes, size in [(5, 3, 2, (4, 6)), (7, 7, 4, (5, 5)), (3, 1, 1, (1, 9))]:
        case = random_case(gen, queries, targets, classes, size)
        got = matching_cost(*case)
        assert got.shape == (queries, targets)
        torch.testing.assert_close(got.double(), cost_by_loops(*case), rtol=1e-5, atol=1e-5)


def test_matching_cost_is_stable_for_confident_masks():
    gen = torch.Generator().manual_seed(1)
    class_logits, mask_logits, classes, masks = random_case(gen, 4, 3, 2, (6, 6))
    cost = matching_cost(class_logits, mask_logits * 50, classes, masks)  # logits of +-100 and more
    assert torch.isfinite(cost).all(), "BCE through softplus must not overflow"


@pytest.mark.parametrize("seed", range(4))
def test_match_queries_equals_brute_force_over_all_assignments(seed):
    """Every assignment of T targets to distinct queries (Q! / (Q - T)! of them) is tried."""
    gen = torch.Generator().manual_seed(100 + seed)
    cases = unique_cases = 0
    for queries in range(1, 7):
        for targets in range(0, queries + 1):
            for _ in range(3):
                classes = int(torch.randint(1, 4, (1,), generator=gen))
                size = tuple(int(s) for s in torch.randint(1, 6, (2,), generator=gen))
                case = random_case(gen, queries, targets, classes, size)
                cost = cost_by_loops(*case)
                totals = sorted((sum(float(cost[q, t]) for t, q in enumerate(chosen)), chosen)
                                for chosen in itertools.permutations(range(queries), targets))
                best_total, best = totals[0]
                unique = len(totals) == 1 or totals[1][0] > best_total + 1e-6  # tiny masks can tie
                query_index, target_index = match_queries(*case)
                assert query_index.dtype == target_index.dtype == torch.int64
                assert query_index.shape == target_index.shape == (targets,)
                got = {int(t): int(q) for q, t in zip(query_index, target_index)}
                assert sorted(got) == list(range(targets)), "every target gets exactly one query"
                assert len(set(got.values())) == targets, "no query gets two targets"
                got_total = sum(float(cost[q, t]) for t, q in got.items())
                assert got_total == pytest.approx(best_total, abs=1e-6)
                if unique:
                    assert tuple(got[t] for t in range(targets)) == best
                    unique_cases += 1
                assert torch.equal(query_index, query_index.sort().values), "sorted by query (scipy's order)"
                cases += 1
    assert cases == 3 * sum(q + 1 for q in range(1, 7))  # 81 cases per seed
    assert unique_cases > 0.8 * cases


def test_match_queries_rejects_bad_input():
    gen = torch.Generator().manual_seed(2)
    class_logits, mask_logits, classes, masks = random_case(gen, 3, 2, 2, (4, 4))
    with pytest.raises(ValueError, match="4 targets but only 3 queries"):
        match_queries(class_logits, mask_logits, torch.zeros(4, dtype=torch.int64), torch.zeros(4, 4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="target_classes has labels \\[2\\]"):
        match_queries(class_logits, mask_logits, torch.tensor([0, 2]), masks)
    with pytest.raises(ValueError, match="target_masks must be \\(T, H, W\\)"):
        match_queries(class_logits, mask_logits, classes, masks[:, :3])
    with pytest.raises(ValueError, match="NaN or inf"):
        match_queries(class_logits, mask_logits.clone().fill_(math.nan), classes, masks)
    with pytest.raises(TypeError, match="float"):
        match_queries(class_logits.long(), mask_logits, classes, masks)


def test_set_prediction_loss_equals_a_hand_computed_example():
    # Two queries, one class + "no object", a 1 x 2 image, one target: class 0, mask [1, 0].
    ln3 = math.log(3)
    class_logits = torch.tensor([[[0.0, 0.0], [ln3, 0.0]]])  # p = (0.5, 0.5) and (0.75, 0.25)
    mask_logits = torch.tensor([[[[0.0, 0.0]], [[ln3, -ln3]]]])  # sigmoid (0.5, 0.5) and (0.75, 0.25)
    targets = [(torch.tensor([0]), torch.tensor([[[True, False]]]))]
    # costs: query 0: 2(-0.5) + 5 ln 2 + 5 (1 - 2/3) = 4.132; query 1: 2(-0.75) + 5 ln(4/3) + 5 (1 - 2.5/3) = 0.772
    cost = matching_cost(class_logits[0], mask_logits[0], *targets[0])
    torch.testing.assert_close(cost, torch.tensor([[-1 + 5 * math.log(2) + 5 / 3], [-1.5 + 5 * math.log(4 / 3) + 5 / 6]]))
    assert [t.tolist() for t in match_queries(class_logits[0], mask_logits[0], *targets[0])] == [[1], [0]]
    got = set_prediction_loss(class_logits, mask_logits, targets)
    ce = (math.log(4 / 3) + 0.1 * math.log(2)) / 1.1  # query 1 -> class 0 (weight 1), query 0 -> no object (0.1)
    bce = math.log(4 / 3)  # both pixels of query 1 are 3/4 right
    dice = 1 - 2.5 / 3
    assert float(got["class"]) == pytest.approx(ce, abs=1e-6)
    assert float(got["mask"]) == pytest.approx(bce, abs=1e-6)
    assert float(got["dice"]) == pytest.approx(dice, abs=1e-6)
    assert float(got["loss"]) == pytest.approx(2 * ce + 5 * bce + 5 * dice, abs=1e-6)


def test_set_prediction_loss_without_targets_pushes_every_query_to_no_object():
    class_logits = torch.zeros(2, 3, 3, requires_grad=True)
    mask_logits = torch.zeros(2, 3, 4, 4, requires_grad=True)
    empty = (torch.zeros(0, dtype=torch.int64), torch.zeros(0, 4, 4, dtype=torch.bool))
    got = set_prediction_loss(class_logits, mask_logits, [empty, empty])
    assert got["class"].item() == pytest.approx(math.log(3))
    assert got["mask"].item() == 0 and got["dice"].item() == 0
    got["loss"].backward()
    assert torch.isfinite(class_logits.grad).all() and class_logits.grad[..., 2].lt(0).all()
    # no "no object" weight and nothing matched: nothing to learn, 0 rather than NaN
    zero = set_prediction_loss(class_logits, mask_logits, [empty, empty], no_object_weight=0.0)
    assert zero["loss"].item() == 0


def test_set_prediction_loss_uses_given_matches_and_normalises_by_all_targets():
    gen = torch.Generator().manual_seed(3)
    a = random_case(gen, 4, 2, 2, (5, 5))
    b = random_case(gen, 4, 1, 2, (5, 5))
    class_logits, mask_logits = torch.stack([a[0], b[0]]), torch.stack([a[1], b[1]])
    targets = [(a[2], a[3]), (b[2], b[3])]
    matches = [(torch.tensor([3, 0]), torch.tensor([0, 1])), (torch.tensor([2]), torch.tensor([0]))]
    got = set_prediction_loss(class_logits, mask_logits, targets, matches=matches)
    pairs = [(0, 3, a, 0), (0, 0, a, 1), (1, 2, b, 0)]  # (image, query, case, target)
    bce = sum(F.binary_cross_entropy_with_logits(mask_logits[i, q], c[3][t].float()) for i, q, c, t in pairs) / 3
    assert float(got["mask"]) == pytest.approx(float(bce), abs=1e-6)
    class_target = torch.full((2, 4), 2)
    class_target[0, 3], class_target[0, 0], class_target[1, 2] = a[2][0], a[2][1], b[2][0]
    ce = F.cross_entropy(class_logits.flatten(0, 1), class_target.flatten(), weight=torch.tensor([1.0, 1.0, 0.1]))
    assert float(got["class"]) == pytest.approx(float(ce), abs=1e-6)


# ---------------------------------------------------------------- against transformers' Mask2Former


@pytest.fixture
def mask2former(monkeypatch):
    """transformers' Mask2Former module with point sampling replaced by "every pixel", so that its
    matcher and loss see the same pixels as segkit's (which averages over all of them)."""
    m2f = pytest.importorskip("transformers.models.mask2former.modeling_mask2former")
    pytest.importorskip("scipy")

    def every_pixel(input, point_coordinates, add_dim=False, **kwargs):  # (N, C, H, W) -> (N, C, H*W)
        return input.flatten(2)

    monkeypatch.setattr(m2f, "sample_point", every_pixel)
    return m2f


def test_cost_terms_equal_transformers_pairwise_helpers(mask2former):
    gen = torch.Generator().manual_seed(4)
    class_logits, mask_logits, classes, masks = random_case(gen, 6, 4, 3, (7, 5))
    x, y = mask_logits.flatten(1), masks.flatten(1).float()
    only = dict(class_weight=0.0, mask_weight=0.0, dice_weight=0.0)
    bce = matching_cost(class_logits, mask_logits, classes, masks, **{**only, "mask_weight": 1.0})
    dice = matching_cost(class_logits, mask_logits, classes, masks, **{**only, "dice_weight": 1.0})
    torch.testing.assert_close(bce, mask2former.pair_wise_sigmoid_cross_entropy_loss(x, y), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(dice, mask2former.pair_wise_dice_loss(x, y), rtol=1e-5, atol=1e-6)


def test_match_queries_equals_transformers_hungarian_matcher(mask2former):
    gen = torch.Generator().manual_seed(5)
    matcher = mask2former.Mask2FormerHungarianMatcher(cost_class=2.0, cost_mask=5.0, cost_dice=5.0)
    for queries, targets in [(8, 3), (10, 10), (5, 0), (12, 7)]:
        class_logits, mask_logits, classes, masks = random_case(gen, queries, targets, 4, (9, 11))
        (want_q, want_t), = matcher(mask_logits[None], class_logits[None], [masks.float()], [classes])
        got_q, got_t = match_queries(class_logits, mask_logits, classes, masks)
        assert torch.equal(got_q, want_q) and torch.equal(got_t, want_t)


def test_set_prediction_loss_equals_transformers_mask2former_loss(mask2former, monkeypatch):
    config = mask2former.Mask2FormerConfig(num_labels=3, class_weight=2.0, mask_weight=5.0, dice_weight=5.0,
                                           no_object_weight=0.1)
    reference = mask2former.Mask2FormerLoss(config, weight_dict={})
    monkeypatch.setattr(reference, "sample_points_using_uncertainty", lambda logits, *args: None)
    gen = torch.Generator().manual_seed(6)
    cases = [random_case(gen, 7, t, 3, (6, 8)) for t in (4, 2, 5)]
    class_logits, mask_logits = torch.stack([c[0] for c in cases]), torch.stack([c[1] for c in cases])
    want = reference(mask_logits, class_logits, [c[3].float() for c in cases], [c[2] for c in cases])
    got = set_prediction_loss(class_logits, mask_logits, [(c[2], c[3]) for c in cases])
    for ours, theirs in (("class", "loss_cross_entropy"), ("mask", "loss_mask"), ("dice", "loss_dice")):
        assert float(got[ours]) == pytest.approx(float(want[theirs]), rel=1e-5), ours
    total = 2 * want["loss_cross_entropy"] + 5 * want["loss_mask"] + 5 * want["loss_dice"]
    assert float(got["loss"]) == pytest.approx(float(total), rel=1e-5)
