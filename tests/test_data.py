"""Tests of the procedural datasets (segkit.data) and the frozen evaluation splits."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from scipy import stats
from torch.utils.data import DataLoader

import segkit.data as data
from segkit.data import DATASETS, FROZEN, load_dataset, load_frozen_split
from segkit.data.frozen import FROZEN_DIR, FROZEN_RECIPES, build_frozen_arrays

# Classes whose pixels are instances ("things"); every other class is "stuff" with instance id 0.
THINGS = {"shapes": {1, 2, 3}, "street": {6, 7}, "cells": {1}, "aerial": {4}, "indoor": {2}}
VARIANTS = [(name, {}) for name in DATASETS] + [("cells", {"lesion": True})]


def _ids(variant):
    return f"{variant[0]}{'-lesion' if variant[1] else ''}"


@pytest.fixture(scope="module", params=VARIANTS, ids=_ids)
def samples(request):
    name, options = request.param
    n = 6 if name == "aerial" else 24
    ds = load_dataset(name, "train", n, seed=3, **options)
    return name, ds, [ds.sample(i, instances=True) for i in range(n)]


def test_registry_names():
    assert DATASETS == ("shapes", "street", "cells", "aerial", "indoor")


def test_items_have_documented_shapes_dtypes_and_ranges(samples):
    name, ds, items = samples
    h, w = ds.image_size
    assert ds.palette.shape == (len(ds.classes), 3) and ds.palette.dtype == np.uint8
    for image, mask, inst in items:
        assert image.shape == (3, h, w) and image.dtype == torch.float32
        assert mask.shape == (h, w) and mask.dtype == torch.int64
        assert inst.shape == (h, w) and inst.dtype == torch.int64
        assert 0.0 <= image.min() and image.max() <= 1.0
        assert 0 <= mask.min() and mask.max() < len(ds.classes)
    image, mask = ds[0]
    assert torch.equal(image, items[0][0]) and torch.equal(mask, items[0][1])


def test_every_class_appears(samples):
    name, ds, items = samples
    seen = torch.unique(torch.cat([m.flatten() for _, m, _ in items]))
    assert seen.tolist() == list(range(len(ds.classes))), f"{name}: classes seen {seen.tolist()} of {ds.classes}"


def test_instances_are_consistent_with_semantics(samples):
    name, ds, items = samples
    things = {1} if name == "cells" else THINGS[name]  # lesions are the instances of the lesion variant
    for _, mask, inst in items:
        ids = inst.unique()
        ids = ids[ids > 0]
        assert ids.tolist() == list(range(1, len(ids) + 1)), "instance ids must be 1..K without gaps"
        pairs = torch.unique(inst * len(ds.classes) + mask)  # one (instance, class) pair per id
        pairs = pairs[pairs >= len(ds.classes)]
        assert torch.equal(pairs // len(ds.classes), ids), f"{name}: an instance spans several classes"
        is_thing = torch.isin(mask, torch.tensor(sorted(things)))
        assert torch.equal(inst > 0, is_thing), f"{name}: instance pixels must be exactly the pixels of {things}"


def test_same_index_same_sample_and_splits_seeds_differ():
    for name in DATASETS:
        a = load_dataset(name, "val", 3, seed=5)[2]
        b = load_dataset(name, "val", 3, seed=5)[2]
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        for other in (load_dataset(name, "train", 3, seed=5)[2], load_dataset(name, "val", 3, seed=6)[2]):
            assert not torch.equal(a[0], other[0])


def _digest(loader):
    h = hashlib.sha256()
    for image, mask in loader:
        h.update(image.numpy().tobytes())
        h.update(mask.numpy().tobytes())
    return h.hexdigest()


@pytest.mark.slow
def test_dataloader_workers_agree():
    """Worker processes (num_workers=2) produce exactly the samples of the main process (num_workers=0)."""
    ds = load_dataset("street", "train", 12, seed=1)
    single = _digest(DataLoader(ds, batch_size=4, num_workers=0))
    multi = _digest(DataLoader(ds, batch_size=4, num_workers=2))
    assert single == multi


def test_shapes_colour_does_not_give_the_class():
    ds = load_dataset("shapes", "train", 150, seed=0)
    means = {c: [] for c in (1, 2, 3)}
    for i in range(len(ds)):
        image, mask = ds[i]
        for c in means:
            if (mask == c).any():
                means[c].append(image[:, mask == c].mean(dim=1))
    per_class = torch.stack([torch.stack(v).mean(0) for v in means.values()])  # (3 classes, 3 channels)
    assert (per_class.max(0).values - per_class.min(0).values).max() < 0.1, per_class


def test_street_objects_shrink_with_distance():
    """Perspective: a vehicle whose bottom is higher in the image (farther) is smaller."""
    ds = load_dataset("street", "train", 40, seed=2, pedestrians=(0, 0))
    bottoms, heights = [], []
    for i in range(len(ds)):
        _, mask, inst = ds.sample(i, instances=True)
        for k in inst.unique()[1:]:
            rows = torch.nonzero(inst == k)[:, 0]
            if rows.max() < mask.shape[0] - 1:  # not cut by the image border
                bottoms.append(rows.max().item())
                heights.append((rows.max() - rows.min()).item())
    assert len(bottoms) > 30
    assert stats.spearmanr(bottoms, heights).statistic > 0.6


def test_lesions_are_rare():
    ds = load_dataset("cells", "train", 40, seed=0, lesion=True)
    assert ds.classes == ("tissue", "lesion")
    fractions = np.array([ds[i][1].float().mean().item() for i in range(len(ds))])
    assert 0.01 < fractions.mean() < 0.05
    assert fractions.max() < 0.1


def test_aerial_makes_large_tiles():
    ds = load_dataset("aerial", num_samples=1, image_size=(1024, 1280), seed=0)
    image, mask, inst = ds.sample(0, instances=True)
    assert image.shape == (3, 1024, 1280) and mask.shape == (1024, 1280)
    assert inst.max() >= 10, "a large tile should hold many buildings"


def test_options_change_the_data():
    empty = load_dataset("shapes", num_samples=5, objects=(0, 0))
    assert all(empty[i][1].max() == 0 for i in range(5))
    crowded = load_dataset("indoor", num_samples=5, obstacles=(6, 6))
    assert all(crowded.sample(i, instances=True)[2].max() >= 3 for i in range(5))
    noisy = load_dataset("street", num_samples=1, noise=0.0)[0][0]
    assert not torch.equal(noisy, load_dataset("street", num_samples=1)[0][0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "mnist"}, "shapes"),
        ({"name": "shapes", "split": "dev"}, "train"),
        ({"name": "shapes", "num_samples": -1}, "non-negative"),
        ({"name": "shapes", "seed": -2}, "seed"),
        ({"name": "shapes", "image_size": (0, 64)}, "impossible"),
        ({"name": "street", "image_size": (8, 8)}, r"\[32, 8192\]"),
        ({"name": "shapes", "image_size": (64, 64, 3)}, "pair"),
        ({"name": "shapes", "objects": (3, 1)}, "objects"),
        ({"name": "cells", "noise": -0.1}, "noise"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_dataset(**kwargs)


def test_unknown_option_and_index_errors():
    with pytest.raises(TypeError, match="options"):
        load_dataset("shapes", colour="red")
    ds = load_dataset("shapes", num_samples=3)
    with pytest.raises(IndexError, match="length 3"):
        ds[3]
    assert torch.equal(ds[-1][0], ds[2][0])


def test_transform_is_applied_jointly():
    calls = []

    def transform(image, mask):
        calls.append(1)
        return image.flip(-1), mask.flip(-1)

    plain = load_dataset("shapes", num_samples=2)
    flipped = load_dataset("shapes", num_samples=2, transform=transform)
    assert torch.equal(flipped[1][1], plain[1][1].flip(-1)) and calls == [1]
    with pytest.raises(TypeError):
        load_dataset("shapes", transform="flip")


@pytest.mark.parametrize("name", FROZEN)
def test_frozen_split_is_reproduced_by_the_generator(name):
    frozen = load_frozen_split(name)  # also checks the stored sha256
    recipe = FROZEN_RECIPES[name]
    assert len(frozen) == recipe["count"] and frozen.recipe["split"] == recipe["split"]
    arrays, rebuilt = build_frozen_arrays(name)
    assert rebuilt["classes"] == list(frozen.classes)
    diff = np.abs(arrays["images"].astype(np.int16) - frozen.images.astype(np.int16))
    assert diff.max() <= 1, f"{name}: generator drifted from the frozen split by {diff.max()} grey levels"
    np.testing.assert_array_equal(arrays["masks"], frozen.masks)
    np.testing.assert_array_equal(arrays["instances"], frozen.instances)
    image, mask = frozen[0]
    assert image.dtype == torch.float32 and mask.dtype == torch.int64 and image.shape[1:] == mask.shape


def test_frozen_files_are_small_and_checked(tmp_path, monkeypatch):
    total = sum(p.stat().st_size for p in FROZEN_DIR.iterdir())
    assert total < 10.5e6
    with pytest.raises(ValueError, match="cells_lesion"):
        load_frozen_split("mnist")
    import segkit.data.frozen as frozen

    monkeypatch.setattr(frozen, "FROZEN_DIR", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="reinstall segkit"):
        load_frozen_split("shapes")


def test_frozen_splits_are_package_data_not_files_of_the_clone(tmp_path, monkeypatch):
    # a `pip install git+...` (Colab's setup cell) has no datasets/ folder: the splits ship inside segkit
    import fnmatch
    import re
    from pathlib import Path

    import segkit

    package = Path(segkit.__file__).parent
    declared = re.search(r"^segkit = \[(.*)\]$", (package.parent / "pyproject.toml").read_text(), re.M).group(1)
    globs = re.findall(r'"([^"]+)"', declared)
    for path in FROZEN_DIR.iterdir():
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, g) for g in globs), f"{relative} is not declared as package data"
    monkeypatch.setenv("SEGKIT_DATASETS", str(tmp_path / "nowhere"))  # no datasets/ folder at all
    assert len(load_frozen_split("aerial")) == FROZEN_RECIPES["aerial"]["count"]


def test_card_figure_is_a_sample_grid():
    import matplotlib

    matplotlib.use("Agg")
    from segkit.data.cards import card_figure

    fig = card_figure("shapes", count=3)
    assert len([ax for ax in fig.axes if ax.images]) == 6
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(data.ShapesDataset.classes)


def test_as_tensors_stacks_the_items_of_any_dataset():
    from torch.utils.data import TensorDataset

    from segkit.data import as_tensors

    ds = load_dataset("street", split="val", num_samples=5, image_size=(32, 48), seed=1)
    images, masks = as_tensors(ds)
    assert images.shape == (5, 3, 32, 48) and images.dtype == torch.float32
    assert masks.shape == (5, 32, 48) and masks.dtype == torch.int64
    assert torch.equal(images[3], ds[3][0]) and torch.equal(masks[3], ds[3][1])
    first_two = as_tensors(ds, 2)
    assert torch.equal(first_two[0], images[:2]) and torch.equal(first_two[1], masks[:2])
    again = as_tensors(TensorDataset(images, masks))  # any dataset of (image, mask) pairs
    assert torch.equal(again[0], images) and torch.equal(again[1], masks)
    with pytest.raises(ValueError, match=r"count must be an int in \[1, 5\], got 6"):
        as_tensors(ds, 6)
    with pytest.raises(ValueError, match="empty"):
        as_tensors(load_dataset("shapes", num_samples=0))
