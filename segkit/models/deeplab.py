"""DeepLabV3 (Chen et al., 2017) and DeepLabV3+ (Chen et al., 2018).

Atrous (dilated) convolutions keep the backbone's features at output stride 16 or 8 while the
receptive field keeps growing. ASPP looks at those features at several rates at once, plus an
image-pooling branch for global context::

    c5 (N, C, H/s, W/s) -> ASPP [1x1 | 3x3 rate r1 | 3x3 r2 | 3x3 r3 | image pooling] -> concat -> 1x1
       -> V3:  3x3 conv -> 1x1 classifier -> bilinear x s
       -> V3+: bilinear up to H/4 -> concat with 48-channel projection of c2 -> two 3x3 convs
               -> 1x1 classifier -> bilinear x4

Built in lessons/06-deeplab.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from segkit._checks import check_num_classes, positive_int
from segkit.models._utils import SegmentationModel
from segkit.models.backbones import build_backbone


class ConvBNReLU(nn.Sequential):
    """``kernel_size`` conv (no bias, size-preserving padding) -> BatchNorm -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, dilation: int = 1) -> None:
        padding = (kernel_size - 1) // 2 * dilation
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )


class ASPPConv(ConvBNReLU):
    """One atrous branch of ASPP: 3x3 conv with dilation ``rate`` -> BN -> ReLU; keeps (h, w).

    Built in lessons/06-deeplab.
    """

    def __init__(self, in_channels: int, out_channels: int, rate: int) -> None:
        super().__init__(in_channels, out_channels, 3, dilation=rate)


class ASPPPooling(nn.Sequential):
    """The image-pooling branch: global average -> 1x1 conv -> BN -> ReLU -> broadcast back to (h, w).

    ``(N, C_in, h, w) -> (N, C_out, h, w)``. The BatchNorm sees one value per channel and image,
    so in training mode it needs a batch of at least 2 (eval mode works with batch size 1).
    Built in lessons/06-deeplab.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.AdaptiveAvgPool2d(1),  # (N, C_in, 1, 1)
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.shape[0] == 1:
            raise ValueError(
                "ASPP's image-pooling branch applies BatchNorm to a 1x1 map, which needs a batch of at "
                "least 2 images in training mode; got batch size 1 (use a larger batch, or model.eval())"
            )
        size = x.shape[-2:]
        x = super().forward(x)  # (N, C_out, 1, 1)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)  # (N, C_out, h, w)


class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling: five parallel branches, concatenated, projected by a 1x1 conv.

    Args:
        in_channels: channels of the input features.
        out_channels: channels of every branch and of the output (256 in the paper).
        atrous_rates: dilation of the three 3x3 branches; (6, 12, 18) at output stride 16 and
            (12, 24, 36) at output stride 8 in the paper.

    ``(N, in_channels, h, w) -> (N, out_channels, h, w)``. Built in lessons/06-deeplab.
    """

    def __init__(self, in_channels: int, out_channels: int = 256, atrous_rates: Sequence[int] = (12, 24, 36)) -> None:
        super().__init__()
        rates = tuple(positive_int(rate, f"atrous_rates[{i}]") for i, rate in enumerate(atrous_rates))
        if not rates:
            raise ValueError(f"atrous_rates must hold at least one rate, got {atrous_rates!r}")
        self.branches = nn.ModuleList(
            [ConvBNReLU(in_channels, out_channels, 1)]
            + [ASPPConv(in_channels, out_channels, rate) for rate in rates]
            + [ASPPPooling(in_channels, out_channels)]
        )
        self.project = nn.Sequential(
            nn.Conv2d(len(self.branches) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [branch(x) for branch in self.branches]  # each (N, out_channels, h, w)
        return self.project(torch.cat(branches, dim=1))  # (N, out_channels, h, w)


class DeepLabHead(nn.Sequential):
    """DeepLabV3's head: ASPP -> 3x3 conv -> BN -> ReLU -> 1x1 classifier.

    ``(N, in_channels, h, w) -> (N, num_classes, h, w)``. With the defaults it has the same
    structure and parameter count as torchvision's ``DeepLabHead``. Built in lessons/06-deeplab.
    """

    def __init__(
        self, in_channels: int, num_classes: int, atrous_rates: Sequence[int] = (12, 24, 36), channels: int = 256
    ) -> None:
        super().__init__(
            ASPP(in_channels, channels, atrous_rates),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, num_classes, 1),
        )


class DeepLabV3PlusHead(nn.Module):
    """DeepLabV3+'s encoder head and decoder: ASPP on c5, fused with projected low-level features.

    ``forward(c5 (N, C5, H/s, W/s), low (N, C_low, H/4, W/4)) -> (N, num_classes, H/4, W/4)``.
    Built in lessons/06-deeplab.
    """

    def __init__(
        self,
        in_channels: int,
        low_level_channels: int,
        num_classes: int,
        atrous_rates: Sequence[int] = (6, 12, 18),
        channels: int = 256,
        low_level_projection: int = 48,
    ) -> None:
        super().__init__()
        self.aspp = ASPP(in_channels, channels, atrous_rates)
        self.project = ConvBNReLU(low_level_channels, low_level_projection, 1)
        self.fuse = nn.Sequential(
            ConvBNReLU(channels + low_level_projection, channels, 3),
            ConvBNReLU(channels, channels, 3),
        )
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, x: torch.Tensor, low_level: torch.Tensor) -> torch.Tensor:
        x = self.aspp(x)  # (N, channels, H/s, W/s)
        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=False)  # (N, ch, H/4, W/4)
        x = torch.cat([x, self.project(low_level)], dim=1)  # (N, channels + 48, H/4, W/4)
        return self.classifier(self.fuse(x))  # (N, K, H/4, W/4)


