"""Convert between torchvision's segmentation models and segkit's, weights included.

segkit's FCN (``variant="dilated"``) and DeepLabV3 have the same layers as torchvision's
``fcn_resnet50/101`` and ``deeplabv3_resnet50/101/mobilenet_v3_large``, under slightly different
names. Converting is building the matching segkit model and loading torchvision's state dict
through a key mapping -- which is how a learner loads torchvision's pretrained weights into the
models they built. The auxiliary classifier (a training-only extra head) is not converted.
Built in lessons/11-pretrained-and-deployment.

:func:`from_transformers` does the same for ``transformers`` models, dispatching on the model's
class (``SamModel`` -> :func:`segkit.models.promptable.sam_parts_from_transformers`, built in
lessons/15-promptable-segmentation). ``transformers`` itself is never imported here.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torchvision
from torch import nn
from torchvision.models.segmentation import FCN as TorchvisionFCN
from torchvision.models.segmentation import DeepLabV3 as TorchvisionDeepLabV3

from segkit.models._utils import SegmentationModel
from segkit.models.deeplab import DeepLabV3
from segkit.models.fcn import FCN
from segkit.models.promptable import sam_parts_from_transformers

# torchvision name fragment -> segkit name fragment
_RENAMES = (
    ("classifier.", "head."),  # torchvision calls the head "classifier"
    (".convs.", ".branches."),  # ASPP's parallel branches
)
_MOBILENET = ("backbone.", "backbone.features.")  # torchvision keeps MobileNet's blocks at the top level


def _backbone_name(tv_model: nn.Module) -> str:
    body = tv_model.backbone
    if hasattr(body, "layer3"):
        depth = {6: "resnet50", 23: "resnet101"}.get(len(body.layer3))
        if depth is not None:
            return depth
    elif any(isinstance(m, torchvision.models.mobilenetv3.InvertedResidual) for m in body.children()):
        return "mobilenet_v3_large"
    raise TypeError(f"unsupported torchvision backbone {type(body).__name__}; expected ResNet-50/101 or MobileNetV3")


def _output_stride(tv_model: nn.Module) -> int:
    """Count the stride-2 convolutions and pools of the backbone."""
    stride = 1
    for module in tv_model.backbone.modules():
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            s = module.stride if isinstance(module.stride, int) else module.stride[0]
            if s == 2 and not (isinstance(module, nn.Conv2d) and module.kernel_size == (1, 1)):
                stride *= 2
    return stride


def _rename(key: str, mobilenet: bool, to_segkit: bool) -> str:
    renames = _RENAMES + ((_MOBILENET,) if mobilenet else ())
    for tv_part, segkit_part in renames:
        old, new = (tv_part, segkit_part) if to_segkit else (segkit_part, tv_part)
        if old.startswith(".") and old in key:
            key = key.replace(old, new, 1)
        elif key.startswith(old):
            key = new + key[len(old) :]
    return key


def from_torchvision(tv_model: nn.Module) -> SegmentationModel:
    """Build the segkit model equal to a torchvision segmentation model, and copy its weights.

    Args:
        tv_model: ``torchvision.models.segmentation.fcn_resnet50/101(...)`` or
            ``deeplabv3_resnet50/101/mobilenet_v3_large(...)``, with or without pretrained weights.

    Returns:
        ``segkit.models.FCN(K, backbone, variant="dilated")`` or ``segkit.models.DeepLabV3(K, backbone,
        output_stride, atrous_rates=(12, 24, 36))``, in the same train/eval mode. In eval mode its
        logits equal ``tv_model(x)["out"]`` up to float rounding.

    Raises:
        TypeError: ``tv_model`` is not one of the supported torchvision models (e.g. LRASPP).
    """
    if not isinstance(tv_model, (TorchvisionFCN, TorchvisionDeepLabV3)):
        raise TypeError(
            f"from_torchvision expects a torchvision FCN or DeepLabV3 model, got {type(tv_model).__name__}"
        )
    backbone = _backbone_name(tv_model)
    num_classes = tv_model.classifier[-1].out_channels
    if isinstance(tv_model, TorchvisionFCN):
        model: SegmentationModel = FCN(num_classes, backbone, variant="dilated")
    else:
        rates = tuple(branch[0].dilation[0] for branch in tv_model.classifier[0].convs[1:-1])
        model = DeepLabV3(num_classes, backbone, _output_stride(tv_model), atrous_rates=rates)
    mobilenet = backbone == "mobilenet_v3_large"
    state = OrderedDict(
        (_rename(key, mobilenet, to_segkit=True), value)
        for key, value in tv_model.state_dict().items()
        if not key.startswith("aux_classifier.")
    )
    model.load_state_dict(state)
    return model.train(tv_model.training)


_TORCHVISION_BUILDERS = {
    ("fcn_dilated", "resnet50", 8): "fcn_resnet50",
    ("fcn_dilated", "resnet101", 8): "fcn_resnet101",
    ("deeplabv3", "resnet50", 8): "deeplabv3_resnet50",
    ("deeplabv3", "resnet101", 8): "deeplabv3_resnet101",
    ("deeplabv3", "mobilenet_v3_large", 16): "deeplabv3_mobilenet_v3_large",
}


def to_torchvision(model: SegmentationModel) -> nn.Module:
    """The reverse of :func:`from_torchvision`: a torchvision model (no aux head) with ``model``'s weights.

    Raises:
        ValueError: ``model`` has no torchvision counterpart (FCN-8s skips, DeepLabV3+, U-Net, the
            tiny backbone, or non-default ASPP settings).
    """
    config = model.config
    key = (config["name"], config.get("backbone"), getattr(model, "stride", None))
    builder = _TORCHVISION_BUILDERS.get(key)
    if builder is None or (config["name"] == "deeplabv3" and (
        tuple(config["atrous_rates"]) != (12, 24, 36) or config["aspp_channels"] != 256
    )):
        raise ValueError(
            f"{config['name']} with backbone {config.get('backbone')!r} has no torchvision counterpart; "
            f"supported (name, backbone, stride): {sorted(_TORCHVISION_BUILDERS)}, ASPP rates (12, 24, 36)"
        )
    tv_model = getattr(torchvision.models.segmentation, builder)(
        weights=None, weights_backbone=None, num_classes=config["num_classes"], aux_loss=False
    )
    mobilenet = config["backbone"] == "mobilenet_v3_large"
    state = OrderedDict((_rename(k, mobilenet, to_segkit=False), v) for k, v in model.state_dict().items())
    tv_model.load_state_dict(state)
    return tv_model.train(model.training)



# transformers class name -> converter; transformers is not imported (the caller has the model)
_TRANSFORMERS_CONVERTERS = {
    "SamModel": sam_parts_from_transformers,
}


def from_transformers(hf_model: nn.Module) -> Any:
    """The segkit counterpart of a ``transformers`` model, weights included.

    ``SamModel`` -> ``(PromptEncoder, MaskDecoder)`` (see
    :func:`segkit.models.promptable.sam_parts_from_transformers`; the ViT image encoder stays in
    ``transformers``).

    Raises:
        TypeError: a model class with no segkit counterpart (the message lists the supported ones).
    """
    name = type(hf_model).__name__
    if name not in _TRANSFORMERS_CONVERTERS:
        raise TypeError(f"from_transformers supports {sorted(_TRANSFORMERS_CONVERTERS)}, got {name}")
    return _TRANSFORMERS_CONVERTERS[name](hf_model)
