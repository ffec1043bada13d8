"""segkit.models.segformer against references: Hugging Face transformers' SegFormer (random
weights, built offline), torch.nn.MultiheadAttention, and convolution arithmetic."""
from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import segkit.models as M
from segkit.models.segformer import DropPath

transformers = pytest.importorskip("transformers")

# transformers' SegformerConfig for segkit's two named configurations.
HF_CONFIGS = {
    "b0": {},  # SegformerConfig's defaults are MiT-b0's sizes
    "tiny": dict(hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 2, 4],
                 sr_ratios=[4, 2, 1, 1], decoder_hidden_size=64),
}


def hf_segformer(config: str, num_labels: int = 19, seed: int = 0) -> nn.Module:
    """A random-weight SegformerForSemanticSegmentation in eval mode, every tensor perturbed
    (LayerNorm/BatchNorm scales and statistics included), so that a misplaced tensor shows."""
    torch.manual_seed(seed)
    model = transformers.SegformerForSemanticSegmentation(
        transformers.SegformerConfig(num_labels=num_labels, **HF_CONFIGS[config])
    )
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if "running_var" in name or (name.endswith("weight") and tensor.ndim == 1):  # scales, variances
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                tensor.add_(torch.randn(tensor.shape, generator=generator) * 0.05)
    return model.eval()


def hf_logits(hf_model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Hugging Face's logits at input size, as its post-processing makes them."""
    logits = hf_model(pixel_values=x).logits  # (N, K, ceil(H/4), ceil(W/4))
    return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


@pytest.mark.parametrize("config", ["b0", "tiny"])
def test_equal_to_transformers_segformer_on_sizes_not_multiples_of_32(config):
    hf = hf_segformer(config)
    ours = M.from_transformers(hf)
    assert isinstance(ours, M.SegFormer) and not ours.training
    n_hf = sum(p.numel() for p in hf.parameters())
    assert M.count_parameters(ours) == n_hf == M.count_parameters(M.build_model("segformer", 19, config=config))
    torch.manual_seed(1)
    for shape in [(2, 3, 97, 75), (1, 3, 33, 130)]:
        x = torch.randn(shape)
        with torch.no_grad():
            want, got = hf_logits(hf, x), ours(x)
        assert got.shape == want.shape == (shape[0], 19, *shape[-2:])
        assert want.std() > 0.05, "the reference logits should not be near zero"
        assert (got - want).abs().max().item() <= 1e-5, f"{config} {shape}: segkit differs from transformers"


def test_b0_has_the_published_size():
    model = M.build_model("segformer", 150, config="b0")
    assert M.count_parameters(model) == sum(p.numel() for p in hf_segformer("b0", num_labels=150).parameters())
    assert 3.7e6 < M.count_parameters(model) < 3.8e6  # "3.8 M" in the paper's table
    assert [m.shape[1] for m in model.encoder(torch.rand(1, 3, 64, 64))] == [32, 64, 160, 256]


def test_from_transformers_keeps_the_mode_and_rejects_what_it_cannot_convert():
    hf = hf_segformer("tiny", num_labels=3).train()
    assert M.from_transformers(hf).training
    with pytest.raises(TypeError, match="SegformerForSemanticSegmentation.*Linear"):
        M.from_transformers(nn.Linear(2, 2))
    relu = transformers.SegformerForSemanticSegmentation(
        transformers.SegformerConfig(num_labels=3, hidden_act="relu", **HF_CONFIGS["tiny"])
    )
    with pytest.raises(ValueError, match="hidden_act='relu'"):
        M.from_transformers(relu)


@pytest.mark.parametrize(("size", "patch_size", "stride"), [((97, 75), 7, 4), ((33, 130), 3, 2), ((64, 64), 7, 4)])
def test_overlap_patch_embed_rounds_up_and_keeps_row_major_tokens(size, patch_size, stride):
    torch.manual_seed(0)
    embed = M.OverlapPatchEmbed(3, 8, patch_size, stride)
    x = torch.rand(2, 3, *size)
    tokens, h, w = embed(x)
    assert (h, w) == (math.ceil(size[0] / stride), math.ceil(size[1] / stride))
    conv = F.conv2d(x, embed.proj.weight, embed.proj.bias, stride=stride, padding=patch_size // 2)  # (2, 8, h, w)
    want = F.layer_norm(conv.permute(0, 2, 3, 1), (8,), embed.norm.weight, embed.norm.bias).reshape(2, h * w, 8)
    torch.testing.assert_close(tokens, want)


def test_attention_without_reduction_is_torch_multihead_attention():
    torch.manual_seed(0)
    ours = M.EfficientSelfAttention(16, num_heads=4, sr_ratio=1).eval()
    assert not hasattr(ours, "sr")
    theirs = nn.MultiheadAttention(16, 4, batch_first=True).eval()
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.q.weight, ours.k.weight, ours.v.weight]))
        theirs.in_proj_bias.copy_(torch.cat([ours.q.bias, ours.k.bias, ours.v.bias]))
        theirs.out_proj.weight.copy_(ours.proj.weight)
        theirs.out_proj.bias.copy_(ours.proj.bias)
    x = torch.randn(2, 5 * 7, 16)
    with torch.no_grad():
        want, weights = theirs(x, x, x, average_attn_weights=False)
        torch.testing.assert_close(ours(x, 5, 7), want)
        torch.testing.assert_close(ours.attention(x, 5, 7)[0], weights)