# Per backbone: (ASPP channels, ASPP rates at output stride 16, low-level projection).
# The tiny backbone sees small images (c5 is 4x4..8x8 at 64..128 px), so its rates are small too.
_DEFAULTS = {"tiny": (64, (2, 4, 6), 16)}
_PAPER = (256, (6, 12, 18), 48)


class DeepLabV3(SegmentationModel):
    """DeepLabV3, or DeepLabV3+ with ``plus=True``.

    Args:
        num_classes: number of classes K.
        backbone: a name from ``segkit.models.BACKBONES``.
        output_stride: 16 or 8 (or 32: no dilation).
        plus: add the V3+ decoder (low-level features at stride 4).
        atrous_rates: the ASPP rates; default (6, 12, 18) at output stride 16 and (12, 24, 36) at 8,
            as in the paper ((2, 4, 6) and (4, 8, 12) for the tiny backbone).
        aspp_channels: ASPP width; default 256 (64 for the tiny backbone).
        pretrained_backbone: start the backbone from ImageNet weights (needs internet once).

    ``forward``: float ``(N, 3, H, W)`` with ``H, W >= stride`` -> logits ``(N, K, H, W)``; in
    training mode the batch needs N >= 2 (see :class:`ASPPPooling`). Built in lessons/06-deeplab.
    """

    def __init__(
        self,
        num_classes: int,
        backbone: str = "tiny",
        output_stride: int = 16,
        plus: bool = False,
        *,
        atrous_rates: Sequence[int] | None = None,
        aspp_channels: int | None = None,
        pretrained_backbone: bool = False,
    ) -> None:
        super().__init__()
        check_num_classes(num_classes)
        self.backbone = build_backbone(backbone, output_stride, pretrained_backbone)
        default_channels, rates16, projection = _DEFAULTS.get(backbone, _PAPER)
        scale = max(16 // output_stride, 1)
        atrous_rates = tuple(rate * scale for rate in rates16) if atrous_rates is None else tuple(atrous_rates)
        aspp_channels = default_channels if aspp_channels is None else aspp_channels
        self.num_classes, self.in_channels, self.plus = num_classes, 3, plus
        self.stride, self.pad_input = output_stride, False
        self.config = {
            "name": "deeplabv3plus" if plus else "deeplabv3",
            "num_classes": num_classes,
            "backbone": backbone,
            "output_stride": output_stride,
            "atrous_rates": atrous_rates,
            "aspp_channels": aspp_channels,
        }
        channels = self.backbone.channels
        if plus:
            self.head = DeepLabV3PlusHead(
                channels["c5"], channels["c2"], num_classes, atrous_rates, aspp_channels, projection
            )
        else:
            self.head = DeepLabHead(channels["c5"], num_classes, atrous_rates, aspp_channels)

    def segment(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone(x)
        if self.plus:
            return self.head(features["c5"], features["c2"])  # (N, K, H/4, W/4)
        return self.head(features["c5"])  # (N, K, H/s, W/s); the base class upsamples to (N, K, H, W)
