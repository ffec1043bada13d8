"""Tests of segkit.models.maskformer (lessons/14-masks-as-queries): shapes, gradients, the
registry, semantic inference against transformers' Mask2Former post-processing, panoptic
inference against a transcription of Mask2Former's published ``panoptic_inference``, and
``set_targets``."""
from __future__ import annotations

import types

import pytest
import torch

import segkit.models as M
from segkit.losses import set_prediction_loss
import segkit.models.maskformer as mf
from segkit.models.maskformer import (
    MaskFormer,
    fourier_features,
    grid_anchors,
    panoptic_inference,
    semantic_inference,
    set_targets,
)

SMALL = dict(num_queries=6, embed_dim=8, hidden_dim=16, num_layers=2, num_heads=2,
             decoder_args={"base_channels": 4, "depth": 2})


@pytest.mark.parametrize("size", [(37, 53), (32, 32)])
def test_forward_sets_shapes_and_semantic_forward(size):
    torch.manual_seed(0)
    model = MaskFormer(3, **SMALL)
    x = torch.rand(2, 3, *size)
    out = model.forward_sets(x)
    assert out.class_logits.shape == (2, 6, 4) and out.mask_logits.shape == (2, 6, *size)
    assert len(out.aux) == 2 and all(c.shape == (2, 6, 4) and m.shape == (2, 6, *size) for c, m in out.aux)
    scores = model(x)
    assert scores.shape == (2, 3, *size)
    torch.testing.assert_close(scores, semantic_inference(out.class_logits, out.mask_logits))


def test_every_parameter_learns_from_the_set_loss():
    torch.manual_seed(1)
    model = MaskFormer(2, **SMALL)
    x = torch.rand(2, 3, 32, 32)
    masks = torch.zeros(2, 32, 32, dtype=torch.bool)
    masks[0, :16], masks[1, 10:20, 5:25] = True, True
    targets = [(torch.tensor([0, 1]), masks), (torch.tensor([1]), masks[1:])]
    out = model.forward_sets(x)
    loss = set_prediction_loss(out.class_logits, out.mask_logits, targets)["loss"]
    for class_logits, mask_logits in out.aux:  # deep supervision
        loss = loss + set_prediction_loss(class_logits, mask_logits, targets)["loss"]
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters without gradient: {missing}"


def test_registry_builds_and_rebuilds_it():
    torch.manual_seed(2)
    model = M.build_model("maskformer", 3, **SMALL).eval()
    assert isinstance(model, M.MaskFormer) and model.num_classes == 3
    torch.manual_seed(2)
    rebuilt = M.build_model(**model.config).eval()
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), rebuilt(x), rtol=0, atol=0)


def test_a_segkit_model_instance_is_a_pixel_decoder():
    decoder = M.UNet(num_classes=8, base_channels=4, depth=2)
    model = MaskFormer(2, pixel_decoder=decoder, **{k: v for k, v in SMALL.items() if k != "decoder_args"})
    assert model.pixel_decoder is decoder and model.config["pixel_decoder"] == "unet"
    with pytest.raises(ValueError, match="embed_dim=16 channels, got num_classes=8"):
        MaskFormer(2, pixel_decoder=decoder, embed_dim=16)
    with pytest.raises(TypeError, match="pixel_decoder must be"):
        MaskFormer(2, pixel_decoder=torch.nn.Conv2d(3, 8, 1))


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(num_queries=0), "num_queries must be a positive int"),
    (dict(hidden_dim=30), "hidden_dim must be a multiple of 4"),
    (dict(position_channels=6), "position_channels must be a multiple of 4"),
    (dict(num_classes=0), "num_classes must be a positive int"),
])
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MaskFormer(**{"num_classes": 2, **kwargs})


def test_query_masks_start_spread_over_the_image():
    """Each query's initial mask is a bump around its own grid anchor, not the same for all."""
    torch.manual_seed(3)
    model = MaskFormer(2, num_queries=16, embed_dim=8, hidden_dim=16, decoder_args={"base_channels": 4, "depth": 2})
    with torch.no_grad():
        masks = model.forward_sets(torch.rand(1, 3, 64, 64)).aux[0][1][0]  # before the first layer
    peaks = torch.stack([torch.stack(torch.unravel_index(m.argmax(), m.shape)) for m in masks]).float() / 64
    assert (peaks - grid_anchors(16)).abs().max() < 0.15


def test_fourier_features_and_anchors():
    f = fourier_features(4, 6, 8)
    assert f.shape == (8, 4, 6)
    torch.testing.assert_close((f * f).sum(0), torch.full((4, 6), 4.0))  # sin^2 + cos^2 per frequency and axis
    anchors = grid_anchors(10)
    assert anchors.shape == (10, 2) and anchors.min() > 0 and anchors.max() < 1
    assert len({tuple(a) for a in anchors.tolist()}) == 10


