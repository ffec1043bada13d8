"""Backbones: image -> multi-scale feature maps.

Every backbone returns a dict of four feature maps named after the ResNet/FPN stages::

    "c2": (N, C2, H/4,  W/4)     early, fine detail (DeepLabV3+'s low-level features)
    "c3": (N, C3, H/8,  W/8)     FCN-8s skip ("pool3")
    "c4": (N, C4, H/16, W/16)    FCN-16s skip ("pool4")
    "c5": (N, C5, H/32, W/32)    the deepest features, fed to the head

With ``output_stride`` 16 or 8 the last stages stop downsampling and use atrous (dilated)
convolutions instead, so ``c5`` stays at ``H/16`` or ``H/8`` with the same receptive-field growth.
The actual strides and channel counts are in ``backbone.strides`` and ``backbone.channels``.

``tiny`` is written here (a few hundred thousand parameters, trains on a CPU in seconds);
the others wrap torchvision's ResNet and MobileNetV3 and can start from ImageNet weights.
Built in lessons/06-deeplab (output stride and dilation).
"""
from __future__ import annotations

from typing import Any

import torch
import torchvision
from torch import nn

BACKBONES = ("tiny", "resnet18", "resnet34", "resnet50", "resnet101", "mobilenet_v3_large")
OUTPUT_STRIDES = (8, 16, 32)
FEATURES = ("c2", "c3", "c4", "c5")


def _check_output_stride(output_stride: int) -> None:
    if output_stride not in OUTPUT_STRIDES:
        raise ValueError(f"output_stride must be one of {OUTPUT_STRIDES}, got {output_stride!r}")


def stage_dilations(output_stride: int) -> list[tuple[int, int]]:
    """(stride, dilation) of the four stages c2..c5 for a given output stride.

    A stage that would take the total stride past ``output_stride`` keeps stride 1 and doubles the
    dilation instead, e.g. output stride 8 -> ``[(2, 1), (2, 1), (1, 2), (1, 4)]`` (the stem
    already downsamples by 2).
    """
    _check_output_stride(output_stride)
    plan, total, dilation = [], 2, 1
    for _ in FEATURES:
        if total * 2 <= output_stride:
            total *= 2
            plan.append((2, dilation))
        else:
            dilation *= 2
            plan.append((1, dilation))
    return plan


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3x3 convolution (padding keeps the size) -> BatchNorm -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class TinyBackbone(nn.Module):
    """A small VGG-like CNN: a stride-2 stem and four stages of two 3x3 conv-BN-ReLU layers.

    About 0.3 M parameters with the default widths; trains on a CPU in seconds at 64x64..128x128.

    Args:
        in_channels: input channels (3 for RGB).
        widths: channels of the stem and the stages c2, c3, c4, c5.
        output_stride: 32 (plain), 16 or 8 (the last stages dilated).
    """

    def __init__(
        self, in_channels: int = 3, widths: tuple[int, ...] = (16, 24, 32, 64, 128), output_stride: int = 32
    ) -> None:
        super().__init__()
        if len(widths) != 5:
            raise ValueError(f"widths must give 5 channel counts (stem, c2, c3, c4, c5), got {widths!r}")
        self.output_stride = output_stride
        self.stem = conv_bn_relu(in_channels, widths[0], stride=2)  # (N, w0, H/2, W/2)
        stages = []
        for cin, cout, (stride, dilation) in zip(widths[:-1], widths[1:], stage_dilations(output_stride)):
            stages.append(nn.Sequential(conv_bn_relu(cin, cout, stride, dilation), conv_bn_relu(cout, cout, 1, dilation)))
        self.stages = nn.ModuleList(stages)
        self.channels = dict(zip(FEATURES, widths[1:]))
        self.strides = dict(zip(FEATURES, _strides(output_stride)))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.stem(x)  # (N, w0, H/2, W/2)
        features = {}
        for name, stage in zip(FEATURES, self.stages):
            x = stage(x)  # (N, C_k, H/s_k, W/s_k)
            features[name] = x
        return features


def _strides(output_stride: int) -> list[int]:
    return [min(2 ** (k + 2), output_stride) for k in range(4)]


def _dilate_resnet_layer(layer: nn.Sequential, first: int, rest: int) -> None:
    """Turn a strided ResNet layer into a dilated one, in place (torchvision's convention).

    The first block keeps the previous dilation ``first``, the other blocks use ``rest``; strides
    become 1. Works for both BasicBlock (resnet18/34) and Bottleneck (resnet50/101).
    """
    for index, block in enumerate(layer):
        dilation = first if index == 0 else rest
        for module in block.modules():
            if isinstance(module, nn.Conv2d):
                module.stride = (1, 1)
                if module.kernel_size == (3, 3):
                    module.dilation = (dilation, dilation)
                    module.padding = (dilation, dilation)


