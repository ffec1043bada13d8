"""Real segmentation datasets through torchvision, in segkit's ``(image, mask)`` convention.

    voc         Pascal VOC 2012: 21 classes, the 255 "border/difficult" label kept as ignore.
    pet         Oxford-IIIT Pet trimaps: 0 pet, 1 background, 2 border (or 255 with border_as_ignore).
    cityscapes  Cityscapes fine annotations mapped to the 19 train ids, everything else 255.

Items are image float32 ``(3, H, W)`` in [0, 1] and mask int64 ``(H, W)`` (sizes vary per image:
add a transform such as ``segkit.transforms.random_crop`` before batching). Nothing is downloaded
unless ``download=True``; missing files raise ``FileNotFoundError`` saying which files go where.
The default root is the repository's ``datasets/cache/`` (git-ignored). Built in
lessons/11-pretrained-and-deployment.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from segkit.assets import default_root
from segkit.data.base import Transform

REAL_DATASETS = ("voc", "pet", "cityscapes")
IGNORE_INDEX = 255

VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip
PET_CLASSES = ("pet", "background", "border")
PET_PALETTE = np.array([[255, 140, 0], [0, 0, 0], [200, 200, 200]], dtype=np.uint8)


def voc_palette(num_classes: int = 256) -> np.ndarray:
    """The Pascal VOC colour map, uint8 ``(num_classes, 3)``: label bits spread over R, G and B."""
    labels = np.arange(num_classes)
    palette = np.zeros((num_classes, 3), dtype=np.uint8)
    for bit in range(8):
        for channel in range(3):
            palette[:, channel] |= (((labels >> (3 * bit + channel)) & 1) << (7 - bit)).astype(np.uint8)
    return palette


def cityscapes_tables() -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``(classes, palette, lut)`` for Cityscapes train ids from torchvision's class table.

    ``lut`` is uint8 ``(256,)`` mapping a label id to its train id, 255 for ignored labels.
    """
    from torchvision.datasets import Cityscapes

    lut = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    train = sorted((c.train_id, c.name, c.color) for c in Cityscapes.classes if 0 <= c.train_id < IGNORE_INDEX)
    for c in Cityscapes.classes:
        if c.id >= 0:
            lut[c.id] = c.train_id if 0 <= c.train_id < IGNORE_INDEX else IGNORE_INDEX
    return tuple(name for _, name, _ in train), np.array([colour for _, _, colour in train], dtype=np.uint8), lut


class RealSegmentation(Dataset):
    """Wraps a torchvision dataset of ``(PIL image, PIL target)`` pairs as ``(image, mask)`` tensors.

    Args:
        base: the torchvision dataset.
        to_labels: maps the target as a numpy array to integer labels ``(H, W)``.
        classes, palette: class names and uint8 ``(C, 3)`` colours.
        transform: optional joint transform ``(image, mask) -> (image, mask)``.
    """

    def __init__(
        self,
        base: Any,
        to_labels: Callable[[np.ndarray], np.ndarray],
        classes: tuple[str, ...],
        palette: np.ndarray,
        transform: Transform | None = None,
    ) -> None:
        self.base, self.to_labels = base, to_labels
        self.classes, self.palette, self.transform = classes, palette, transform

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of length {len(self)}")
        picture, target = self.base[index]
        rgb = np.asarray(picture.convert("RGB"), dtype=np.float32) / 255.0  # (H, W, 3)
        image = torch.from_numpy(rgb).permute(2, 0, 1)  # (3, H, W)
        mask = torch.from_numpy(self.to_labels(np.asarray(target)).astype(np.int64))  # (H, W)
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        return image, mask


def _missing(what: str, root: Path, paths: list[Path], how: str) -> FileNotFoundError:
    listing = "\n".join(f"  {p}" for p in paths)
    return FileNotFoundError(
        f"{what} was not found under {root}. Expected:\n{listing}\n{how}\n"
        "Pass download=True where there is internet (e.g. on Colab), or root=... to use another folder."
    )


def _build(factory: Callable[[], Any], what: str, download: bool) -> Any:
    try:
        return factory()
    except (OSError, RuntimeError) as err:  # URLError is an OSError
        if download:
            raise RuntimeError(
                f"could not download {what} ({err}). Offline? Put the files in place by hand, "
                "see datasets/cache/README.md"
            ) from err
        raise