def test_spatial_reduction_attends_to_the_reduced_map():
    torch.manual_seed(0)
    attn = M.EfficientSelfAttention(8, num_heads=2, sr_ratio=4).eval()
    x = torch.randn(1, 9 * 13, 8)
    weights, values = attn.attention(x, 9, 13)
    assert weights.shape == (1, 2, 9 * 13, 2 * 3) and values.shape == (1, 2, 2 * 3, 4)  # floor(9/4) x floor(13/4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, 2, 9 * 13))
    reduced = attn.reduce(x, 9, 13)
    grid = x.transpose(1, 2).reshape(1, 8, 9, 13)
    want = F.layer_norm(F.conv2d(grid, attn.sr.weight, attn.sr.bias, stride=4).flatten(2).transpose(1, 2),
                        (8,), attn.norm.weight, attn.norm.bias)
    torch.testing.assert_close(reduced, want)
    q = attn.q(x).view(1, -1, 2, 4).transpose(1, 2)
    k = attn.k(reduced).view(1, -1, 2, 4).transpose(1, 2)
    v = attn.v(reduced).view(1, -1, 2, 4).transpose(1, 2)
    want = attn.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(1, -1, 8))
    torch.testing.assert_close(attn(x, 9, 13), want)


def test_mix_ffn_is_linear_depthwise_gelu_linear_and_has_no_position_embedding():
    torch.manual_seed(0)
    ffn = M.MixFFN(4, 16)
    assert ffn.dwconv.groups == 16 and ffn.dwconv.kernel_size == (3, 3)
    x = torch.randn(2, 5 * 6, 4)
    hidden = ffn.fc1(x).transpose(1, 2).reshape(2, 16, 5, 6)
    want = ffn.fc2(F.gelu(F.conv2d(hidden, ffn.dwconv.weight, ffn.dwconv.bias, padding=1, groups=16)).flatten(2).transpose(1, 2))
    torch.testing.assert_close(ffn(x, 5, 6), want)
    model = M.SegFormer(3)
    assert not [n for n, _ in model.named_parameters() if "pos" in n]


def test_decoder_concatenates_the_deepest_stage_first():
    torch.manual_seed(0)
    decoder = M.AllMLPDecoder([2, 3, 4, 5], 6, num_classes=1, dropout=0.0).eval()
    features = [torch.randn(1, c, 9 // 2**i + 1, 11 // 2**i + 1) for i, c in enumerate([2, 3, 4, 5])]
    maps = []
    for feature, linear in zip(features, decoder.linear_c):
        x = linear(feature.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        maps.append(F.interpolate(x, size=features[0].shape[-2:], mode="bilinear", align_corners=False))
    want = decoder.linear_pred(decoder.linear_fuse(torch.cat(maps[::-1], dim=1)))
    with torch.no_grad():
        torch.testing.assert_close(decoder(features), want)


def test_any_size_from_32_and_a_clear_error_below():
    model = M.build_model("segformer", 4, config="b0").eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 32, 45)).shape == (1, 4, 32, 45)
    with pytest.raises(ValueError, match="at least 32x32"):
        model(torch.rand(1, 3, 31, 64))


def test_config_is_json_and_rebuilds_the_model():
    custom = M.SegFormerConfig(hidden_sizes=(8, 16, 24, 32), depths=(1, 2, 1, 1), num_heads=(1, 2, 2, 4),
                               sr_ratios=(2, 2, 1, 1), decoder_channels=16)
    for config in ("tiny", "b0", custom):
        torch.manual_seed(3)
        model = M.SegFormer(5, config)
        torch.manual_seed(3)
        rebuilt = M.build_model(**json.loads(json.dumps(model.config)))
        assert model.state_dict().keys() == rebuilt.state_dict().keys()
        assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), rebuilt.state_dict().values()))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("b7", "unknown SegFormer config 'b7'.*b0.*tiny"),
        (dict(num_heads=(1, 2, 3, 8)), "num_heads.*must divide"),
        (dict(depths=(2, 2, 2)), "depths must be 4 positive ints"),
        (dict(sr_ratios=(16, 4, 2, 1)), "sr_ratios.*fewer than its ratio 16"),
        (dict(dropout=1.0), r"dropout must be in \[0, 1\)"),
        (dict(colour="red"), "unknown SegFormerConfig fields"),
    ],
)
def test_bad_configs_are_rejected(config, message):
    with pytest.raises(ValueError, match=message):
        M.SegFormer(3, config)


def test_drop_path_drops_whole_samples_in_training_only():
    drop = DropPath(0.5)
    x = torch.ones(400, 3, 2)
    torch.manual_seed(0)
    y = drop(x)
    per_sample = y.flatten(1)
    assert set(per_sample.unique().tolist()) == {0.0, 2.0}
    assert ((per_sample == 0).all(1) | (per_sample == 2).all(1)).all()
    assert 0.4 < (per_sample[:, 0] == 0).float().mean() < 0.6
    assert torch.equal(drop.eval()(x), x)
