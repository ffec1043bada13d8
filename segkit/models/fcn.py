"""FCN: Fully Convolutional Networks (Long, Shelhamer & Darrell, 2015).

A classifier made fully convolutional predicts coarse class scores (stride 32); transposed
convolutions initialised as bilinear interpolation bring them back to the image size. FCN-16s and
FCN-8s add 1x1 "score" layers on the stride-16 (pool4) and stride-8 (pool3) features and fuse
them with the upsampled coarse scores, for sharper boundaries::

    FCN-32s:  score(c5) ------------------------------------------> x32 up -> logits
    FCN-16s:  score(c5) -> x2 up -> + score(c4) -----------------> x16 up -> logits
    FCN-8s:   score(c5) -> x2 up -> + score(c4) -> x2 up -> + score(c3) -> x8 up -> logits

``variant="dilated"`` is torchvision's FCN instead: a backbone dilated to output stride 8, the
FCN head, and plain bilinear interpolation (no skips); it loads torchvision's weights.
Built in lessons/04-fcn.
"""
from __future__ import annotations

import torch
from torch import nn

from segkit._checks import check_num_classes, positive_int
from segkit.models._utils import SegmentationModel
from segkit.models.backbones import build_backbone

FCN_VARIANTS = ("32s", "16s", "8s", "dilated")


def bilinear_kernel(in_channels: int, out_channels: int, kernel_size: int) -> torch.Tensor:
    """Weights that make ``nn.ConvTranspose2d`` upsample each channel by bilinear interpolation.

    Use with ``ConvTranspose2d(C, C, kernel_size=2 * f, stride=f, padding=f // 2)`` to upsample by
    an (even) factor ``f``: away from the border this equals
    ``F.interpolate(x, scale_factor=f, mode="bilinear", align_corners=False)``.

    Args:
        in_channels, out_channels: must be equal; channel ``c`` only feeds output channel ``c``.
        kernel_size: side of the square kernel (>= 1).

    Returns:
        float32 tensor ``(in_channels, out_channels, kernel_size, kernel_size)``: a 2-D tent
        (outer product of ``1 - |i - center| / factor``) on the diagonal, zeros elsewhere.

    Built in lessons/04-fcn.
    """
    if in_channels != out_channels:
        raise ValueError(
            f"a bilinear kernel maps each channel to itself, so in_channels must equal out_channels, "
            f"got {in_channels} and {out_channels}"
        )
    kernel_size = positive_int(kernel_size, "kernel_size")
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    taps = 1 - (torch.arange(kernel_size, dtype=torch.float32) - center).abs() / factor  # (k,)
    weight = torch.zeros(in_channels, out_channels, kernel_size, kernel_size)
    channels = torch.arange(in_channels)
    weight[channels, channels] = taps[:, None] * taps[None, :]  # (k, k) tent on the diagonal
    return weight


def bilinear_upsampler(channels: int, factor: int, trainable: bool = True) -> nn.ConvTranspose2d:
    """A ``ConvTranspose2d`` that upsamples ``(N, C, h, w)`` to exactly ``(N, C, h*factor, w*factor)``.

    Initialised with :func:`bilinear_kernel`; ``trainable=False`` freezes it (the FCN paper keeps the
    final upsampling fixed). ``factor`` must be even. Built in lessons/04-fcn.
    """
    if factor < 2 or factor % 2:
        raise ValueError(f"factor must be an even number >= 2, got {factor}")
    up = nn.ConvTranspose2d(channels, channels, 2 * factor, stride=factor, padding=factor // 2, bias=False)
    with torch.no_grad():
        up.weight.copy_(bilinear_kernel(channels, channels, 2 * factor))
    up.weight.requires_grad_(trainable)
    return up


class FCNHead(nn.Sequential):
    """3x3 conv (in -> in/4) -> BN -> ReLU -> dropout -> 1x1 conv to class scores.

    ``(N, in_channels, h, w) -> (N, num_classes, h, w)``. Same structure and parameter count as
    torchvision's ``FCNHead``. Built in lessons/04-fcn.
    """

    def __init__(self, in_channels: int, num_classes: int) -> None:
        inter_channels = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, inter_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inter_channels, num_classes, 1),
        )


