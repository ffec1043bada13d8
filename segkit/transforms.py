"""Joint image/mask augmentation on ``torchvision.transforms.v2``.

Geometric transforms move image and mask together; masks are wrapped as ``tv_tensors.Mask`` so
torchvision resamples them with nearest-neighbour interpolation (labels are never blended) and
pads/rotates them with ``ignore_index``, which losses and metrics then skip. Photometric
transforms (colour jitter, normalisation) touch the image only.

    >>> t = train_transforms((64, 64), ignore_index=255)
    >>> image, mask = t(image, mask)   # float32 (3, 64, 64), int64 (64, 64)

Built in lessons/07-training-in-practice.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from segkit._checks import check_ignore_index, check_label_tensor

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
AUGMENTATIONS = ("none", "flip", "crop-flip", "standard")


def _as_tensors(image: torch.Tensor | np.ndarray, mask: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Check and convert to image float32 ``(3, H, W)`` in [0, 1] and mask int64 ``(H, W)``."""
    if isinstance(image, np.ndarray):
        if image.ndim == 3 and image.shape[-1] == 3:
            image = np.moveaxis(image, -1, 0)  # (H, W, 3) -> (3, H, W)
        image = torch.from_numpy(np.ascontiguousarray(image))
    if isinstance(mask, np.ndarray):
        mask = torch.from_numpy(np.ascontiguousarray(mask))
    if not isinstance(image, torch.Tensor) or not isinstance(mask, torch.Tensor):
        raise TypeError(
            f"image and mask must be tensors or numpy arrays, got {type(image).__name__} and {type(mask).__name__}"
        )
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"image must have shape (3, H, W), got {tuple(image.shape)}")
    if mask.ndim != 2 or mask.shape != image.shape[1:]:
        raise ValueError(f"mask must have shape (H, W) = {tuple(image.shape[1:])}, got {tuple(mask.shape)}")
    check_label_tensor(mask, "mask", "integer labels")
    if image.dtype == torch.uint8:
        image = image.float() / 255.0
    return image.float(), mask.long()


class JointTransform:
    """Apply torchvision v2 transforms jointly to ``(image, mask)``.

    Called as ``transform(image, mask)`` with image ``(3, H, W)`` (float in [0, 1] or uint8) and
    mask ``(H, W)`` integer labels; returns plain tensors: image float32 ``(3, h, w)``, mask int64 ``(h, w)``.
    """

    def __init__(self, *transforms: v2.Transform) -> None:
        parts: list[v2.Transform] = []
        for t in transforms:
            parts.extend(t.transforms if isinstance(t, JointTransform) else [t])
        self.transforms = parts
        self._pipeline = v2.Compose(parts)

    def __call__(
        self, image: torch.Tensor | np.ndarray, mask: torch.Tensor | np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor]:
        image, mask = _as_tensors(image, mask)
        out_image, out_mask = self._pipeline(tv_tensors.Image(image), tv_tensors.Mask(mask))
        return out_image.as_subclass(torch.Tensor), out_mask.as_subclass(torch.Tensor)

    def __repr__(self) -> str:
        inner = ", ".join(repr(t) for t in self.transforms)
        return f"JointTransform({inner})"


def compose(*transforms: JointTransform | v2.Transform) -> JointTransform:
    """Chain joint transforms (or raw v2 transforms) into one ``JointTransform``."""
    return JointTransform(*transforms)


def _fill(ignore_index: int) -> dict[type, float | int]:
    ignore_index = check_ignore_index(ignore_index, optional=False, non_negative=True)
    return {tv_tensors.Image: 0.0, tv_tensors.Mask: ignore_index}


def resize(size: int | tuple[int, int]) -> JointTransform:
    """Resize to ``size`` ``(h, w)`` (an int resizes the shorter side); bilinear image, nearest mask."""
    return JointTransform(v2.Resize(size, antialias=True))


def random_resized_crop(
    size: int | tuple[int, int], scale: tuple[float, float] = (0.5, 1.0), ratio: tuple[float, float] = (3 / 4, 4 / 3)
) -> JointTransform:
    """Crop a random area fraction ``scale`` with aspect ``ratio`` and resize it to ``size``."""
    if not 0.0 < scale[0] <= scale[1] <= 1.0:
        raise ValueError(f"scale must satisfy 0 < min <= max <= 1, got {scale}")
    return JointTransform(v2.RandomResizedCrop(size, scale=scale, ratio=ratio, antialias=True))


def horizontal_flip(p: float = 0.5) -> JointTransform:
    """Mirror image and mask left-right with probability ``p``."""
    return JointTransform(v2.RandomHorizontalFlip(p))


