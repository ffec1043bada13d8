"""segkit's model zoo: small trained models shipped with segkit, and real networks made by others.

    >>> segkit.list_models()
    ['cells-unet-small', 'mediapipe-selfie', 'shapes-unet-small', 'street-deeplabv3-tiny']
    >>> model = segkit.load_model("street-deeplabv3-tiny")   # a Segmenter
    >>> labels = model.predict(image)                        # (H, W) int64

The trained models' float16 weights and ``manifest.json`` (one record per model: file, sha256,
architecture, classes, palette, normalisation, the recipe that trained it, its frozen-split mIoU)
sit beside this file as package data. ``python -m segkit.train --export`` publishes a model here
(:mod:`segkit.train.export`); this package never imports ``segkit.train``. Every model
:func:`load_model` returns offers :class:`segkit.inference.Predictor` (``predict``, ``classes``,
``palette``, ``num_classes``, ``name``). Built in lessons/01-pixels-and-labels (the two-line demo)
and lessons/11-pretrained-and-deployment.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from segkit.assets import sha256
from segkit.inference import Predictor, Segmenter
from segkit.models import build_model
from segkit.pretrained import PRETRAINED, load_pretrained

ZOO_DIR = Path(__file__).resolve().parent
MANIFEST = "manifest.json"

__all__ = ["ZOO_DIR", "MANIFEST", "read_manifest", "list_models", "zoo_entry", "build_zoo_model", "load_model"]


def read_manifest(zoo_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """The zoo manifest of ``zoo_dir`` (default: segkit's own zoo) as ``{name: record}``; ``{}`` if none."""
    path = (ZOO_DIR if zoo_dir is None else Path(zoo_dir)) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else {}


def list_models() -> list[str]:
    """Every name :func:`load_model` accepts, sorted: the trained zoo models and the pretrained
    networks of :mod:`segkit.pretrained` (``"mediapipe-selfie"``)."""
    return sorted([*read_manifest(), *PRETRAINED])


def zoo_entry(name: str) -> dict[str, Any]:
    """The manifest record of trained zoo model ``name``: file, sha256, recipe, training time, mIoU, ..."""
    manifest = read_manifest()
    if name not in manifest:
        raise ValueError(f"unknown model {name!r}; the zoo has: {', '.join(list_models()) or 'nothing yet'}")
    return manifest[name]


def build_zoo_model(entry: dict[str, Any], path: str | os.PathLike) -> nn.Module:
    """The model described by a manifest record, with the float16 weights at ``path`` as float32, in eval mode."""
    config = dict(entry["config"])
    model = build_model(config.pop("name"), config.pop("num_classes"), **config)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval()


def load_model(name: str, device: str | torch.device | None = None, verify: bool = True) -> Predictor:
    """A model by name, in eval mode, ready for ``.predict(image)``.

    A trained zoo model comes back as a :class:`~segkit.inference.Segmenter` (an ``nn.Module``).
    ``"mediapipe-selfie"`` is not trained by segkit: it returns the real pretrained person
    segmenter of :mod:`segkit.pretrained` (same ``.predict``, plus ``.predict_proba``; CPU only).
    Both offer :class:`~segkit.inference.Predictor`.

    Args:
        name: one of :func:`list_models`.
        device: where to put a trained zoo model (default: the CPU).
        verify: check the weights file against the SHA-256 in the manifest.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a corrupted weights file.
    """
    if name in PRETRAINED:
        return load_pretrained(name)
    entry = zoo_entry(name)
    path = ZOO_DIR / entry["file"]
    if verify and sha256(path) != entry["sha256"]:
        raise ValueError(f"{path} does not match the SHA-256 in the zoo manifest; reinstall segkit")
    model = build_zoo_model(entry, path)
    segmenter = Segmenter(model, entry["classes"], entry.get("palette"), entry.get("mean"), entry.get("std"), name)
    return segmenter.to(device or "cpu").eval()
