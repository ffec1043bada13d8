"""segkit.models.promptable against transformers' SAM (random weights, built offline), plus shapes and errors."""
from __future__ import annotations

import math

import pytest
import torch

from segkit.models import from_transformers
from segkit.models.promptable import (
    MaskDecoder,
    PositionEmbeddingRandom,
    PromptableSegmenter,
    PromptEncoder,
    sam_parts_from_transformers,
)

transformers = pytest.importorskip("transformers")

HIDDEN, GRID, IMAGE = 32, 8, 64  # token width, image-embedding grid, input image size


@pytest.fixture(scope="module")
def hf_sam():
    """A small random SamModel whose weights are O(1), so that equal outputs mean equal weights."""
    config = transformers.SamConfig(
        vision_config=dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, output_channels=HIDDEN,
                           image_size=IMAGE, patch_size=IMAGE // GRID, num_pos_feats=HIDDEN // 2,
                           global_attn_indexes=[0], mlp_dim=64),
        prompt_encoder_config=dict(hidden_size=HIDDEN, image_size=IMAGE, patch_size=IMAGE // GRID, mask_input_channels=8),
        mask_decoder_config=dict(hidden_size=HIDDEN, mlp_dim=64, num_hidden_layers=2, num_attention_heads=2,
                                 iou_head_hidden_dim=24, num_multimask_outputs=3),
    )
    torch.manual_seed(0)
    model = transformers.SamModel(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.normal_(0, 2.0 if "positional_embedding" in name else 0.3)
    return model


@pytest.fixture(scope="module")
def parts(hf_sam):
    prompt_encoder, mask_decoder = sam_parts_from_transformers(hf_sam)
    return prompt_encoder.eval(), mask_decoder.eval()


def _prompts(batch: int = 3):
    gen = torch.Generator().manual_seed(1)
    points = torch.rand(batch, 4, 2, generator=gen) * IMAGE
    labels = torch.tensor([[1, 0, 1, -1], [1, 1, 0, 0], [0, -1, -1, 1]])[:batch]
    corners = torch.rand(batch, 2, 2, generator=gen) * IMAGE
    boxes = torch.cat([corners.min(1).values, corners.max(1).values], dim=1)  # (x1, y1, x2, y2)
    masks = torch.randn(batch, 1, 4 * GRID, 4 * GRID, generator=gen)
    return points, labels, boxes, masks


CASES = {
    "points": (True, False, False),
    "box": (False, True, False),
    "points+box": (True, True, False),
    "points+mask": (True, False, True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_prompt_encoder_equals_transformers(hf_sam, parts, case):
    use_points, use_box, use_mask = CASES[case]
    points, labels, boxes, masks = _prompts()
    with torch.no_grad():
        ref_sparse, ref_dense = hf_sam.prompt_encoder(
            points[:, None] if use_points else None, labels[:, None] if use_points else None,
            boxes[:, None] if use_box else None, masks if use_mask else None)
        sparse, dense = parts[0](points if use_points else None, labels if use_points else None,
                                 boxes if use_box else None, masks if use_mask else None)
    assert sparse.shape == ref_sparse[:, 0].shape  # transformers' (B, 1, T, C) is segkit's (B, T, C)
    assert (sparse - ref_sparse[:, 0]).abs().max() <= 1e-5
    assert (dense - ref_dense).abs().max() <= 1e-5
    assert sparse.abs().max() > 0.1, "the comparison is not between two near-zero tensors"


def test_image_positional_encoding_equals_transformers(hf_sam, parts):
    with torch.no_grad():
        ref = hf_sam.get_image_wide_positional_embeddings()  # (1, C, h, w)
        assert (parts[0].get_dense_pe() - ref).abs().max() <= 1e-5


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("multimask", [True, False])
def test_mask_decoder_equals_transformers(hf_sam, parts, case, multimask):
    use_points, use_box, use_mask = CASES[case]
    points, labels, boxes, masks = _prompts()
    embeddings = torch.randn(3, HIDDEN, GRID, GRID, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        sparse, dense = hf_sam.prompt_encoder(
            points[:, None] if use_points else None, labels[:, None] if use_points else None,
            boxes[:, None] if use_box else None, masks if use_mask else None)
        pe = hf_sam.get_image_wide_positional_embeddings().repeat(3, 1, 1, 1)
        ref_masks, ref_iou = hf_sam.mask_decoder(embeddings, pe, sparse, dense, multimask_output=multimask)
        got_masks, got_iou = parts[1](embeddings, parts[0].get_dense_pe(), sparse[:, 0], dense, multimask)
    k = 3 if multimask else 1
    assert got_masks.shape == (3, k, 4 * GRID, 4 * GRID) and got_iou.shape == (3, k)
    assert (got_masks - ref_masks[:, 0]).abs().max() <= 1e-5
    assert (got_iou - ref_iou[:, 0]).abs().max() <= 1e-5
    assert ref_masks.abs().max() > 0.1 and ref_iou.abs().max() > 0.1


def test_from_transformers_dispatches_on_the_class(hf_sam):
    prompt_encoder, mask_decoder = from_transformers(hf_sam)
    assert isinstance(prompt_encoder, PromptEncoder) and isinstance(mask_decoder, MaskDecoder)
    with pytest.raises(TypeError, match="SamModel"):
        from_transformers(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="SamModel"):
        sam_parts_from_transformers(torch.nn.Linear(2, 2))


def test_position_embedding_grid_is_the_encoding_of_cell_centres():
    torch.manual_seed(0)
    pe = PositionEmbeddingRandom(8, scale=1.0)
    grid = pe.grid((3, 5))  # (16, 3, 5)
    assert grid.shape == (16, 3, 5)
    centre = torch.tensor([(1 + 0.5) / 5, (2 + 0.5) / 3])  # (x, y) of row 2, column 1
    assert torch.allclose(grid[:, 2, 1], pe(centre))
    # sin^2 + cos^2 = 1 for every frequency: the encoding has norm sqrt(F) everywhere
    assert torch.allclose(grid.pow(2).sum(0), torch.full((3, 5), 8.0))
    x = torch.rand(4, 2)
    angles = 2 * math.pi * (2 * x - 1) @ pe.positional_encoding_gaussian_matrix
    assert torch.allclose(pe(x), torch.cat([angles.sin(), angles.cos()], -1), atol=1e-5)


def test_segmenter_shapes_and_shared_embedding():
    model = PromptableSegmenter(embed_dim=32, output_stride=16, num_heads=2, mlp_dim=64, seed=0).eval()
    images = torch.rand(2, 3, 64, 96)
    points = torch.tensor([[[10.0, 20.0]], [[50.0, 40.0]]])
    labels = torch.ones(2, 1, dtype=torch.long)
    with torch.no_grad():
        masks, iou = model(images, points, labels)
        assert masks.shape == (2, 3, 64, 96) and iou.shape == (2, 3)
        one, one_iou = model(images, points, labels, multimask_output=False)
        assert one.shape == (2, 1, 64, 96) and one_iou.shape == (2, 1)
        # one image embedding, many prompts: the same as repeating the image
        embedding = model.embed(images[:1])  # (1, C, 4, 6)
        shared, _ = model.decode(embedding, points, labels)
        repeated, _ = model.decode(embedding.expand(2, -1, -1, -1), points, labels)
        assert torch.allclose(shared, repeated, atol=1e-6)
        boxed, _ = model.decode(embedding, boxes=torch.tensor([[4.0, 4.0, 40.0, 30.0]]))
        assert boxed.shape == (1, 3, 64, 96)
        low = torch.zeros(1, 1, 16, 24)
        with_mask, _ = model.decode(embedding, points[:1], labels[:1], mask_input=low)
        assert with_mask.shape == (1, 3, 64, 96)


def test_segmenter_is_deterministic_given_a_seed():
    a, b = PromptableSegmenter(seed=3), PromptableSegmenter(seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    c = PromptableSegmenter(seed=4)
    assert not torch.equal(a.prompt_encoder.point_embeddings[1].weight, c.prompt_encoder.point_embeddings[1].weight)


def test_segmenter_trains():
    model = PromptableSegmenter(embed_dim=32, num_heads=2, mlp_dim=64, seed=0)
    images = torch.rand(2, 3, 32, 32)
    masks, iou = model(images, torch.tensor([[[5.0, 5.0]], [[20.0, 9.0]]]), torch.ones(2, 1, dtype=torch.long))
    (masks.mean() + iou.mean()).backward()
    # everything a positive click uses is trained: the backbone, the neck, the click's type embedding,
    # the transformer and the multimask outputs (not the box, negative-click or mask-prompt parts)
    for name in ("image_encoder.backbone.stem.0.weight", "image_encoder.neck.2.weight",
                 "prompt_encoder.point_embeddings.1.weight", "prompt_encoder.not_a_point_embed.weight",
                 "mask_decoder.transformer.layers.1.cross_attn_image_to_token.q_proj.weight",
                 "mask_decoder.output_hypernetworks_mlps.3.layers.0.weight", "mask_decoder.iou_prediction_head.layers.2.bias"):
        grad = model.get_parameter(name).grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_errors_name_the_offending_value():
    model = PromptableSegmenter(embed_dim=32, num_heads=2, mlp_dim=64, seed=0)
    embedding = model.embed(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="multiple of the stride 16"):
        model.embed(torch.rand(1, 3, 40, 32))
    with pytest.raises(ValueError, match="float"):
        model.embed(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match="labels"):
        model.decode(embedding, points=torch.zeros(1, 1, 2))
    with pytest.raises(ValueError, match=r"\[2\]"):
        model.decode(embedding, torch.zeros(1, 1, 2), torch.tensor([[2]]))
    with pytest.raises(ValueError, match=r"\(x, y\)"):
        model.decode(embedding, torch.zeros(1, 1, 3), torch.tensor([[1]]))
    with pytest.raises(ValueError, match="at least one prompt"):
        model.decode(embedding)
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        model.decode(embedding, torch.zeros(1, 1, 2), torch.tensor([[1]]), mask_input=torch.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match="even"):
        PromptEncoder(embed_dim=31)
    with pytest.raises(ValueError, match="multiple of 8"):
        MaskDecoder(transformer_dim=12)
