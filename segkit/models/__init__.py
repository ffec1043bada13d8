"""Segmentation models written from scratch in plain ``torch.nn``: FCN, U-Net, DeepLabV3(+).

Every model maps a float batch ``(N, 3, H, W)`` to logits ``(N, num_classes, H, W)`` for any
``H, W >= model.stride``, and exposes ``model.num_classes``, ``model.stride`` and ``model.config``
(``build_model(**model.config)`` rebuilds it)::

    model = segkit.models.build_model("deeplabv3", num_classes=3, backbone="tiny")
    model = segkit.models.FCN(21, backbone="resnet50", variant="8s")
    model = segkit.models.from_torchvision(torchvision.models.segmentation.fcn_resnet50(...))

Files, one per architecture: ``fcn.py`` (lessons/04-fcn), ``unet.py`` (lessons/05-unet),
``deeplab.py`` (lessons/06-deeplab), ``maskformer.py`` (lessons/14-masks-as-queries: its ``forward``
gives class scores, ``forward_sets`` the (class, mask) set), ``promptable.py`` (a SAM-style promptable
segmenter, lessons/15-promptable-segmentation), ``backbones.py``, ``convert.py`` (torchvision <-> segkit,
transformers -> segkit), ``_utils.py`` (the shared "check -> pad -> segment -> upsample" base and
``pad_to_stride``), ``registry.py`` (the per-pixel models by name; ``MODELS`` below adds the models built on them).
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable

from segkit.models._utils import SegmentationModel, count_parameters, pad_to_stride
from segkit.models.backbones import BACKBONES, TinyBackbone, build_backbone
from segkit.models.convert import from_torchvision, from_transformers, to_torchvision
from segkit.models.deeplab import (
    ASPP,
    ASPPConv,
    ASPPPooling,
    DeepLabHead,
    DeepLabV3,
    DeepLabV3PlusHead,
)
from segkit.models.fcn import (
    FCN,
    FCN_VARIANTS,
    FCNHead,
    SkipFusion,
    bilinear_kernel,
    bilinear_upsampler,
    crop_like,
)
from segkit.models.maskformer import MaskFormer
from segkit.models.registry import PIXEL_MODELS
from segkit.models.promptable import MaskDecoder, PromptableSegmenter, PromptEncoder
from segkit.models.unet import DoubleConv, Down, Up, UNet


MODELS: MappingProxyType[str, Callable[..., SegmentationModel]] = MappingProxyType(
    {
        **PIXEL_MODELS,
        "maskformer": lambda num_classes, **kwargs: MaskFormer(num_classes, **kwargs),
    }
)
"""Model name -> builder ``(num_classes, **kwargs) -> model``; read-only."""


def build_model(name: str, num_classes: int, **kwargs: Any) -> SegmentationModel:
    """Build a model by name (see ``MODELS``), e.g. ``build_model("fcn8s", 3, backbone="tiny")``.

    ``kwargs`` go to the model's constructor (``backbone=``, ``output_stride=``, ``base_channels=`` ...).

    Raises:
        ValueError: unknown name (the message lists the valid ones), or a bad argument.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](num_classes, **kwargs)


__all__ = [
    "ASPP",
    "ASPPConv",
    "ASPPPooling",
    "BACKBONES",
    "DeepLabHead",
    "DeepLabV3",
    "DeepLabV3PlusHead",
    "DoubleConv",
    "Down",
    "FCN",
    "FCNHead",
    "FCN_VARIANTS",
    "MaskFormer",
    "MODELS",
    "MaskDecoder",
    "PromptEncoder",
    "PromptableSegmenter",
    "SegmentationModel",
    "SkipFusion",
    "TinyBackbone",
    "UNet",
    "Up",
    "bilinear_kernel",
    "bilinear_upsampler",
    "build_backbone",
    "build_model",
    "count_parameters",
    "crop_like",
    "from_torchvision",
    "pad_to_stride",
    "from_transformers",
    "to_torchvision",
]
