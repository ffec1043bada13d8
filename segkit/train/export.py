"""Publish a trained model to segkit's zoo: float16 weights plus a manifest record.

The zoo's reading side (``load_model``, the manifest format) lives in :mod:`segkit.zoo`; this
writing side needs training's ``evaluate``, so it lives here and the dependency runs one way
only: ``segkit.train`` imports ``segkit.zoo`` and ``segkit.inference``, never the reverse.
Called by ``python -m segkit.train --export``; built in lessons/11-pretrained-and-deployment.
"""
from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from segkit.assets import sha256
from segkit.data import load_frozen_split
from segkit.inference import Segmenter, model_device
from segkit.zoo import MANIFEST, build_zoo_model, read_manifest
from segkit.train.distributed import unwrap
from segkit.train.loop import evaluate


def evaluate_frozen(model: nn.Module, dataset: str, batch_size: int = 16) -> dict[str, Any]:
    """Metrics of ``model`` on ``dataset``'s frozen evaluation split (the numbers the zoo records)."""
    split = load_frozen_split(dataset)
    loader = DataLoader(split, batch_size=batch_size)
    net = model.model if isinstance(model, Segmenter) else model
    return evaluate(net, loader, net.num_classes, getattr(split, "ignore_index", None), model_device(net))


def export_to_zoo(
    model: nn.Module,
    path: str | os.PathLike,
    *,
    dataset: str,
    architecture: str,
    classes: Sequence[str],
    recipe: str,
    train_time_s: float,
    model_kwargs: dict[str, Any] | None = None,
    palette: Any = None,
) -> dict[str, Any]:
    """Publish ``model`` to a zoo folder: float16 weights at ``path`` plus a manifest record.

    The record (in ``manifest.json`` beside ``path``, keyed by the file's stem) holds the file's
    SHA-256, the model config, classes and palette, the exact recipe, the training time, the
    machine, and the mIoU on ``dataset``'s frozen split measured with the float16 weights as
    :func:`segkit.load_model` will load them.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = unwrap(model).cpu().eval()
    config = dict(getattr(net, "config", None) or {"name": architecture, "num_classes": len(classes), **(model_kwargs or {})})
    config.setdefault("name", architecture)
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}, path)
    entry: dict[str, Any] = {
        "file": path.name,
        "sha256": sha256(path),
        "size_bytes": path.stat().st_size,
        "dataset": dataset,
        "config": config,
        "parameters": sum(p.numel() for p in net.parameters()),
        "classes": list(classes),
        "palette": None if palette is None else np.asarray(palette, dtype=np.uint8).tolist(),
        "recipe": recipe,
        "train_time_s": round(train_time_s, 1),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, torch {torch.__version__}",
    }
    scores = evaluate_frozen(build_zoo_model(entry, path), dataset)
    entry["frozen_miou"] = round(float(scores["mean_iou"]), 6)
    entry["frozen_pixel_accuracy"] = round(float(scores["pixel_accuracy"]), 6)
    manifest = read_manifest(path.parent)
    manifest[path.stem] = entry
    (path.parent / MANIFEST).write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
    return entry
