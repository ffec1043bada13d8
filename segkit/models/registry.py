"""The per-pixel models by name: the CNNs of units 02-06 (FCN, U-Net, DeepLab).

``segkit.models.MODELS`` adds the models built on top of them (``maskformer`` takes one of these
as its pixel decoder), so this module imports no model that needs the registry.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable

from segkit.models._utils import SegmentationModel
from segkit.models.deeplab import DeepLabV3
from segkit.models.fcn import FCN
from segkit.models.unet import UNet


def _fcn(variant: str) -> Callable[..., SegmentationModel]:
    def build(num_classes: int, **kwargs: Any) -> SegmentationModel:
        return FCN(num_classes, variant=variant, **kwargs)

    return build


def _unet(num_classes: int, **kwargs: Any) -> SegmentationModel:
    return UNet(num_classes=num_classes, **kwargs)


def _deeplab(plus: bool) -> Callable[..., SegmentationModel]:
    def build(num_classes: int, **kwargs: Any) -> SegmentationModel:
        return DeepLabV3(num_classes, plus=plus, **kwargs)

    return build


PIXEL_MODELS: MappingProxyType[str, Callable[..., SegmentationModel]] = MappingProxyType(
    {
        "fcn32s": _fcn("32s"),
        "fcn16s": _fcn("16s"),
        "fcn8s": _fcn("8s"),
        "fcn_dilated": _fcn("dilated"),
        "unet": _unet,
        "deeplabv3": _deeplab(False),
        "deeplabv3plus": _deeplab(True),
    }
)
"""Per-pixel model name -> builder ``(num_classes, **kwargs) -> model``; read-only."""


def build_pixel_model(name: str, num_classes: int, **kwargs: Any) -> SegmentationModel:
    """Build a per-pixel model by name (see ``PIXEL_MODELS``).

    Raises:
        ValueError: unknown name (the message lists the valid ones), or a bad argument.
    """
    if name not in PIXEL_MODELS:
        raise ValueError(f"unknown per-pixel model {name!r}; choose one of {sorted(PIXEL_MODELS)}")
    return PIXEL_MODELS[name](num_classes, **kwargs)
