"""Prediction for people: any image in, a label map out; padding to the stride; sliding windows.

A :class:`Segmenter` packages a trained network with its class names, palette and normalisation,
and ``model.predict(image)`` takes a PIL image, a numpy ``H x W x 3`` uint8 array or a float
tensor and returns class labels. :class:`Predictor` is what every model of the zoo offers
(``segkit.load_model(name)``, :mod:`segkit.zoo`). Built in lessons/01-pixels-and-labels (the
two-line demo), lessons/10-applications (sliding windows on large tiles) and
lessons/11-pretrained-and-deployment (padding, batches). This module imports neither the zoo nor
``segkit.train``.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from segkit._checks import check_finite, check_int, check_number
from segkit.models import pad_to_stride

BLENDS = ("gaussian", "uniform")


# ---------------------------------------------------------------- image in, tensor out

def to_batch(image: Any) -> tuple[torch.Tensor, bool]:
    """Turn one image or a batch into a float32 batch ``(N, 3, H, W)`` in the model's input range.

    Accepts a PIL image (converted to RGB), a numpy ``(H, W, 3)`` uint8 array (scaled to [0, 1]),
    or a floating-point tensor ``(3, H, W)`` / ``(N, 3, H, W)`` already in [0, 1].

    Returns:
        ``(batch, batched)``: ``batched`` is False when a single image was given.

    Raises:
        TypeError: unsupported type, a numpy array that is not uint8, an integer tensor.
        ValueError: wrong number of dimensions or channels, NaN / infinite values.
    """
    if hasattr(image, "convert") and hasattr(image, "size") and not isinstance(image, (np.ndarray, torch.Tensor)):
        image = np.asarray(image.convert("RGB"))  # PIL -> (H, W, 3) uint8
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise TypeError(
                f"numpy images must be uint8 (H, W, 3) with values 0..255, got dtype {image.dtype}; "
                "for float images in [0, 1] pass torch.from_numpy(image).permute(2, 0, 1) instead"
            )
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"numpy images must have shape (H, W, 3), got {image.shape}")
        tensor = torch.tensor(image).permute(2, 0, 1).float() / 255.0  # (3, H, W)
        return tensor.unsqueeze(0), False
    if not isinstance(image, torch.Tensor):
        raise TypeError(
            "predict takes a PIL image, a numpy (H, W, 3) uint8 array or a float tensor (3, H, W) / "
            f"(N, 3, H, W), got {type(image).__name__}"
        )
    if not image.is_floating_point():
        raise TypeError(f"image tensors must be floating point in [0, 1], got dtype {image.dtype}; use x.float() / 255")
    if image.ndim not in (3, 4) or image.shape[-3] != 3:
        raise ValueError(f"image tensors must have shape (3, H, W) or (N, 3, H, W), got {tuple(image.shape)}")
    check_finite(image, "the image's values")
    batched = image.ndim == 4
    return (image if batched else image.unsqueeze(0)).float(), batched


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (the CPU for a model without parameters)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _model_dtype(model: nn.Module) -> torch.dtype:
    """The floating-point type of the model's weights: float16 / bfloat16 after ``.half()`` etc."""
    param = next(model.parameters(), None)
    return param.dtype if param is not None and param.is_floating_point() else torch.float32


@torch.no_grad()
def predict_logits(model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """Logits ``(N, C, H, W)`` float32 (on the CPU) of an already prepared batch ``(N, 3, H, W)``,
    padded to ``model.stride`` and cropped back. The batch follows the model's device and dtype
    (a ``.half()`` model on CUDA gets a float16 batch)."""
    height, width = batch.shape[-2:]
    x = batch.to(device=model_device(model), dtype=_model_dtype(model))
    x = pad_to_stride(x, getattr(model, "stride", 1))
    return model(x)[..., :height, :width].float().cpu()  # (N, C, H, W)


# ---------------------------------------------------------------- sliding windows

def window_starts(size: int, window: int, overlap: float) -> list[int]:
    """Top (or left) offsets of windows of length ``window`` covering ``size`` pixels with ``overlap``.

    The step is ``window * (1 - overlap)``; the last window ends exactly at ``size``.
    """
    if window >= size:
        return [0]
    step = max(1, int(window * (1.0 - overlap)))
    starts = list(range(0, size - window, step))
    return starts + [size - window]


def blend_weights(window: tuple[int, int], blend: str = "gaussian") -> torch.Tensor:
    """Weight ``(h, w)`` of each window pixel when overlapping windows are averaged.

    "uniform": all ones. "gaussian": a separable Gaussian with sigma = window / 8, so the centre of a
    window, which saw the most context, counts more than its border.
    """
    if blend not in BLENDS:
        raise ValueError(f"unknown blend {blend!r}; choose one of {BLENDS}")
    if blend == "uniform":
        return torch.ones(window)
    axes = []
    for n in window:
        r = torch.arange(n, dtype=torch.float64) - (n - 1) / 2
        axes.append(torch.exp(-0.5 * (r / (n / 8)) ** 2))
    return (axes[0][:, None] * axes[1][None, :]).float()  # (h, w), 1 at the centre


def _check_window(window: int | Sequence[int], overlap: float, stride: int) -> tuple[int, int]:
    sizes = (window, window) if isinstance(window, numbers.Integral) else tuple(window)
    if len(sizes) != 2:
        raise ValueError(f"window must be an int or a pair (h, w), got {window!r}")
    sizes = tuple(check_int(side, f"each window side (at least the model stride {stride})", minimum=stride)
                  for side in sizes)
    if check_number(overlap, "overlap", minimum=0.0, maximum=1.0) == 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap!r}")
    return sizes


