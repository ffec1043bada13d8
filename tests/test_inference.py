"""segkit.inference: image conversion, padding to the stride, sliding windows, Segmenter.predict."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from segkit.inference import (
    Segmenter,
    blend_weights,
    pad_to_stride,
    predict_logits,
    sliding_window_logits,
    sliding_window_predict,
    to_batch,
    window_starts,
)


class StridedNet(nn.Module):
    """A small fully convolutional stand-in: down by 4, two 3x3 convs, back up; needs H, W % 4 == 0."""

    stride = 4
    num_classes = 3

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise AssertionError(f"input {tuple(x.shape)} was not padded to the stride")
        y = self.body(F.avg_pool2d(x, 4))  # (N, 3, H/4, W/4)
        return F.interpolate(y, scale_factor=4, mode="nearest")  # (N, 3, H, W)


class Pointwise(nn.Module):
    """A 1x1 convolution: every window sees exactly what the full image sees."""

    stride = 1
    num_classes = 4

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class WindowMean(nn.Module):
    """Outputs, everywhere in a window, the window's mean of channel 0: a constructed blending case."""

    stride = 1
    num_classes = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :1].mean(dim=(2, 3), keepdim=True).expand(-1, 1, *x.shape[-2:])


def _image(h: int = 37, w: int = 50, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_pil_numpy_and_tensor_inputs_give_the_same_labels():
    model = Segmenter(StridedNet(), ["a", "b", "c"])
    array = _image()
    tensor = torch.from_numpy(array).permute(2, 0, 1).float() / 255
    expected = model.predict(array)
    assert expected.shape == (37, 50) and expected.dtype == torch.int64
    assert torch.equal(model.predict(Image.fromarray(array)), expected)
    assert torch.equal(model.predict(tensor), expected)
    batch = model.predict(torch.stack([tensor, tensor.flip(-1)]))
    assert batch.shape == (2, 37, 50)
    assert torch.equal(batch[0], expected)


def test_pad_to_stride_matches_reflect_padding_and_crops_back():
    x = torch.rand(1, 3, 37, 50)
    padded = pad_to_stride(x, 8)
    assert padded.shape == (1, 3, 40, 56)
    assert torch.equal(padded, F.pad(x, (0, 6, 0, 3), mode="reflect"))
    assert pad_to_stride(x[..., :32, :48], 16).shape[-2:] == (32, 48)
    tiny = torch.rand(1, 3, 3, 3)  # too small to reflect 5 pixels: zeros instead
    assert torch.equal(pad_to_stride(tiny, 8), F.pad(tiny, (0, 5, 0, 5)))


def test_predict_equals_argmax_of_the_model_on_the_cropped_padded_image():
    net = StridedNet().eval()
    x = torch.rand(1, 3, 37, 50)
    reference = net(F.pad(x, (0, 2, 0, 3), mode="reflect"))[..., :37, :50].argmax(1)[0]
    assert torch.equal(Segmenter(net, "abc").predict(x[0]), reference)


def test_normalisation_is_applied_before_the_network():
    net = Pointwise().eval()
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    x = torch.rand(3, 20, 24)
    normalised = (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    expected = net(normalised[None]).argmax(1)[0]
    assert torch.equal(Segmenter(net, "abcd", mean=mean, std=std).predict(x), expected)


def test_window_starts_cover_the_image_and_end_at_its_border():
    assert window_starts(10, 4, 0.5) == [0, 2, 4, 6]
    assert window_starts(11, 4, 0.5) == [0, 2, 4, 6, 7]
    assert window_starts(4, 8, 0.25) == [0]


@pytest.mark.parametrize("blend", ["gaussian", "uniform"])
def test_sliding_window_equals_full_image_for_a_pointwise_model(blend):
    net = Pointwise().eval()
    x = torch.rand(2, 3, 45, 61)
    full = net(x)
    tiled = sliding_window_logits(net, x, window=(16, 24), overlap=0.25, blend=blend)
    torch.testing.assert_close(tiled, full, atol=1e-5, rtol=1e-5)


def test_uniform_blending_averages_the_windows_covering_each_pixel():
    x = torch.zeros(1, 3, 6, 10)
    x[0, 0] = torch.arange(60, dtype=torch.float32).view(6, 10)
    out = sliding_window_logits(WindowMean(), x, window=(6, 4), overlap=0.5, blend="uniform")[0, 0]
    # windows start at columns 0, 2, 4, 6 (see window_starts); build the expected average by hand
    means = [x[0, 0, :, c:c + 4].mean().item() for c in (0, 2, 4, 6)]
    covering = [[i for i, c in enumerate((0, 2, 4, 6)) if c <= col < c + 4] for col in range(10)]
    expected = torch.tensor([np.mean([means[i] for i in cov]) for cov in covering], dtype=torch.float32)
    torch.testing.assert_close(out, expected.expand(6, 10))


def test_gaussian_weights_peak_in_the_centre_and_are_positive_everywhere():
    w = blend_weights((9, 16), "gaussian")
    assert w.shape == (9, 16) and (w > 0).all()
    assert w[4, 7] == pytest.approx(w.max().item(), rel=1e-3) and w[0, 0] < 1e-3


def test_sliding_window_of_a_convolutional_model_agrees_with_the_full_image():
    net = StridedNet().eval()
    x = torch.rand(1, 3, 96, 128)
    full = predict_logits(net, x).argmax(1)[0]
    tiled = sliding_window_predict(net, x[0], window=(48, 64), overlap=0.5)
    assert tiled.shape == (96, 128)
    assert (tiled == full).float().mean() > 0.95


def test_predict_switches_to_sliding_windows_above_max_size():
    model = Segmenter(Pointwise(), "abcd")
    x = torch.rand(3, 70, 90)
    assert torch.equal(model.predict(x, max_size=32, window=(32, 32)), model.predict(x))


@pytest.mark.parametrize(
    "image, error, message",
    [
        (np.zeros((20, 20, 4), np.uint8), ValueError, "(H, W, 3)"),
        (np.zeros((20, 20), np.uint8), ValueError, "(H, W, 3)"),
        (np.zeros((20, 20, 3), np.float32), TypeError, "uint8"),
        (torch.zeros(1, 20, 20), ValueError, "(3, H, W)"),
        (torch.zeros(3, 20, 20, dtype=torch.uint8), TypeError, "floating point"),
        (torch.full((3, 20, 20), float("nan")), ValueError, "NaN"),
        ([[0, 1], [2, 3]], TypeError, "PIL image"),
    ],
)
def test_bad_images_raise_clear_errors(image, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        to_batch(image)


def test_too_small_images_and_bad_windows_raise():
    model = Segmenter(StridedNet(), "abc")
    with pytest.raises(ValueError, match="at least 4x4"):
        model.predict(torch.rand(3, 3, 30))
    with pytest.raises(ValueError, match="overlap"):
        sliding_window_logits(model.model, torch.rand(1, 3, 8, 8), window=8, overlap=1.0)
    with pytest.raises(ValueError, match="window"):
        sliding_window_logits(model.model, torch.rand(1, 3, 8, 8), window=(2, 8))
    with pytest.raises(ValueError, match="blend"):
        sliding_window_logits(model.model, torch.rand(1, 3, 8, 8), window=8, blend="median")
    with pytest.raises(ValueError, match="class names"):
        Segmenter(StridedNet(), ["only", "two"])


def test_predict_with_a_segkit_model_on_an_odd_sized_image():
    from segkit.models import build_model

    torch.manual_seed(0)
    net = build_model("fcn8s", 3).eval()
    x = torch.rand(3, 45, 70)
    labels = Segmenter(net, "abc").predict(x)
    assert labels.shape == (45, 70)
    assert (labels == net(x[None]).argmax(1)[0]).float().mean() > 0.99  # both reflect-pad to the stride


def test_normalisation_constants_follow_the_model_to_another_device_or_dtype():
    segmenter = Segmenter(Pointwise().eval(), "abcd", mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3))
    assert {"mean", "std"} <= dict(segmenter.named_buffers()).keys(), "mean/std must be buffers to move with .to(device)"
    assert not any(k.endswith(("mean", "std")) for k in segmenter.state_dict()), "they are not weights to save"
    segmenter.double()
    assert segmenter.mean.dtype == torch.float64 and segmenter.std.dtype == torch.float64


def test_a_bfloat16_model_predicts_from_float32_inputs_like_the_float32_model():
    segmenter = Segmenter(StridedNet().eval(), "abc", mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3))
    image = _image(40, 52)
    reference = segmenter.predict(image)
    low = Segmenter(StridedNet().eval(), "abc", mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3)).to(torch.bfloat16)
    labels = low.predict(image)  # the uint8 image becomes float32, then follows the model's dtype
    assert labels.dtype == torch.int64 and labels.shape == (40, 52)
    assert (labels == reference).float().mean() > 0.95


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_model_predicts_cpu_images_and_returns_cpu_labels():
    segmenter = Segmenter(StridedNet().eval(), "abc", mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3))
    image = Image.fromarray(_image(40, 52))
    reference = segmenter.predict(image)
    labels = segmenter.to("cuda").predict(image)  # PIL in, normalised on the GPU
    assert labels.device.type == "cpu"
    assert (labels == reference).float().mean() > 0.999
    windows = segmenter.predict(image, max_size=32, window=32)
    assert windows.shape == (40, 52)