# ---------------------------------------------------------------- semantic inference


def test_semantic_inference_equals_transformers_post_processing():
    processor_module = pytest.importorskip("transformers.models.mask2former.image_processing_mask2former")
    processor = processor_module.Mask2FormerImageProcessor()
    gen = torch.Generator().manual_seed(4)
    class_logits = torch.randn(2, 5, 4, generator=gen) * 2
    mask_logits = torch.randn(2, 5, 384, 384, generator=gen) * 2  # transformers resizes to 384 x 384 first
    outputs = types.SimpleNamespace(class_queries_logits=class_logits, masks_queries_logits=mask_logits)
    want = processor.post_process_semantic_segmentation(outputs)
    got = semantic_inference(class_logits, mask_logits)
    assert got.shape == (2, 3, 384, 384)
    for i in range(2):
        assert torch.equal(got[i].argmax(0), want[i])


def test_semantic_inference_by_hand():
    class_logits = torch.log(torch.tensor([[[0.6, 0.3, 0.1], [0.1, 0.1, 0.8]]]))  # K = 2
    mask_logits = torch.tensor([[[[0.0, 2.0]], [[5.0, -5.0]]]])
    got = semantic_inference(class_logits, mask_logits)
    s = torch.sigmoid(mask_logits[0, :, 0])  # (2, 2)
    want = torch.stack([0.6 * s[0] + 0.1 * s[1], 0.3 * s[0] + 0.1 * s[1]])[None, :, None]
    torch.testing.assert_close(got, want)
    with pytest.raises(ValueError, match="mask_logits must be \\(N, Q, H, W\\)"):
        semantic_inference(class_logits, mask_logits[0])


# ---------------------------------------------------------------- panoptic inference


def mask2former_panoptic_inference(mask_cls, mask_pred, stuff, object_mask_threshold, overlap_threshold):
    """Transcribed from facebookresearch/Mask2Former, mask2former/maskformer_model.py (panoptic_inference)."""
    num_classes = mask_cls.shape[-1] - 1
    scores, labels = mask_cls.softmax(-1).max(-1)
    mask_pred = mask_pred.sigmoid()
    keep = labels.ne(num_classes) & (scores > object_mask_threshold)
    cur_scores, cur_classes, cur_masks = scores[keep], labels[keep], mask_pred[keep]
    cur_prob_masks = cur_scores.view(-1, 1, 1) * cur_masks
    h, w = cur_masks.shape[-2:]
    panoptic_seg = torch.zeros((h, w), dtype=torch.int32)
    segments_info, current_segment_id = [], 0
    if cur_masks.shape[0] == 0:
        return panoptic_seg, segments_info
    cur_mask_ids = cur_prob_masks.argmax(0)
    stuff_memory_list = {}
    for k in range(cur_classes.shape[0]):
        pred_class = cur_classes[k].item()
        isthing = pred_class not in stuff
        mask_area = (cur_mask_ids == k).sum().item()
        original_area = (cur_masks[k] >= 0.5).sum().item()
        mask = (cur_mask_ids == k) & (cur_masks[k] >= 0.5)
        if mask_area > 0 and original_area > 0 and mask.sum().item() > 0:
            if mask_area / original_area < overlap_threshold:
                continue
            if not isthing:
                if int(pred_class) in stuff_memory_list:
                    panoptic_seg[mask] = stuff_memory_list[int(pred_class)]
                    continue
                stuff_memory_list[int(pred_class)] = current_segment_id + 1
            current_segment_id += 1
            panoptic_seg[mask] = current_segment_id
            segments_info.append({"id": current_segment_id, "isthing": bool(isthing), "category_id": int(pred_class),
                                  "score": cur_scores[k].item()})
    return panoptic_seg, segments_info


