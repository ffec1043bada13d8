"""Parity of segkit.models with torchvision.models.segmentation: structure, parameters, outputs."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models import segmentation as tvseg
from torchvision.models.segmentation.deeplabv3 import ASPP as TorchvisionASPP
from torchvision.models.segmentation.deeplabv3 import DeepLabHead as TorchvisionDeepLabHead
from torchvision.models.segmentation.fcn import FCNHead as TorchvisionFCNHead

import segkit.models as M


def shapes(module: nn.Module) -> list[tuple[int, ...]]:
    return [tuple(t.shape) for t in module.state_dict().values()]


def tv_model(builder: str, aux_loss: bool = False) -> nn.Module:
    """A randomly initialised torchvision model with non-trivial BatchNorm statistics, in eval mode."""
    torch.manual_seed(0)
    model = getattr(tvseg, builder)(weights=None, weights_backbone=None, num_classes=21, aux_loss=aux_loss)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: M.DeepLabHead(2048, 21), lambda: TorchvisionDeepLabHead(2048, 21)),
        (lambda: M.FCNHead(2048, 21), lambda: TorchvisionFCNHead(2048, 21)),
        (lambda: M.FCNHead(1024, 21), lambda: TorchvisionFCNHead(1024, 21)),
        (lambda: M.DeepLabHead(960, 21), lambda: TorchvisionDeepLabHead(960, 21)),
    ],
)
def test_heads_have_torchvision_structure_and_parameter_count(ours, theirs):
    a, b = ours(), theirs()
    assert M.count_parameters(a) == sum(p.numel() for p in b.parameters())
    assert shapes(a) == shapes(b)


def test_aspp_equals_torchvision_aspp_with_the_same_weights():
    torch.manual_seed(0)
    theirs = TorchvisionASPP(64, (1, 2, 3), 32).eval()
    ours = M.ASPP(64, 32, (1, 2, 3)).eval()
    state = {k.replace("convs.", "branches."): v for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    x = torch.randn(2, 64, 9, 11)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=1e-6)


def assert_parity(builder: str, size: tuple[int, int] = (64, 64), aux_loss: bool = False) -> M.SegmentationModel:
    theirs = tv_model(builder, aux_loss)
    ours = M.from_torchvision(theirs)
    assert not ours.training
    n_theirs = sum(p.numel() for name, p in theirs.named_parameters() if not name.startswith("aux_"))
    assert M.count_parameters(ours) == n_theirs
    torch.manual_seed(1)
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        expected = theirs(x)["out"]
        got = ours(x)
        back = M.to_torchvision(ours).eval()(x)["out"]
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() <= 1e-5, f"{builder}: segkit differs from torchvision"
    assert (back - expected).abs().max().item() <= 1e-5, f"{builder}: segkit -> torchvision round trip differs"
    return ours


@pytest.mark.slow
@pytest.mark.parametrize("builder", ["fcn_resnet50", "deeplabv3_resnet50"])
def test_resnet50_models_match_torchvision(builder):
    ours = assert_parity(builder)
    assert ours.stride == 8 and ours.config["backbone"] == "resnet50"
    assert isinstance(ours, M.FCN if builder.startswith("fcn") else M.DeepLabV3)
    assert ours.config["name"] == ("fcn_dilated" if builder.startswith("fcn") else "deeplabv3")


def test_mobilenet_deeplab_matches_torchvision_at_an_odd_size():
    ours = assert_parity("deeplabv3_mobilenet_v3_large", size=(67, 45))
    assert isinstance(ours, M.DeepLabV3) and ours.stride == 16 and ours.num_classes == 21
    assert ours.config["atrous_rates"] == (12, 24, 36)


@pytest.mark.slow
def test_resnet101_and_aux_head_match_torchvision():
    assert_parity("deeplabv3_resnet101", aux_loss=True)


def test_conversion_rejects_what_it_cannot_convert():
    lraspp = tvseg.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3)
    with pytest.raises(TypeError, match="FCN or DeepLabV3"):
        M.from_torchvision(lraspp)
    with pytest.raises(ValueError, match="no torchvision counterpart"):
        M.to_torchvision(M.FCN(3, variant="8s"))
    with pytest.raises(ValueError, match="no torchvision counterpart"):
        M.to_torchvision(M.DeepLabV3(3, backbone="tiny"))