def test_the_trainable_view_normalises_like_torchvision_and_shares_the_weights():
    from torchvision.transforms.functional import normalize

    from segkit.train import fit

    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    segmenter = Segmenter(Pointwise(), "abcd", mean=mean, std=std)
    view = segmenter.trainable()
    x = torch.rand(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(view(x), segmenter.model(normalize(x, mean, std)), atol=1e-6)
    assert view.num_classes == 4 and view.stride == 1
    assert {id(p) for p in view.parameters()} == {id(p) for p in segmenter.parameters()}, "no copy of the weights"
    before = segmenter.model.conv.weight.detach().clone()
    loader = [(x, torch.randint(0, 4, (2, 8, 8), generator=torch.Generator().manual_seed(0)))]
    fit(view, loader, epochs=1, lr=0.1, device="cpu", progress=False)
    assert not torch.equal(segmenter.model.conv.weight, before), "training the view trains the Segmenter"
    assert segmenter.predict(x[0]).shape == (8, 8)


def test_segmenters_and_the_person_model_offer_the_predictor_interface():
    from segkit.inference import Predictor
    from segkit.pretrained import SelfieSegmenter

    assert isinstance(Segmenter(Pointwise(), "abcd"), Predictor)
    assert not isinstance(Pointwise(), Predictor), "a bare network has no predict/classes/palette"
    members = {"predict", "classes", "palette", "num_classes", "name"}
    assert members <= set(dir(SelfieSegmenter)) | set(SelfieSegmenter.__init__.__code__.co_names)