def crop_like(x: torch.Tensor, reference: torch.Tensor, offset: int = 0) -> torch.Tensor:
    """Crop ``x`` (N, C, H, W) to the height and width of ``reference``, starting at ``offset``.

    The FCN paper crops because its padded upsampled maps are larger than the skip maps.
    Built in lessons/04-fcn.
    """
    height, width = reference.shape[-2:]
    if x.shape[-2] < height + offset or x.shape[-1] < width + offset:
        raise ValueError(
            f"cannot crop {tuple(x.shape[-2:])} to {(height, width)} at offset {offset}: too small"
        )
    return x[..., offset : offset + height, offset : offset + width]


class SkipFusion(nn.Module):
    """FCN skip fusion: upsample coarse scores x2 (bilinear-initialised, learnable), crop, add the skip scores.

    ``forward(coarse (N, K, h, w), skip (N, K, ~2h, ~2w)) -> (N, K, skip's H, W)``.
    Built in lessons/04-fcn.
    """

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.up = bilinear_upsampler(num_classes, 2)

    def forward(self, coarse: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return crop_like(self.up(coarse), skip) + skip  # (N, K, H_skip, W_skip)


class FCN(SegmentationModel):
    """FCN-32s / 16s / 8s, or torchvision's dilated FCN.

    Args:
        num_classes: number of classes K (>= 1).
        backbone: a name from ``segkit.models.BACKBONES`` ("tiny", "resnet50", ...).
        variant: "32s", "16s", "8s" (the paper's skips; upsampled maps are cropped to the skip
            and input sizes, so any H, W works) or "dilated" (torchvision's layout: output stride 8, bilinear interpolation).
        pretrained_backbone: start the backbone from ImageNet weights (needs internet once).

    ``forward``: float ``(N, 3, H, W)`` with ``H, W >= stride`` -> logits ``(N, K, H, W)``.
    Built in lessons/04-fcn.
    """

    def __init__(
        self, num_classes: int, backbone: str = "tiny", variant: str = "8s", *, pretrained_backbone: bool = False
    ) -> None:
        super().__init__()
        if variant not in FCN_VARIANTS:
            raise ValueError(f"unknown FCN variant {variant!r}; choose one of {FCN_VARIANTS}")
        check_num_classes(num_classes)
        self.num_classes, self.in_channels, self.variant = num_classes, 3, variant
        name = "fcn_dilated" if variant == "dilated" else "fcn" + variant
        self.config = {"name": name, "num_classes": num_classes, "backbone": backbone}
        output_stride = 8 if variant == "dilated" else 32
        self.backbone = build_backbone(backbone, output_stride, pretrained_backbone)
        channels = self.backbone.channels
        self.head = FCNHead(channels["c5"], num_classes)  # (N, K, H/32, W/32)
        self.stride, self.pad_input = output_stride, False  # upsampled maps are cropped instead
        if variant == "dilated":
            return
        if variant in ("16s", "8s"):
            self.score_pool4 = _zero_conv1x1(channels["c4"], num_classes)  # (N, K, H/16, W/16)
            self.fuse_pool4 = SkipFusion(num_classes)
        if variant == "8s":
            self.score_pool3 = _zero_conv1x1(channels["c3"], num_classes)  # (N, K, H/8, W/8)
            self.fuse_pool3 = SkipFusion(num_classes)
        self.upsample = bilinear_upsampler(num_classes, int(variant[:-1]), trainable=False)

    def segment(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone(x)
        scores = self.head(features["c5"])  # (N, K, H/32, W/32), or H/8 when dilated
        if self.variant == "dilated":
            return scores  # the base class interpolates to (N, K, H, W)
        if self.variant in ("16s", "8s"):
            scores = self.fuse_pool4(scores, self.score_pool4(features["c4"]))  # (N, K, H/16, W/16)
        if self.variant == "8s":
            scores = self.fuse_pool3(scores, self.score_pool3(features["c3"]))  # (N, K, H/8, W/8)
        scores = self.upsample(scores)  # (N, K, ~H, ~W)
        return crop_like(scores, x) if scores.shape[-2:] != x.shape[-2:] else scores


def _zero_conv1x1(in_channels: int, num_classes: int) -> nn.Conv2d:
    """1x1 score layer initialised to zero, as in the paper: a new skip starts by changing nothing."""
    conv = nn.Conv2d(in_channels, num_classes, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv

