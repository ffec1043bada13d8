"""U-Net (Ronneberger, Fischer & Brox, 2015): an encoder-decoder with concatenated skips.

The encoder halves the resolution ``depth`` times while doubling the channels; the decoder
doubles it back, each time concatenating the encoder features of the same size::

    x (N, 3, H, W) -> DoubleConv -> Down -> ... -> Down     (N, 2^depth * C, H/2^depth, W/2^depth)
                        |skip       |skip
    logits <- 1x1 <- Up(concat) <- Up(concat) <- ...

The input is reflect-padded to a multiple of ``2 ** depth`` inside and the logits cropped back,
so any ``H, W >= 2 ** depth`` works. Built in lessons/05-unet.
"""
from __future__ import annotations

import torch
from torch import nn

from segkit._checks import check_num_classes, positive_int
from segkit.models._utils import SegmentationModel


class DoubleConv(nn.Sequential):
    """(3x3 conv -> BN -> ReLU) twice; ``(N, in_channels, h, w) -> (N, out_channels, h, w)``.

    Built in lessons/05-unet.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """2x2 max-pool then DoubleConv; ``(N, in_channels, h, w) -> (N, out_channels, h/2, w/2)``.

    Built in lessons/05-unet.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))


class Up(nn.Module):
    """Upsample x2 and halve the channels, concatenate the skip, then DoubleConv.

    ``forward(x (N, in_channels, h, w), skip (N, in_channels/2, 2h, 2w)) -> (N, out_channels, 2h, 2w)``.
    Upsampling is a learnable 2x2 transposed convolution, or (``bilinear=True``) bilinear
    interpolation followed by a 1x1 convolution. Built in lessons/05-unet.
    """

    def __init__(self, in_channels: int, out_channels: int, bilinear: bool = False) -> None:
        super().__init__()
        if bilinear:
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, in_channels // 2, 1),
            )
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, 2, stride=2)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)  # (N, in/2, 2h, 2w)
        return self.conv(torch.cat([skip, x], dim=1))  # (N, out, 2h, 2w)


class UNet(SegmentationModel):
    """U-Net with ``depth`` down/up steps; channels ``base_channels * 2**k`` at level k.

    Args:
        in_channels: image channels (3 for RGB, 1 for grey microscopy).
        num_classes: number of classes K.
        base_channels: channels of the first level (64 in the paper; 8..16 trains fast on a CPU).
        depth: number of down-sampling steps (4 in the paper).
        bilinear: bilinear upsampling + 1x1 conv instead of transposed convolutions.

    ``forward``: float ``(N, in_channels, H, W)``, ``H, W >= 2**depth`` -> logits ``(N, K, H, W)``.
    Built in lessons/05-unet.
    """

    def __init__(
        self, in_channels: int = 3, num_classes: int = 2, base_channels: int = 64, depth: int = 4, bilinear: bool = False
    ) -> None:
        super().__init__()
        check_num_classes(num_classes)
        for name, value in (("in_channels", in_channels), ("base_channels", base_channels), ("depth", depth)):
            positive_int(value, name)
        self.num_classes, self.in_channels = num_classes, in_channels
        self.stride, self.pad_input = 2**depth, True
        self.config = {
            "name": "unet",
            "num_classes": num_classes,
            "in_channels": in_channels,
            "base_channels": base_channels,
            "depth": depth,
            "bilinear": bilinear,
        }
        widths = [base_channels * 2**k for k in range(depth + 1)]  # C, 2C, 4C, ...
        self.inc = DoubleConv(in_channels, widths[0])
        self.downs = nn.ModuleList(Down(widths[k], widths[k + 1]) for k in range(depth))
        self.ups = nn.ModuleList(Up(widths[k + 1], widths[k], bilinear) for k in reversed(range(depth)))
        self.outc = nn.Conv2d(widths[0], num_classes, 1)

    def segment(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inc(x)  # (N, C, H, W)
        skips = []
        for down in self.downs:
            skips.append(x)
            x = down(x)  # (N, 2^k C, H/2^k, W/2^k)
        for up, skip in zip(self.ups, reversed(skips)):
            x = up(x, skip)  # back up one level
        return self.outc(x)  # (N, K, H, W)