def load_voc(
    root: str | Path | None = None, split: str = "train", download: bool = False, transform: Transform | None = None
) -> RealSegmentation:
    """Pascal VOC 2012 segmentation (``split`` "train", "val" or "trainval"); 255 stays as ignore."""
    from torchvision.datasets import VOCSegmentation

    root = Path(root) if root is not None else default_root()
    if split not in ("train", "val", "trainval"):
        raise ValueError(f"VOC split must be one of ('train', 'val', 'trainval'), got {split!r}")
    voc = root / "VOCdevkit" / "VOC2012"
    needed = [voc / "JPEGImages", voc / "SegmentationClass", voc / "ImageSets" / "Segmentation" / f"{split}.txt"]
    if not download and not all(p.exists() for p in needed):
        raise _missing("Pascal VOC 2012", root, needed, f"Extract VOCtrainval_11-May-2012.tar (2 GB) into {root}.")
    factory = lambda: VOCSegmentation(str(root), year="2012", image_set=split, download=download)  # noqa: E731
    base = _build(factory, "Pascal VOC 2012", download)
    return RealSegmentation(base, lambda t: t, VOC_CLASSES, voc_palette(len(VOC_CLASSES)), transform)


def load_pet(
    root: str | Path | None = None,
    split: str = "trainval",
    download: bool = False,
    transform: Transform | None = None,
    border_as_ignore: bool = False,
) -> RealSegmentation:
    """Oxford-IIIT Pet trimaps as 3 classes: 0 pet, 1 background, 2 border (``split`` "trainval" or "test").

    With ``border_as_ignore=True`` the uncertain border becomes 255 and the task has 2 classes.
    """
    from torchvision.datasets import OxfordIIITPet

    root = Path(root) if root is not None else default_root()
    if split not in ("trainval", "test"):
        raise ValueError(f"Pet split must be one of ('trainval', 'test'), got {split!r}")
    pet = root / "oxford-iiit-pet"
    needed = [pet / "images", pet / "annotations" / "trimaps", pet / "annotations" / f"{split}.txt"]
    if not download and not all(p.exists() for p in needed):
        raise _missing("Oxford-IIIT Pet", root, needed, f"Extract images.tar.gz and annotations.tar.gz into {pet}.")
    factory = lambda: OxfordIIITPet(  # noqa: E731
        str(root), split=split, target_types="segmentation", download=download
    )
    base = _build(factory, "Oxford-IIIT Pet", download)
    lut = np.array([IGNORE_INDEX, 0, 1, IGNORE_INDEX if border_as_ignore else 2], dtype=np.uint8)  # trimap 1, 2, 3
    classes = PET_CLASSES[:2] if border_as_ignore else PET_CLASSES
    return RealSegmentation(base, lambda t: lut[np.clip(t, 0, 3)], classes, PET_PALETTE[: len(classes)], transform)


def load_cityscapes(
    root: str | Path | None = None, split: str = "train", download: bool = False, transform: Transform | None = None
) -> RealSegmentation:
    """Cityscapes fine annotations as the 19 train ids (``split`` "train", "val" or "test"); the rest is 255."""
    from torchvision.datasets import Cityscapes

    root = Path(root) if root is not None else default_root() / "cityscapes"
    if split not in ("train", "val", "test"):
        raise ValueError(f"Cityscapes split must be one of ('train', 'val', 'test'), got {split!r}")
    needed = [root / "leftImg8bit" / split, root / "gtFine" / split]
    how = (
        "Cityscapes needs a free account: download leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip "
        f"from https://www.cityscapes-dataset.com/downloads/ and unzip both into {root}."
    )
    if download:
        raise RuntimeError(f"Cityscapes cannot be downloaded automatically. {how}")
    zips = [root / "leftImg8bit_trainvaltest.zip", root / "gtFine_trainvaltest.zip"]
    if not all(p.is_dir() for p in needed) and not all(p.is_file() for p in zips):
        raise _missing("Cityscapes", root, needed, how)
    base = Cityscapes(str(root), split=split, mode="fine", target_type="semantic")
    classes, palette, lut = cityscapes_tables()
    return RealSegmentation(base, lambda t: lut[t], classes, palette, transform)


def load_real_dataset(name: str, **kwargs: Any) -> RealSegmentation:
    """``load_voc``, ``load_pet`` or ``load_cityscapes`` by name ("voc", "pet", "cityscapes")."""
    loaders = {"voc": load_voc, "pet": load_pet, "cityscapes": load_cityscapes}
    if name not in loaders:
        raise ValueError(f"unknown real dataset {name!r}; choose one of {REAL_DATASETS}")
    return loaders[name](**kwargs)
