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


def check_images(x: Any, in_channels: int, min_size: int, model_name: str) -> None:
    """Raise a clear error unless ``x`` is a float batch of shape ``(N, in_channels, H, W)``.

    Args:
        x: the input batch; must be a floating-point tensor (e.g. float32 in [0, 1] or normalised).
        in_channels: the number of channels the model expects.
        min_size: the smallest height and width the model accepts (its ``stride``).
        model_name: used in the error message.

    Raises:
        TypeError: ``x`` is not a tensor, or not floating point (uint8 images must be converted
            with ``x.float() / 255``).
        ValueError: wrong number of dimensions, wrong channel count, or ``H``/``W`` < ``min_size``.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{model_name} expects a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"{model_name} expects a floating-point image batch, got dtype {x.dtype}; "
            "convert uint8 images with x.float() / 255"
        )
    if x.ndim != 4:
        hint = "; add a batch dimension with x.unsqueeze(0)" if x.ndim == 3 else ""
        raise ValueError(f"{model_name} expects a 4-D batch (N, C, H, W), got shape {tuple(x.shape)}{hint}")
    if x.shape[1] != in_channels:
        raise ValueError(
            f"{model_name} expects {in_channels} input channels, got shape {tuple(x.shape)} "
            f"with {x.shape[1]} channels"
        )
    height, width = x.shape[-2:]
    if height < min_size or width < min_size:
        raise ValueError(
            f"{model_name} needs images of at least {min_size}x{min_size} pixels (its stride), "
            f"got {height}x{width}; pad or resize the input"
        )


def check_num_classes(num_classes: int) -> None:
    """Raise ``ValueError`` unless ``num_classes`` is a positive int."""
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Reflect-pad the bottom and right of ``x`` (N, C, H, W) so that H and W are multiples of ``multiple``.

    The padding is smaller than ``multiple``, so it needs ``H, W >= multiple`` (checked by
    :func:`check_images`). Crop the result back with ``y[..., :H, :W]``.
    """
    height, width = x.shape[-2:]
    pad_h = -height % multiple
    pad_w = -width % multiple
    if pad_h == 0 and pad_w == 0:
        return x
    return F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")  # (N, C, H + pad_h, W + pad_w)


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
        check_images(x, self.in_channels, self.stride, type(self).__name__)
        height, width = x.shape[-2:]
        if self.pad_input:
            x = pad_to_multiple(x, self.stride)  # (N, C, H', W'), multiples of stride
        logits = self.segment(x)  # (N, K, h, w)
        if logits.shape[-2:] != x.shape[-2:]:
            logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return logits[..., :height, :width]  # (N, K, H, W)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, stride={self.stride}"
