"""Frozen evaluation splits: fixed samples shipped with segkit for benchmarks, the zoo and the capstone.

Each split is ``NAME.npz`` (uint8 images ``(N, 3, H, W)``, uint8 masks ``(N, H, W)``, uint16
instances ``(N, H, W)``) beside ``NAME.json`` with the recipe that made it and a sha256 of the
array contents, in ``segkit/data/frozen_splits/``: package data (about 9 MB), so that a plain
``pip install`` (Colab's setup cell) has them too. The files keep evaluation fixed even if a
generator changes; a test checks the generator still reproduces them (within one grey level: it
does not bit for bit across platforms, which is why the files are shipped, not regenerated).
Rewrite them with ``python -m segkit.data.cards --frozen``.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from segkit.data.base import Transform
from segkit.data.registry import load_dataset

# name -> recipe; "cells_lesion" is the lesion variant of "cells" for the medical application.
FROZEN_RECIPES: dict[str, dict[str, Any]] = {
    "shapes": {"dataset": "shapes", "split": "test", "seed": 0, "count": 64, "options": {}},
    "street": {"dataset": "street", "split": "test", "seed": 0, "count": 64, "options": {}},
    "cells": {"dataset": "cells", "split": "test", "seed": 0, "count": 64, "options": {}},
    "cells_lesion": {"dataset": "cells", "split": "test", "seed": 0, "count": 64, "options": {"lesion": True}},
    "aerial": {"dataset": "aerial", "split": "test", "seed": 0, "count": 8, "options": {}},
    "indoor": {"dataset": "indoor", "split": "test", "seed": 0, "count": 64, "options": {}},
}
FROZEN = tuple(FROZEN_RECIPES)
FROZEN_DIR = Path(__file__).resolve().parent / "frozen_splits"


def content_sha256(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the names, shapes, dtypes and bytes of ``arrays`` (independent of zip metadata)."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{a.shape}:{a.dtype.str};".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def build_frozen_arrays(name: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Generate the arrays of frozen split ``name`` from its recipe; returns ``(arrays, recipe)``."""
    if name not in FROZEN_RECIPES:
        raise ValueError(f"unknown frozen split {name!r}; choose one of {FROZEN}")
    recipe = dict(FROZEN_RECIPES[name])
    ds = load_dataset(recipe["dataset"], recipe["split"], recipe["count"], None, recipe["seed"], **recipe["options"])
    samples = [ds.sample(i, instances=True) for i in range(len(ds))]
    images = torch.stack([s[0] for s in samples]).mul(255).round().to(torch.uint8).numpy()  # (N, 3, H, W)
    masks = torch.stack([s[1] for s in samples]).to(torch.uint8).numpy()  # (N, H, W)
    instances = torch.stack([s[2] for s in samples]).to(torch.int32).numpy().astype(np.uint16)
    recipe.update(image_size=list(ds.image_size), classes=list(ds.classes), palette=ds.palette.tolist())
    return {"images": images, "masks": masks, "instances": instances}, recipe


def write_frozen_split(name: str, directory: str | Path | None = None) -> Path:
    """Generate frozen split ``name`` and write ``NAME.npz`` + ``NAME.json`` into ``directory``
    (default :data:`FROZEN_DIR`); returns the npz path."""
    directory = Path(directory) if directory is not None else FROZEN_DIR
    directory.mkdir(parents=True, exist_ok=True)
    arrays, recipe = build_frozen_arrays(name)
    path = directory / f"{name}.npz"
    np.savez_compressed(path, **arrays)
    recipe["sha256"] = content_sha256(arrays)
    (directory / f"{name}.json").write_text(json.dumps(recipe, indent=1) + "\n")
    return path


class FrozenSplit(Dataset):
    """A frozen evaluation split; same interface as the procedural datasets (``ds[i]``, ``sample``).

    Items are ``(image, mask)``: float32 ``(3, H, W)`` in [0, 1] (stored as uint8, so multiples of
    1/255) and int64 ``(H, W)``. ``recipe`` holds the generator settings that made the split.
    """

    def __init__(
        self, arrays: dict[str, np.ndarray], recipe: dict[str, Any], transform: Transform | None = None
    ) -> None:
        self.images, self.masks, self.instances = arrays["images"], arrays["masks"], arrays["instances"]
        self.recipe = recipe
        self.name = recipe["dataset"]
        self.classes = tuple(recipe["classes"])
        self.palette = np.asarray(recipe["palette"], dtype=np.uint8)
        self.image_size = tuple(recipe["image_size"])
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return f"FrozenSplit({self.recipe['dataset']!r}, options={self.recipe['options']}, num_samples={len(self)})"

    def sample(self, index: int, instances: bool = False) -> tuple[torch.Tensor, ...]:
        """``(image, mask)`` or ``(image, mask, instances)`` of sample ``index``, without the transform."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a frozen split of length {len(self)}")
        image = torch.from_numpy(self.images[index].astype(np.float32) / 255.0)
        out = (image, torch.from_numpy(self.masks[index].astype(np.int64)))
        return (*out, torch.from_numpy(self.instances[index].astype(np.int64))) if instances else out

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, mask = self.sample(index)
        return self.transform(image, mask) if self.transform is not None else (image, mask)


def load_frozen_split(name: str, transform: Transform | None = None, verify: bool = True) -> FrozenSplit:
    """Load the frozen evaluation split ``name`` (one of ``FROZEN``), shipped with segkit.

    Args:
        name: "shapes", "street", "cells", "cells_lesion", "aerial" or "indoor".
        transform: optional joint transform applied by ``ds[i]``.
        verify: check the arrays against the sha256 stored in ``NAME.json``.

    Raises:
        ValueError: unknown name, or the arrays do not match their checksum.
        FileNotFoundError: the files are missing from the installed package (reinstall segkit).
    """
    if name not in FROZEN_RECIPES:
        raise ValueError(f"unknown frozen split {name!r}; choose one of {FROZEN}")
    npz, meta = FROZEN_DIR / f"{name}.npz", FROZEN_DIR / f"{name}.json"
    for path in (npz, meta):
        if not path.is_file():
            raise FileNotFoundError(
                f"frozen split file {path} is missing: reinstall segkit (the files are package data), or in a "
                "clone rewrite them with `python -m segkit.data.cards --frozen`"
            )
    recipe = json.loads(meta.read_text())
    with np.load(npz) as data:
        arrays = {key: data[key] for key in ("images", "masks", "instances")}
    if verify and content_sha256(arrays) != recipe["sha256"]:
        raise ValueError(f"{npz} does not match the sha256 in {meta}: the file was changed or corrupted")
    return FrozenSplit(arrays, recipe, transform)
