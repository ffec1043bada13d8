"""The procedural datasets by name: ``load_dataset("street", split="val", num_samples=64)``."""
from __future__ import annotations

from typing import Any

from segkit.data.aerial import AerialDataset
from segkit.data.base import ProceduralDataset
from segkit.data.cells import CellsDataset
from segkit.data.indoor import IndoorDataset
from segkit.data.shapes import ShapesDataset
from segkit.data.street import StreetDataset

_REGISTRY: dict[str, type[ProceduralDataset]] = {
    "shapes": ShapesDataset,
    "street": StreetDataset,
    "cells": CellsDataset,
    "aerial": AerialDataset,
    "indoor": IndoorDataset,
}
DATASETS = tuple(_REGISTRY)


def load_dataset(
    name: str,
    split: str = "train",
    num_samples: int = 1000,
    image_size: int | tuple[int, int] | None = None,
    seed: int = 0,
    **options: Any,
) -> ProceduralDataset:
    """Create a procedural dataset by name.

    Args:
        name: one of ``DATASETS``.
        split: "train", "val" or "test"; splits use disjoint random streams.
        num_samples: number of samples (>= 0).
        image_size: ``(H, W)`` or an int; None takes the dataset's default size.
        seed: non-negative int; ``(name, split, seed, index)`` fixes a sample everywhere.
        **options: dataset options (see each dataset class), e.g. ``transform=``, ``noise=``.

    Returns:
        A ``torch.utils.data.Dataset`` whose items are ``(image, mask)``: float32 ``(3, H, W)`` in
        [0, 1] and int64 ``(H, W)`` in ``[0, len(ds.classes))``.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    return _REGISTRY[name](split, num_samples, image_size, seed, **options)
