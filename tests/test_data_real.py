"""Tests of the real-dataset adapters (segkit.data.real) on tiny fake folders in each on-disk layout."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.datasets import Cityscapes

from segkit.data import real
from segkit.transforms import random_crop

RNG = np.random.default_rng(0)


def _photo(path: Path, size=(12, 16)) -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = RNG.integers(0, 256, (*size, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


def _labels(path: Path, labels: np.ndarray, palette: bool = False) -> None:
    """Save labels as a greyscale PNG, or as a palette PNG like VOC's SegmentationClass."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if palette:
        image = Image.frombytes("P", labels.shape[::-1], labels.astype(np.uint8).tobytes())
        image.putpalette(real.voc_palette().flatten().tolist())
    else:
        image = Image.fromarray(labels.astype(np.uint8))
    image.save(path)


def _label_map(values, size=(12, 16)) -> np.ndarray:
    return np.asarray(values, dtype=np.uint8)[RNG.integers(0, len(values), size)]


def test_voc_keeps_255_as_ignore(tmp_path):
    voc = tmp_path / "VOCdevkit" / "VOC2012"
    names = ["2007_000032", "2007_000039"]
    truths = []
    for name in names:
        _photo(voc / "JPEGImages" / f"{name}.jpg")
        truths.append(_label_map([0, 1, 15, 255]))
        _labels(voc / "SegmentationClass" / f"{name}.png", truths[-1], palette=True)
    (voc / "ImageSets" / "Segmentation").mkdir(parents=True)
    (voc / "ImageSets" / "Segmentation" / "train.txt").write_text("\n".join(names) + "\n")
    ds = real.load_voc(tmp_path, split="train")
    assert len(ds) == 2 and len(ds.classes) == 21 and ds.palette.shape == (21, 3)
    image, mask = ds[1]
    assert image.dtype == torch.float32 and image.shape == (3, 12, 16) and 0 <= image.min() <= image.max() <= 1
    assert mask.dtype == torch.int64 and torch.equal(mask, torch.from_numpy(truths[1]).long())
    assert tuple(ds.palette[15]) == (192, 128, 128)  # VOC's "person" colour


def test_pet_trimaps_become_three_classes(tmp_path):
    pet = tmp_path / "oxford-iiit-pet"
    photo = _photo(pet / "images" / "Abyssinian_1.jpg")
    trimap = _label_map([1, 2, 3])
    _labels(pet / "annotations" / "trimaps" / "Abyssinian_1.png", trimap)
    (pet / "annotations" / "trainval.txt").write_text("Abyssinian_1 1 1 1\n")
    image, mask = real.load_pet(tmp_path)[0]
    assert torch.equal(mask, torch.from_numpy(trimap.astype(np.int64) - 1))
    assert image.shape == (3, *photo.shape[:2])
    ds = real.load_pet(tmp_path, border_as_ignore=True)
    _, mask = ds[0]
    assert ds.classes == ("pet", "background")
    assert set(mask.unique().tolist()) == {0, 1, 255} and torch.equal(mask == 255, torch.from_numpy(trimap == 3))


def test_cityscapes_maps_label_ids_to_train_ids(tmp_path):
    stem = "aachen_000000_000019"
    _photo(tmp_path / "leftImg8bit" / "train" / "aachen" / f"{stem}_leftImg8bit.png")
    ids = _label_map([0, 7, 8, 24, 26, 29, 33])
    _labels(tmp_path / "gtFine" / "train" / "aachen" / f"{stem}_gtFine_labelIds.png", ids)
    ds = real.load_cityscapes(tmp_path, split="train", transform=random_crop(8))
    assert len(ds.classes) == 19 and ds.classes[0] == "road" and ds.classes[18] == "bicycle"
    reference = {c.id: (c.train_id if 0 <= c.train_id < 255 else 255) for c in Cityscapes.classes}
    expected = np.vectorize(reference.get)(ids)
    _, full = real.load_cityscapes(tmp_path, split="train")[0]
    assert torch.equal(full, torch.from_numpy(expected).long())
    image, mask = ds[0]
    assert image.shape == (3, 8, 8) and mask.shape == (8, 8)


@pytest.mark.parametrize(
    "loader, expected",
    [
        (real.load_voc, "VOCtrainval_11-May-2012.tar"),
        (real.load_pet, "annotations.tar.gz"),
        (real.load_cityscapes, "gtFine_trainvaltest.zip"),
    ],
)
def test_missing_files_say_where_to_put_them(tmp_path, loader, expected):
    with pytest.raises(FileNotFoundError) as info:
        loader(tmp_path)
    message = str(info.value)
    assert expected in message and str(tmp_path) in message and "download=True" in message


def test_cityscapes_cannot_download_and_bad_names(tmp_path):
    with pytest.raises(RuntimeError, match="cityscapes-dataset.com"):
        real.load_cityscapes(tmp_path, download=True)
    with pytest.raises(ValueError, match="voc"):
        real.load_real_dataset("coco")
    with pytest.raises(ValueError, match="trainval"):
        real.load_pet(tmp_path, split="train")


def test_default_root_is_the_cache_folder():
    assert real.default_root().parts[-2:] == ("datasets", "cache")