@torch.no_grad()
def sliding_window_logits(
    model: nn.Module,
    batch: torch.Tensor,
    window: int | Sequence[int] = (512, 512),
    overlap: float = 0.25,
    blend: str = "gaussian",
) -> torch.Tensor:
    """Logits ``(N, C, H, W)`` of a large batch ``(N, 3, H, W)`` from overlapping windows.

    Every window is segmented on its own; where windows overlap their logits are averaged with
    :func:`blend_weights`. Memory grows with the window, not with the image.
    """
    stride = getattr(model, "stride", 1)
    win_h, win_w = _check_window(window, overlap, stride)
    n, _, height, width = batch.shape
    win_h, win_w = min(win_h, height), min(win_w, width)
    weights = blend_weights((win_h, win_w), blend)  # (h, w)
    total: torch.Tensor | None = None
    norm = torch.zeros(height, width)
    for top in window_starts(height, win_h, overlap):
        for left in window_starts(width, win_w, overlap):
            tile = predict_logits(model, batch[..., top:top + win_h, left:left + win_w])  # (N, C, h, w)
            if total is None:
                total = torch.zeros(n, tile.shape[1], height, width)
            total[..., top:top + win_h, left:left + win_w] += tile * weights
            norm[top:top + win_h, left:left + win_w] += weights
    return total / norm  # (N, C, H, W)


def sliding_window_predict(
    model: nn.Module,
    image: Any,
    window: int | Sequence[int] = (512, 512),
    overlap: float = 0.25,
    blend: str = "gaussian",
) -> torch.Tensor:
    """Label map of an image of any size, segmented window by window (see :func:`sliding_window_logits`).

    Args:
        model: maps ``(N, 3, h, w)`` float to logits ``(N, C, h, w)``; put it in eval mode first.
        image: anything :func:`to_batch` accepts (no normalisation is applied here).
        window: ``(h, w)`` of each window, at least ``model.stride``.
        overlap: fraction of a window shared with its neighbour, in [0, 1).
        blend: "gaussian" or "uniform" weighting of overlapping logits.

    Returns:
        int64 labels ``(H, W)``, or ``(N, H, W)`` for a batch.
    """
    batch, batched = to_batch(image)
    labels = sliding_window_logits(model, batch, window, overlap, blend).argmax(dim=1)  # (N, H, W)
    return labels if batched else labels[0]


# ---------------------------------------------------------------- the predictor

@runtime_checkable
class Predictor(Protocol):
    """What every model of the zoo offers (``segkit.load_model(name)``): a :class:`Segmenter`, or a
    real network made by others such as :class:`segkit.pretrained.SelfieSegmenter`.

    ``predict(image)`` takes a PIL image, a numpy ``(H, W, 3)`` uint8 array or a float tensor
    ``(3, H, W)`` / ``(N, 3, H, W)`` in [0, 1] and returns int64 labels ``(H, W)`` / ``(N, H, W)``
    on the CPU; ``classes`` names them, ``palette`` colours them (``(C, 3)`` uint8, for
    :func:`segkit.viz.colorize`).
    """

    name: str | None
    classes: tuple[str, ...]
    palette: np.ndarray | None

    @property
    def num_classes(self) -> int: ...

    def predict(self, image: Any) -> torch.Tensor: ...


