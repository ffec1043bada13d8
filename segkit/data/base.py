"""The procedural dataset base class: deterministic samples from ``(name, split, seed, index)``;
and :func:`as_tensors`, any dataset held in memory as two tensors.

Built in lessons/01-pixels-and-labels.
"""
from __future__ import annotations

import numbers
import operator
import zlib
from typing import Any, Callable, ClassVar

import numpy as np
import torch
from torch.utils.data import Dataset

from segkit._checks import check_int, non_negative_int

SPLITS = ("train", "val", "test")

Transform = Callable[[torch.Tensor, torch.Tensor], "tuple[torch.Tensor, torch.Tensor]"]


def as_tensors(dataset: Any, count: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``count`` samples of a dataset (all by default) stacked into two tensors.

    Works with any dataset whose items are ``(image, mask)`` pairs of one size: the procedural
    datasets, a frozen split, a ``TensorDataset``. Returns images ``(N, 3, H, W)`` float32 and masks
    ``(N, H, W)`` int64, as the items are (after the dataset's transform, if any). Built in
    lessons/02-workflow (``to_tensors``); used from lessons/04-fcn on.

    Raises:
        TypeError / ValueError: ``count`` is not an int in ``[1, len(dataset)]``, or the dataset is empty.
    """
    size = len(dataset)
    if size == 0:
        raise ValueError("the dataset is empty: nothing to stack")
    count = size if count is None else check_int(count, "count", minimum=1, maximum=size)
    images, masks = zip(*(dataset[i] for i in range(count)))
    return torch.stack(images), torch.stack(masks)  # (N, 3, H, W), (N, H, W)


def check_size(image_size: int | tuple[int, int], min_size: int, max_size: int = 8192) -> tuple[int, int]:
    """Validate ``image_size`` (an int or ``(H, W)``) and return it as a tuple of two ints."""
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (tuple, list)):
        raise TypeError(f"image_size must be an int or a pair of ints (H, W), got {type(image_size).__name__} {image_size!r}")
    if len(image_size) != 2:
        raise ValueError(f"image_size must be an int or a pair of ints (H, W), got {image_size!r}")
    height, width = (check_int(side, "each side of image_size") for side in image_size)
    if not (min_size <= height <= max_size and min_size <= width <= max_size):
        raise ValueError(
            f"image_size {(height, width)} is impossible here: both sides must be in [{min_size}, {max_size}]"
        )
    return height, width


def check_range(name: str, value: Any, low: float, high: float, integer: bool = False) -> tuple[Any, Any]:
    """Validate an option given as a ``(min, max)`` pair (or one number) with ``low <= min <= max <= high``."""
    if isinstance(value, (int, float, np.number)):
        value = (value, value)
    if len(value) != 2 or not (low <= value[0] <= value[1] <= high):
        raise ValueError(f"{name} must be a pair (min, max) with {low} <= min <= max <= {high}, got {value!r}")
    if integer:
        return int(value[0]), int(value[1])
    return float(value[0]), float(value[1])


class ProceduralDataset(Dataset):
    """A map-style dataset whose samples are drawn on the fly from a seeded random generator.

    Subclasses set ``name``, ``classes``, ``palette``, ``default_size``, ``min_size`` and the option
    ``defaults``, and implement :meth:`configure` (validate options) and :meth:`generate`. Sample
    ``i`` of ``(name, split, seed)`` comes from its own
    ``numpy.random.SeedSequence``, so it is identical in every process and DataLoader worker and
    splits never share a random stream.

    Args:
        split: "train", "val" or "test".
        num_samples: length of the dataset (>= 0); samples are generated on access, not stored.
        image_size: ``(H, W)`` or an int for square images; None takes the dataset's default.
        seed: non-negative int; another seed gives another, equally reproducible dataset.
        transform: optional joint transform ``(image, mask) -> (image, mask)`` applied by
            ``ds[i]`` (see ``segkit.transforms``); :meth:`sample` always returns raw samples.
        **options: dataset-specific options, see ``defaults`` and the subclass docstring.
    """

    name: ClassVar[str] = ""
    classes: tuple[str, ...] = ()
    palette: np.ndarray = np.zeros((0, 3), dtype=np.uint8)
    default_size: ClassVar[tuple[int, int]] = (64, 64)
    min_size: ClassVar[int] = 32
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        split: str = "train",
        num_samples: int = 1000,
        image_size: int | tuple[int, int] | None = None,
        seed: int = 0,
        transform: Transform | None = None,
        **options: Any,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        num_samples = non_negative_int(num_samples, "num_samples")
        seed = non_negative_int(seed, "seed")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable as transform(image, mask), got {type(transform).__name__}")
        self.split = split
        self.num_samples = int(num_samples)
        self.image_size = check_size(self.default_size if image_size is None else image_size, self.min_size)
        self.seed = int(seed)
        self.transform = transform
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            raise TypeError(
                f"unknown option(s) {unknown} for dataset {self.name!r}; its options and defaults are {self.defaults}"
            )
        self.options = {**self.defaults, **options}
        self.configure(**self.options)

    def configure(self, **options: Any) -> None:
        """Validate the options and store them as attributes (subclasses check ranges here)."""
        for key, value in options.items():
            setattr(self, key, value)

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        h, w = self.image_size
        changed = "".join(f", {k}={v!r}" for k, v in self.options.items() if v != self.defaults[k])
        return (
            f"{type(self).__name__}(split={self.split!r}, num_samples={self.num_samples}, "
            f"image_size=({h}, {w}), seed={self.seed}{changed})"
        )

    def rng(self, index: int) -> np.random.Generator:
        """The random generator of sample ``index`` (a fresh one on every call)."""
        entropy = [zlib.crc32(self.name.encode()), SPLITS.index(self.split), self.seed, index]
        return np.random.default_rng(np.random.SeedSequence(entropy))

    def _check_index(self, index: int) -> int:
        index = operator.index(index)
        if not -self.num_samples <= index < self.num_samples:
            raise IndexError(f"index {index} out of range for {self.name!r} dataset of length {self.num_samples}")
        return index % self.num_samples

    def sample(self, index: int, instances: bool = False) -> tuple[torch.Tensor, ...]:
        """Generate sample ``index`` without the transform.

        Returns:
            ``(image, mask)`` or, with ``instances=True``, ``(image, mask, instances)``: image
            float32 ``(3, H, W)`` in [0, 1]; mask int64 ``(H, W)`` in ``[0, len(classes))``;
            instances int64 ``(H, W)``, 0 where no object, ids ``1..K`` in drawing order.
        """
        index = self._check_index(index)
        image, mask, inst = self.generate(self.rng(index))
        image = np.clip(image.astype(np.float32, copy=False), 0.0, 1.0)
        out = (torch.from_numpy(image), torch.from_numpy(mask.astype(np.int64)))
        if instances:
            _, relabelled = np.unique(inst, return_inverse=True)  # ids 1..K without gaps
            if inst.min() != 0:  # no background pixel: the smallest id is an object
                relabelled = relabelled + 1
            return (*out, torch.from_numpy(relabelled.reshape(inst.shape).astype(np.int64)))
        return out

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, mask = self.sample(index)
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        return image, mask

    def generate(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw one sample: image float32 ``(3, H, W)``, mask uint8 ``(H, W)``, instances int32 ``(H, W)``."""
        raise NotImplementedError