def rotation(degrees: float | tuple[float, float] = 10.0, ignore_index: int = 255) -> JointTransform:
    """Rotate by a random angle in ``[-degrees, degrees]``; corners become 0 (image) and ``ignore_index`` (mask)."""
    bilinear = v2.InterpolationMode.BILINEAR  # for the image; masks always use nearest
    return JointTransform(v2.RandomRotation(degrees, interpolation=bilinear, fill=_fill(ignore_index)))


def pad(padding: int | Sequence[int], ignore_index: int = 255) -> JointTransform:
    """Pad borders (``left, top, right, bottom`` as in torchvision); the mask is padded with ``ignore_index``."""
    return JointTransform(v2.Pad(padding, fill=_fill(ignore_index)))


def random_crop(size: int | tuple[int, int], ignore_index: int = 255) -> JointTransform:
    """Crop a random ``size`` window, first padding images smaller than it (mask with ``ignore_index``)."""
    return JointTransform(v2.RandomCrop(size, pad_if_needed=True, fill=_fill(ignore_index)))


def color_jitter(
    brightness: float = 0.2, contrast: float = 0.2, saturation: float = 0.2, hue: float = 0.02
) -> JointTransform:
    """Random brightness/contrast/saturation/hue changes of the image; the mask is untouched."""
    return JointTransform(v2.ColorJitter(brightness, contrast, saturation, hue))


def normalize(mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> JointTransform:
    """``(image - mean) / std`` per channel (ImageNet statistics by default); the mask is untouched."""
    if any(s <= 0 for s in std):
        raise ValueError(f"std must be positive, got {tuple(std)}")
    return JointTransform(v2.Normalize(list(mean), list(std)))


def denormalize(
    image: torch.Tensor, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD
) -> torch.Tensor:
    """Undo :func:`normalize` for display: ``image * std + mean`` for ``(3, H, W)`` or ``(N, 3, H, W)``."""
    shape = (-1, 1, 1)
    return image * torch.tensor(std, dtype=image.dtype).view(shape) + torch.tensor(mean, dtype=image.dtype).view(shape)


def train_transforms(
    size: int | tuple[int, int],
    ignore_index: int = 255,
    scale: tuple[float, float] = (0.5, 1.0),
    degrees: float = 10.0,
    flip: bool = True,
    jitter: float = 0.2,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> JointTransform:
    """A standard training pipeline: random resized crop, flip, small rotation, colour jitter, optional normalisation.

    Args:
        size: output ``(h, w)`` (or an int for squares).
        ignore_index: mask value for pixels rotated in from outside the image.
        scale: area range of the random crop; degrees: max rotation (0 to skip);
        flip: random horizontal flips; jitter: colour-jitter strength (0 to skip).
        mean, std: normalise with these statistics when given (e.g. ``IMAGENET_MEAN``/``IMAGENET_STD``
            for pretrained backbones); None leaves the image in [0, 1].
    """
    parts = [random_resized_crop(size, scale)]
    if flip:
        parts.append(horizontal_flip())
    if degrees:
        parts.append(rotation(degrees, ignore_index))
    if jitter:
        parts.append(color_jitter(jitter, jitter, jitter, min(jitter / 10, 0.5)))
    if mean is not None or std is not None:
        parts.append(normalize(mean or IMAGENET_MEAN, std or IMAGENET_STD))
    return compose(*parts)


def eval_transforms(
    size: int | tuple[int, int] | None = None, mean: Sequence[float] | None = None, std: Sequence[float] | None = None
) -> JointTransform:
    """The deterministic counterpart of :func:`train_transforms`: optional resize and normalisation."""
    parts: list[JointTransform] = [] if size is None else [resize(size)]
    if mean is not None or std is not None:
        parts.append(normalize(mean or IMAGENET_MEAN, std or IMAGENET_STD))
    return compose(*parts) if parts else JointTransform(v2.Identity())


def augmentation(name: str, size: int | tuple[int, int], ignore_index: int = 255) -> JointTransform | None:
    """A named training augmentation, as ``python -m segkit.train --augment NAME`` uses it.

    Args:
        name: one of ``AUGMENTATIONS``: "none" (``None``: no transform), "flip" (random horizontal
            flips), "crop-flip" (:func:`random_resized_crop` to ``size`` with area 0.5..1, then
            flips) or "standard" (:func:`train_transforms`: crop, flip, rotation, colour jitter).
        size: output ``(h, w)`` of the crops (the training image size).
        ignore_index: mask value of pixels that come from outside the image (rotation corners).
    """
    if name not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {name!r}; choose one of {AUGMENTATIONS}")
    if name == "none":
        return None
    if name == "flip":
        return horizontal_flip()
    if name == "crop-flip":
        return compose(random_resized_crop(size), horizontal_flip())
    return train_transforms(size, ignore_index)