class Segmenter(nn.Module):
    """A trained model packaged for prediction: class names, palette, normalisation, ``predict``.

    Args:
        model: the network, ``(N, 3, H, W)`` -> logits ``(N, C, H, W)``.
        classes: the C class names.
        palette: ``(C, 3)`` uint8 colours for :func:`segkit.viz.colorize`.
        mean, std: per-channel normalisation applied to [0, 1] images before the network
            (``None``: the network takes [0, 1] images as they are).
        name: the zoo name, if it came from the zoo.
    """

    def __init__(
        self,
        model: nn.Module,
        classes: Sequence[str],
        palette: Any = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__()
        num_classes = getattr(model, "num_classes", len(classes))
        if len(classes) != num_classes:
            raise ValueError(f"{len(classes)} class names for a model with {num_classes} classes")
        self.model = model
        self.classes = tuple(classes)
        self.palette = None if palette is None else np.asarray(palette, dtype=np.uint8)
        self.name = name
        # Buffers, so that they follow the model to the GPU with .to(device).
        self.register_buffer("mean", None if mean is None else torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", None if std is None else torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def stride(self) -> int:
        return getattr(self.model, "stride", 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, C, H, W)`` of an already normalised batch ``(N, 3, H, W)``."""
        return self.model(x)

    def normalize(self, batch: torch.Tensor) -> torch.Tensor:
        """Apply the model's normalisation to a [0, 1] batch ``(N, 3, H, W)``."""
        if self.mean is not None:
            batch = (batch - self.mean) / self.std
        return batch

    def trainable(self) -> Normalized:
        """A trainable view of this model: an ``nn.Module`` that takes [0, 1] images (what the
        datasets give) and normalises them itself, for ``segkit.train.fit`` or a loop of your own.

        It shares this Segmenter's weights: training the view trains the Segmenter, whose
        ``predict`` then uses the new weights. ``view.num_classes`` and ``view.stride`` are the
        Segmenter's. Built in lessons/10-applications (fine-tuning the zoo's street model).
        """
        return Normalized(self)

    @torch.no_grad()
    def predict(
        self,
        image: Any,
        *,
        max_size: int = 1024,
        window: int | Sequence[int] = (512, 512),
        overlap: float = 0.25,
        blend: str = "gaussian",
    ) -> torch.Tensor:
        """Class labels of an image: ``(H, W)`` int64 (or ``(N, H, W)`` for a batch), on the CPU.

        ``image`` is a PIL image, a numpy ``(H, W, 3)`` uint8 array or a float tensor
        ``(3, H, W)`` / ``(N, 3, H, W)`` in [0, 1]. Images with a side longer than ``max_size`` are
        segmented with :func:`sliding_window_logits` (``window``, ``overlap``, ``blend``).
        """
        batch, batched = to_batch(image)
        height, width = batch.shape[-2:]
        if height < self.stride or width < self.stride:
            raise ValueError(
                f"image is {height}x{width} pixels; {self.name or type(self.model).__name__} needs at least "
                f"{self.stride}x{self.stride} (its stride); resize it first"
            )
        self.eval()
        batch = self.normalize(batch.to(model_device(self)))  # mean/std live with the model
        if max(height, width) > max_size:
            logits = sliding_window_logits(self.model, batch, window, overlap, blend)
        else:
            logits = predict_logits(self.model, batch)  # (N, C, H, W)
        labels = logits.argmax(dim=1)  # (N, H, W) int64
        return labels if batched else labels[0]


class Normalized(nn.Module):
    """A :class:`Segmenter`'s network behind its normalisation: [0, 1] images ``(N, 3, H, W)`` in,
    logits ``(N, C, H, W)`` out. Made by :meth:`Segmenter.trainable`; the weights are shared."""

    def __init__(self, segmenter: Segmenter) -> None:
        super().__init__()
        self.segmenter = segmenter

    @property
    def num_classes(self) -> int:
        return self.segmenter.num_classes

    @property
    def stride(self) -> int:
        return self.segmenter.stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.segmenter(self.segmenter.normalize(x))  # (N, C, H, W)


# The zoo moved to segkit.zoo. Lessons copied into a learner's work/ before the move import
# load_model from here (lessons/10-applications did), and segkit.course.kernel.capstone reads the
# manifest from here: these names are looked up in segkit.zoo on first use. tests/test_layering.py
# lists this one lazy edge; delete both once the course imports segkit.zoo.
_MOVED_TO_ZOO = ("load_model", "list_models", "ZOO_DIR", "read_manifest", "build_zoo_model")


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_ZOO:
        import segkit.zoo

        return getattr(segkit.zoo, name)
    raise AttributeError(f"module 'segkit.inference' has no attribute {name!r}")
