"""Tests of segkit.models with the tiny backbone (fast, CPU): shapes, references, bad input."""
from __future__ import annotations

import urllib.error

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import segkit.models as M

SMALL_UNET = {"base_channels": 8, "depth": 3}


def small_model(name: str, num_classes: int = 3) -> M.SegmentationModel:
    return M.build_model(name, num_classes, **(SMALL_UNET if name == "unet" else {}))


# ---------------------------------------------------------------- bilinear kernel (lessons/04-fcn)


def test_bilinear_kernel_is_the_tent_on_the_diagonal():
    weight = M.bilinear_kernel(2, 2, 4)
    tent = torch.tensor([0.25, 0.75, 0.75, 0.25])
    assert weight.shape == (2, 2, 4, 4)
    torch.testing.assert_close(weight[0, 0], torch.outer(tent, tent))
    torch.testing.assert_close(weight[1, 1], torch.outer(tent, tent))
    assert weight[0, 1].abs().sum() == 0 and weight[1, 0].abs().sum() == 0
    odd = M.bilinear_kernel(1, 1, 3)[0, 0]
    torch.testing.assert_close(odd, torch.outer(torch.tensor([0.5, 1.0, 0.5]), torch.tensor([0.5, 1.0, 0.5])))


@pytest.mark.parametrize("factor", [2, 4, 8, 32])
def test_transposed_conv_with_bilinear_kernel_equals_interpolate(factor):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, 7, dtype=torch.float64)
    weight = M.bilinear_kernel(3, 3, 2 * factor).double()
    # Replicate-pad by one pixel so the transposed conv sees the same border values that
    # F.interpolate clamps to, then crop the extra `factor` pixels: equal everywhere, not just inside.
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    up = F.conv_transpose2d(padded, weight, stride=factor, padding=factor // 2)[..., factor:-factor, factor:-factor]
    expected = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
    torch.testing.assert_close(up, expected)
    # Without padding the two differ only within factor/2 pixels of the border.
    up_raw = M.bilinear_upsampler(3, factor).double()(x).detach()
    inner = slice(factor // 2, -(factor // 2))
    torch.testing.assert_close(up_raw[..., inner, inner], expected[..., inner, inner])
    assert not torch.allclose(up_raw, expected)


def test_bilinear_kernel_and_upsampler_reject_bad_arguments():
    with pytest.raises(ValueError, match="in_channels must equal out_channels"):
        M.bilinear_kernel(3, 4, 4)
    with pytest.raises(ValueError, match="kernel_size"):
        M.bilinear_kernel(3, 3, 0)
    with pytest.raises(ValueError, match="even"):
        M.bilinear_upsampler(3, 3)


# ---------------------------------------------------------------- FCN parts (lessons/04-fcn)


def test_fcn_head_shapes_and_structure():
    head = M.FCNHead(64, 5)
    assert head(torch.randn(2, 64, 3, 4)).shape == (2, 5, 3, 4)
    assert head[0].out_channels == 16 and head[0].kernel_size == (3, 3)


def test_skip_fusion_upsamples_crops_and_adds():
    torch.manual_seed(0)
    fusion = M.SkipFusion(4)
    coarse, skip = torch.randn(2, 4, 3, 4), torch.randn(2, 4, 5, 7)  # skip of an odd-sized image
    out = fusion(coarse, skip)
    expected = F.conv_transpose2d(coarse, M.bilinear_kernel(4, 4, 4), stride=2, padding=1)[..., :5, :7] + skip
    assert out.shape == skip.shape
    torch.testing.assert_close(out, expected)
    assert fusion.up.weight.requires_grad, "intermediate FCN upsampling should be learnable"


def test_crop_like():
    x = torch.arange(36.0).reshape(1, 1, 6, 6)
    ref = torch.zeros(1, 1, 3, 2)
    assert torch.equal(M.crop_like(x, ref, offset=1), x[..., 1:4, 1:3])
    with pytest.raises(ValueError, match="cannot crop"):
        M.crop_like(ref, x)


def test_fcn32s_equals_bilinear_upsampling_of_the_head_scores_inside():
    torch.manual_seed(0)
    model = M.FCN(3, variant="32s").eval()
    x = torch.randn(1, 3, 128, 96)
    with torch.no_grad():
        coarse = model.head(model.backbone(x)["c5"])  # (1, 3, 4, 3)
        expected = F.interpolate(coarse, scale_factor=32, mode="bilinear", align_corners=False)
        out = model(x)
    torch.testing.assert_close(out[..., 16:-16, 16:-16], expected[..., 16:-16, 16:-16])
    assert not model.upsample.weight.requires_grad, "the final FCN upsampling is fixed, as in the paper"


def test_fcn_skip_layers_start_at_zero_so_they_change_nothing_at_first():
    model = M.FCN(3, variant="8s")
    for layer in (model.score_pool3, model.score_pool4):
        assert layer.weight.abs().sum() == 0 and layer.bias.abs().sum() == 0


# ---------------------------------------------------------------- U-Net (lessons/05-unet)


def _unet_param_count(cin: int, k: int, c: int, depth: int, bilinear: bool) -> int:
    def double(i: int, o: int) -> int:  # two bias-free 3x3 convs + two BatchNorms
        return 9 * i * o + 9 * o * o + 4 * o

    total = double(cin, c) + k * c + k  # input block and the 1x1 output conv
    for level in range(depth):
        lo, hi = c * 2**level, c * 2 ** (level + 1)
        total += double(lo, hi)  # Down
        up = hi * lo + lo if bilinear else 4 * hi * lo + lo  # 1x1 conv or 2x2 transposed conv
        total += up + double(hi, lo)  # Up: concat(skip lo, up lo) = hi channels in
    return total


@pytest.mark.parametrize("bilinear", [False, True])
def test_unet_parameter_count_matches_the_architecture(bilinear):
    model = M.UNet(3, 2, base_channels=64, depth=4, bilinear=bilinear)
    assert M.count_parameters(model) == _unet_param_count(3, 2, 64, 4, bilinear)


@pytest.mark.parametrize("size", [(16, 16), (37, 53), (64, 40)])
def test_unet_any_size_and_grey_input(size):
    model = M.UNet(in_channels=1, num_classes=2, base_channels=8, depth=3, bilinear=True)
    assert model.stride == 8
    assert model(torch.randn(2, 1, *size)).shape == (2, 2, *size)


def test_unet_parts():
    assert M.DoubleConv(3, 8)(torch.randn(1, 3, 9, 9)).shape == (1, 8, 9, 9)
    assert M.Down(8, 16)(torch.randn(1, 8, 10, 10)).shape == (1, 16, 5, 5)
    assert M.Up(16, 8)(torch.randn(1, 16, 5, 5), torch.randn(1, 8, 10, 10)).shape == (1, 8, 10, 10)


def test_unet_padding_only_touches_the_border():
    torch.manual_seed(0)
    model = M.UNet(3, 2, base_channels=8, depth=3).eval()
    x = torch.randn(1, 3, 40, 40)
    with torch.no_grad():
        full, cropped = model(x), model(x[..., :37, :37])  # 37 is padded to 40 inside
    # Pixels far from the padded border see (almost) the same context in both runs.
    torch.testing.assert_close(cropped[..., :16, :16], full[..., :16, :16], atol=1e-4, rtol=0)


# ---------------------------------------------------------------- DeepLab (lessons/06-deeplab)


def test_aspp_conv_samples_the_input_at_the_atrous_rate():
    conv = M.ASPPConv(1, 1, rate=3)
    x = torch.zeros(1, 1, 15, 15, requires_grad=True)
    conv[0](x)[0, 0, 7, 7].backward()
    taps = x.grad[0, 0].nonzero().tolist()
    assert sorted(taps) == [[r, c] for r in (4, 7, 10) for c in (4, 7, 10)]


def test_aspp_pooling_is_a_broadcast_global_average():
    torch.manual_seed(0)
    pool = M.ASPPPooling(4, 6).eval()
    x = torch.randn(2, 4, 5, 7)
    conv, bn = pool[1], pool[2]
    mean = x.mean(dim=(2, 3), keepdim=True)  # (2, 4, 1, 1)
    expected = F.relu(F.batch_norm(conv(mean), bn.running_mean, bn.running_var, bn.weight, bn.bias))
    torch.testing.assert_close(pool(x), expected.expand(2, 6, 5, 7))


def test_aspp_pooling_needs_two_images_in_training():
    pool = M.ASPPPooling(4, 6).train()
    with pytest.raises(ValueError, match="batch size 1"):
        pool(torch.randn(1, 4, 5, 5))
    assert pool.eval()(torch.randn(1, 4, 5, 5)).shape == (1, 6, 5, 5)


def test_aspp_has_five_branches_and_keeps_the_size():
    aspp = M.ASPP(32, out_channels=16, atrous_rates=(1, 2, 3))
    assert len(aspp.branches) == 5
    assert aspp(torch.randn(2, 32, 6, 6)).shape == (2, 16, 6, 6)
    with pytest.raises(ValueError, match="atrous_rates"):
        M.ASPP(32, atrous_rates=(0, 2))


@pytest.mark.parametrize("output_stride", [8, 16])
def test_deeplab_output_stride_sets_the_feature_size(output_stride):
    model = M.DeepLabV3(3, output_stride=output_stride)
    features = model.backbone(torch.randn(2, 3, 64, 64))
    assert features["c5"].shape[-2:] == (64 // output_stride,) * 2
    assert model.backbone.strides["c5"] == output_stride and model.stride == output_stride
    assert model.config["atrous_rates"] == tuple(r * 16 // output_stride for r in (2, 4, 6))


def test_deeplabv3plus_decoder_works_at_stride_4():
    head = M.DeepLabV3PlusHead(64, 24, 5, atrous_rates=(1, 2, 3), channels=32, low_level_projection=8)
    assert head.project[0].out_channels == 8
    out = head(torch.randn(2, 64, 4, 4), torch.randn(2, 24, 16, 16))
    assert out.shape == (2, 5, 16, 16)


# ---------------------------------------------------------------- backbones


@pytest.mark.parametrize("output_stride", [8, 16, 32])
def test_tiny_backbone_strides_channels_and_size(output_stride):
    backbone = M.TinyBackbone(output_stride=output_stride)
    assert 100_000 < M.count_parameters(backbone) < 1_000_000
    features = backbone(torch.randn(1, 3, 64, 64))
    for name, feature in features.items():
        assert feature.shape[1] == backbone.channels[name]
        assert feature.shape[-1] == 64 // backbone.strides[name]


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_large"])
def test_torchvision_backbones_dilate_to_output_stride_8(name):
    backbone = M.build_backbone(name, output_stride=8).eval()
    with torch.no_grad():
        features = backbone(torch.randn(1, 3, 64, 64))
    assert [f.shape[-1] for f in features.values()] == [16, 8, 8, 8]
    assert [f.shape[1] for f in features.values()] == list(backbone.channels.values())


def test_backbone_errors_and_offline_pretrained(monkeypatch):
    with pytest.raises(ValueError, match="unknown backbone 'vgg'.*tiny"):
        M.build_backbone("vgg")
    with pytest.raises(ValueError, match="output_stride must be one of"):
        M.build_backbone("tiny", output_stride=4)
    with pytest.raises(ValueError, match="no pretrained weights"):
        M.FCN(3, pretrained_backbone=True)

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(RuntimeError, match="ResNet18_Weights.IMAGENET1K_V1.*internet"):
        M.FCN(3, backbone="resnet18", pretrained_backbone=True)


# ---------------------------------------------------------------- every model


@pytest.mark.parametrize("name", sorted(M.MODELS))
@pytest.mark.parametrize("size", [(37, 53), (64, 64)])
def test_every_model_returns_logits_at_input_size(name, size):
    torch.manual_seed(0)
    model = small_model(name, num_classes=4)
    out = model(torch.rand(2, 3, *size))
    assert out.shape == (2, 4, *size) and out.dtype == torch.float32
    assert model.num_classes == 4 and isinstance(model.stride, int)
    out.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters without gradient: {missing}"


@pytest.mark.parametrize("name", sorted(M.MODELS))
def test_config_rebuilds_the_model_and_seed_makes_it_deterministic(name):
    torch.manual_seed(1)
    model = small_model(name).eval()
    torch.manual_seed(1)
    rebuilt = M.build_model(**model.config).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), rebuilt(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["fcn8s", "unet", "deeplabv3plus"])
def test_tiny_models_learn_a_simple_task_in_a_few_steps(name):
    torch.manual_seed(0)
    x = torch.rand(4, 3, 64, 64) * 0.5
    target = torch.zeros(4, 64, 64, dtype=torch.long)
    target[:, 16:48, 16:48] = 1
    x[:, :, 16:48, 16:48] += 0.5  # a bright square on a noisy background
    model = small_model(name, num_classes=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(40):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()
    accuracy = (model.eval()(x).argmax(1) == target).float().mean().item()
    assert accuracy > 0.9, f"{name} reached only {accuracy:.2f} pixel accuracy on a trivial task"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        (torch.rand(3, 64, 64), ValueError, "4-D batch.*unsqueeze"),
        (torch.rand(2, 1, 64, 64), ValueError, "expects 3 input channels"),
        (torch.randint(0, 255, (2, 3, 64, 64), dtype=torch.uint8), TypeError, "floating-point.*uint8"),
        (torch.rand(2, 3, 20, 64), ValueError, "at least 32x32"),
        ([[0.0]], TypeError, "torch.Tensor"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(x, error, message):
    with pytest.raises(error, match=message):
        M.FCN(3, variant="8s")(x)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: M.FCN(3, variant="4s"), "unknown FCN variant '4s'.*32s"),
        (lambda: M.FCN(0), "num_classes must be a positive int"),
        (lambda: M.DeepLabV3(3, backbone="vgg16"), "unknown backbone 'vgg16'"),
        (lambda: M.DeepLabV3(3, output_stride=4), "output_stride must be one of"),
        (lambda: M.UNet(depth=0), "depth must be a positive int"),
        (lambda: M.build_model("segnet", 3), "unknown model 'segnet'.*deeplabv3"),
    ],
)
def test_bad_arguments_are_rejected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_models_registry_is_read_only():
    assert {"fcn32s", "fcn16s", "fcn8s", "unet", "deeplabv3", "deeplabv3plus"} <= set(M.MODELS)
    with pytest.raises(TypeError):
        M.MODELS["mine"] = nn.Identity  # type: ignore[index]
