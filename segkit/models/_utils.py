"""The shared base of every segkit model: check the input, (pad,) segment, upsample, crop.

Each architecture subclasses :class:`SegmentationModel` and writes one method, ``segment``,
which maps a (possibly padded) image batch to class scores at the model's own resolution.
The base class does the rest, so every model accepts any ``H, W`` and returns logits of shape
``(N, num_classes, H, W)``.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from segkit._checks import check_image_batch


def pad_to_stride(x: torch.Tensor, stride: int) -> torch.Tensor:
    """Pad ``x`` (N, C, H, W) at the bottom/right to multiples of ``stride``: reflect, or zeros where
    the image is too small to reflect. Crop the output back with ``y[..., :H, :W]``.

    Models that pad their own input (``pad_input``) and :func:`segkit.inference.predict_logits` both
    use it; with ``H, W >= stride`` (what every model checks) the padding is always a reflection.
    Built in lessons/11-pretrained-and-deployment.
    """
    height, width = x.shape[-2:]
    pad_h, pad_w = -height % stride, -width % stride
    if pad_h == 0 and pad_w == 0:
        return x
    mode = "reflect" if pad_h < height and pad_w < width else "constant"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)  # (N, C, H + pad_h, W + pad_w)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (elements) in ``model``; only those with ``requires_grad`` if asked."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


class SegmentationModel(nn.Module):
    """Base class: ``forward`` = check input -> pad (if needed) -> ``segment`` -> upsample -> crop.

    Subclasses set these attributes in ``__init__`` and implement ``segment``:

    * ``num_classes`` -- the number of output channels (classes);
    * ``in_channels`` -- the number of input channels;
    * ``stride`` -- inputs whose H and W are multiples of ``stride`` run without internal padding
      (and with aligned feature maps); it is also the smallest accepted H and W;
    * ``pad_input`` -- whether ``forward`` pads the input to a multiple of ``stride`` itself
      (models with fixed-size skip connections: FCN-16s/8s, U-Net);
    * ``config`` -- the constructor arguments, so that ``build_model(**model.config)`` rebuilds it.
    """

    num_classes: int
    in_channels: int
    stride: int
    pad_input: bool
    config: dict[str, Any]

    def segment(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(N, num_classes, h, w)`` for a batch ``(N, C, H, W)``, at any resolution h, w."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, H, W)`` (float) for an image batch ``(N, in_channels, H, W)`` (float)."""
        check_image_batch(x, self.in_channels, self.stride, type(self).__name__)
        height, width = x.shape[-2:]
        if self.pad_input and (height % self.stride or width % self.stride):
            x = pad_to_stride(x, self.stride)  # (N, C, H', W'), multiples of stride
        logits = self.segment(x)  # (N, K, h, w)
        if logits.shape[-2:] != x.shape[-2:]:
            logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return logits[..., :height, :width]  # (N, K, H, W)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, stride={self.stride}"