class ResNetBackbone(nn.Module):
    """A torchvision ResNet without its classifier; ``layer1..layer4`` give c2..c5.

    Attribute names follow torchvision (``conv1``, ``bn1``, ``layer1`` ...), so torchvision's
    weights load by name. ``resnet18``/``resnet34`` are dilated here too (torchvision itself only
    dilates the Bottleneck ResNets).
    """

    def __init__(self, name: str, output_stride: int = 32, pretrained: bool = False) -> None:
        super().__init__()
        resnet = getattr(torchvision.models, name)(weights=None)
        if pretrained:
            resnet.load_state_dict(_imagenet_state_dict(name))
        self.output_stride = output_stride
        self.conv1, self.bn1, self.relu, self.maxpool = resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4
        plan = stage_dilations(output_stride)
        for index in (2, 3):  # layer3, layer4: the only ones ever dilated
            stride, dilation = plan[index]
            if stride == 1:
                _dilate_resnet_layer(self._layers()[index], plan[index - 1][1], dilation)
        expansion = 4 if name in ("resnet50", "resnet101") else 1
        self.channels = dict(zip(FEATURES, (64 * expansion, 128 * expansion, 256 * expansion, 512 * expansion)))
        self.strides = dict(zip(FEATURES, _strides(output_stride)))

    def _layers(self) -> list[nn.Module]:
        return [self.layer1, self.layer2, self.layer3, self.layer4]

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4)
        features = {}
        for name, layer in zip(FEATURES, self._layers()):
            x = layer(x)  # (N, C_k, H/s_k, W/s_k)
            features[name] = x
        return features


class MobileNetBackbone(nn.Module):
    """torchvision's MobileNetV3-Large ``features`` (17 blocks); c2..c5 are the last block at each stride.

    Dilated stages follow torchvision's convention (every block of the stage uses the new dilation),
    so output stride 16 equals ``mobilenet_v3_large(dilated=True)``.
    """

    TAPS = (3, 6, 12, 16)  # index of the last block at strides 4, 8, 16, 32
    STAGE_STARTS = (2, 4, 7, 13)  # first (strided) block of each stage

    def __init__(self, output_stride: int = 32, pretrained: bool = False) -> None:
        super().__init__()
        mobilenet = torchvision.models.mobilenet_v3_large(weights=None)
        if pretrained:
            mobilenet.load_state_dict(_imagenet_state_dict("mobilenet_v3_large"))
        self.output_stride = output_stride
        self.features = mobilenet.features
        ends = (*self.STAGE_STARTS[1:], self.TAPS[-1])  # the last block (16) is a 1x1 conv
        for (stride, dilation), start, end in zip(stage_dilations(output_stride), self.STAGE_STARTS, ends):
            if stride == 1:
                for block in self.features[start:end]:
                    depthwise = block.block[1][0]  # the k x k depthwise convolution
                    depthwise.stride = (1, 1)
                    depthwise.dilation = (dilation, dilation)
                    depthwise.padding = ((depthwise.kernel_size[0] - 1) // 2 * dilation,) * 2
        self.channels = dict(zip(FEATURES, (24, 40, 112, 960)))
        self.strides = dict(zip(FEATURES, _strides(output_stride)))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features, taps = {}, dict(zip(self.TAPS, FEATURES))
        for index, block in enumerate(self.features):
            x = block(x)
            if index in taps:
                features[taps[index]] = x  # (N, C_k, H/s_k, W/s_k)
        return features


_WEIGHTS = {
    "resnet18": "ResNet18_Weights",
    "resnet34": "ResNet34_Weights",
    "resnet50": "ResNet50_Weights",
    "resnet101": "ResNet101_Weights",
    "mobilenet_v3_large": "MobileNet_V3_Large_Weights",
}


def _imagenet_state_dict(name: str) -> dict[str, Any]:
    """Download (or read from the torch hub cache) torchvision's IMAGENET1K_V1 weights for ``name``."""
    weights = getattr(torchvision.models, _WEIGHTS[name]).IMAGENET1K_V1
    try:
        return torch.hub.load_state_dict_from_url(weights.url, progress=False)
    except (OSError, ValueError) as error:  # URLError is an OSError
        raise RuntimeError(
            f"pretrained_backbone=True needs torchvision's ImageNet weights {_WEIGHTS[name]}.IMAGENET1K_V1 "
            f"for {name}, downloaded from {weights.url}; this needs internet access ({error}). "
            f"Without internet, use pretrained_backbone=False, or copy the file into "
            f"{torch.hub.get_dir()}/checkpoints/"
        ) from error


def build_backbone(name: str = "tiny", output_stride: int = 32, pretrained: bool = False) -> nn.Module:
    """Build a backbone returning ``{"c2", "c3", "c4", "c5"}`` feature maps (see the module docstring).

    Args:
        name: one of ``BACKBONES``.
        output_stride: 32, 16 or 8 (``c5`` is at ``H / output_stride``).
        pretrained: start from torchvision's ImageNet weights (downloads once; needs internet the
            first time). ``tiny`` has no pretrained weights.

    Raises:
        ValueError: unknown name or output stride, or ``pretrained`` for ``tiny``.
        RuntimeError: the weights could not be downloaded.
    """
    _check_output_stride(output_stride)
    if name == "tiny":
        if pretrained:
            raise ValueError("the 'tiny' backbone has no pretrained weights; use pretrained_backbone=False")
        return TinyBackbone(output_stride=output_stride)
    if name == "mobilenet_v3_large":
        return MobileNetBackbone(output_stride, pretrained)
    if name in BACKBONES:
        return ResNetBackbone(name, output_stride, pretrained)
    raise ValueError(f"unknown backbone {name!r}; choose one of {BACKBONES}")