@pytest.mark.parametrize("seed", range(6))
def test_panoptic_inference_equals_mask2former(seed):
    gen = torch.Generator().manual_seed(10 + seed)
    queries, classes = 12, 4
    class_logits = torch.randn(queries, classes + 1, generator=gen) * 3
    # smooth blobs that overlap each other, as trained masks do
    centres = torch.rand(queries, 2, generator=gen) * 24
    ys, xs = torch.meshgrid(torch.arange(24.0), torch.arange(20.0), indexing="ij")
    radius = 3 + 5 * torch.rand(queries, 1, 1, generator=gen)
    mask_logits = radius - ((ys - centres[:, :1, None]) ** 2 + (xs - centres[:, 1:, None]) ** 2).sqrt()
    stuff = (0,) if seed % 2 else (0, 2)
    for score_threshold, overlap_threshold in [(0.3, 0.8), (0.5, 0.5), (0.0, 0.0)]:
        before = (class_logits.clone(), mask_logits.clone())
        got = panoptic_inference(class_logits, mask_logits, stuff, score_threshold, overlap_threshold)
        assert torch.equal(class_logits, before[0]) and torch.equal(mask_logits, before[1]), "inputs unchanged"
        seg, info = mask2former_panoptic_inference(class_logits, mask_logits, set(stuff), score_threshold, overlap_threshold)
        want_semantic = torch.full_like(got.semantic, classes)
        for segment in info:
            want_semantic[seg == segment["id"]] = segment["category_id"]
        assert torch.equal(got.semantic, want_semantic)
        things = sorted((s for s in info if s["isthing"]), key=lambda s: -s["score"])
        assert int(got.instances.max()) == len(things) == len(got.scores) == len(got.classes)
        for k, segment in enumerate(things, start=1):
            assert torch.equal(got.instances == k, seg == segment["id"])
            assert got.scores[k - 1].item() == pytest.approx(segment["score"])
            assert int(got.classes[k - 1]) == segment["category_id"]
        assert not bool((got.instances[torch.isin(got.semantic, torch.tensor(stuff))] > 0).any())


def test_panoptic_inference_edge_cases():
    nothing = panoptic_inference(torch.tensor([[0.0, 0.0, 9.0]]), torch.zeros(1, 3, 4))  # only "no object"
    assert torch.equal(nothing.semantic, torch.full((3, 4), 2)) and int(nothing.instances.max()) == 0
    assert nothing.scores.shape == (0,) and nothing.classes.shape == (0,)
    with pytest.raises(ValueError, match="score_threshold must be in"):
        panoptic_inference(torch.zeros(1, 3), torch.zeros(1, 3, 4), score_threshold=1.0)
    with pytest.raises(ValueError, match="stuff_classes \\[2\\] are outside"):
        panoptic_inference(torch.zeros(1, 3), torch.zeros(1, 3, 4), stuff_classes=(2,))


# ---------------------------------------------------------------- targets


def test_set_targets_from_semantic_and_instance_maps():
    semantic = torch.tensor([[0, 0, 1, 1], [2, 2, 1, 1], [2, 2, 0, 3]])
    instances = torch.tensor([[0, 0, 5, 5], [7, 7, 5, 5], [7, 7, 0, 0]])  # pixel (2, 3): thing class, no id
    classes, masks = set_targets(semantic, instances, stuff_classes=(0,))
    assert classes.tolist() == [0, 1, 2]
    assert masks.dtype == torch.bool and masks.shape == (3, 3, 4)
    assert torch.equal(masks[0], semantic == 0)
    assert torch.equal(masks[1], instances == 5) and torch.equal(masks[2], instances == 7)
    empty_classes, empty_masks = set_targets(torch.zeros(2, 2, dtype=torch.int64), torch.zeros(2, 2, dtype=torch.int64))
    assert empty_classes.shape == (0,) and empty_masks.shape == (0, 2, 2)
    with pytest.raises(ValueError, match="two \\(H, W\\) maps"):
        set_targets(semantic, instances[:2])


def test_tiled_inference_is_plain_inference_on_one_window_and_covers_a_large_image():
    torch.manual_seed(6)
    model = MaskFormer(2, **SMALL).eval()
    with torch.no_grad():
        model.class_head.bias[1] += 6.0  # confident "thing" queries, so that there is something to paste
    image = torch.rand(3, 32, 32)
    one = mf.tiled_panoptic_inference(model, image, tile=32, stride=32, stuff_classes=(0,), score_threshold=0.2)
    with torch.no_grad():
        out = model.forward_sets(image[None])
    plain = panoptic_inference(out.class_logits[0], out.mask_logits[0], (0,), score_threshold=0.2)
    assert torch.equal(one.instances, plain.instances) and torch.equal(one.semantic, plain.semantic)
    big = mf.tiled_panoptic_inference(model, torch.rand(3, 56, 72), tile=32, stride=20, stuff_classes=(0,),
                                      score_threshold=0.2)
    assert big.semantic.shape == big.instances.shape == (56, 72)
    ids = big.instances.unique()
    assert ids[0] == 0 and ids[1:].tolist() == list(range(1, int(big.instances.max()) + 1)), "ids 1..I, no gap"
    assert len(big.scores) == len(big.classes) == int(big.instances.max()) > 0
    assert torch.equal(big.scores, big.scores.sort(descending=True).values)
    with pytest.raises(ValueError, match="stride <= tile"):
        mf.tiled_panoptic_inference(model, image, tile=16, stride=20)
