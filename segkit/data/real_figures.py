"""Figures of the real samples' cards (``datasets/NAME.md``), drawn by ``python -m segkit.data.cards``.

One row of panels per figure: the image, its labels, and, for the two measured models, their
prediction beside the truth (the numbers are in benchmarks/README.md, section "Real data").
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from matplotlib.figure import Figure

from segkit.data import samples

# the cache entries each figure needs (skimage photos need none)
NEEDS = {"voc_photo": ("voc",), "dsb_nuclei": ("dsb_nuclei",), "spacenet_tile": ("spacenet",), "skimage_photos": (),
         "mediapipe_selfie": ("mediapipe_selfie",), "dsb_nuclei_cells-unet-small": ("dsb_nuclei",),
         "voc_photo_mediapipe-selfie": ("voc", "mediapipe_selfie")}


def _panels(pictures: list[Any], titles: list[str], height: float = 3.0, legend: Any = None) -> Figure:
    """One row of pictures (float ``(H, W, 3)``/``(3, H, W)``, or label maps drawn as given) with titles."""
    from segkit.viz import _image_hwc, new_figure

    first = _image_hwc(pictures[0])
    width = height * first.shape[1] / first.shape[0]
    fig = new_figure((width * len(pictures), height + (0.6 if legend else 0.35)))
    for index, (picture, title) in enumerate(zip(pictures, titles), start=1):
        axis = fig.add_subplot(1, len(pictures), index)
        axis.imshow(_image_hwc(picture), interpolation="nearest")
        axis.set_title(title, fontsize=9)
        axis.axis("off")
    if legend:
        fig.legend(handles=legend, loc="lower center", ncol=len(legend), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07 if legend else 0, 1, 1))
    return fig


def _instance_colours(instances: torch.Tensor) -> np.ndarray:
    """Instances in shuffled tab20 colours (neighbours rarely share one), background black."""
    from segkit.viz import colorize, default_palette

    count = int(instances.max())
    order = np.random.default_rng(0).permutation(count) + 1
    palette = default_palette(21)[1:][order % 20]  # (K, 3)
    return colorize(instances, np.concatenate([np.zeros((1, 3), np.uint8), palette]), ignore_index=None)


def _legend(sample: samples.RealSample, present: list[int]) -> list:
    from segkit.viz import legend_patches

    return legend_patches([sample.classes[c] for c in present], sample.palette[present])


def voc_photo() -> Figure:
    from segkit.viz import colorize, overlay

    s = samples.voc_photo()
    present = s.semantic.unique().tolist()
    return _panels([s.image, overlay(s.image, s.semantic, s.palette, 0.55), _instance_colours(s.instances),
                    colorize(s.semantic, s.palette)],
                   ["photo", "semantic (VOC classes)", f"{s.num_instances} instances", "semantic labels"],
                   legend=_legend(s, present))


def dsb_nuclei() -> Figure:
    from segkit.viz import overlay

    s = samples.dsb_nuclei()
    return _panels([s.image, overlay(s.image, s.semantic, s.palette, 0.45), _instance_colours(s.instances)],
                   ["DSB 2018 nuclei (stretched)", "semantic: nucleus", f"{s.num_instances} instances"],
                   legend=_legend(s, [0, 1]))


def spacenet_tile() -> Figure:
    from segkit.viz import overlay

    s = samples.spacenet_tile()
    footprints = s.meta["footprints"] > 0
    union = s.instances > 0
    agreement = np.zeros((*union.shape, 3))
    agreement[(union & footprints).numpy()] = (1, 1, 1)
    agreement[(union & ~footprints).numpy()] = (1, 0.3, 0.3)
    agreement[(~union & footprints).numpy()] = (0.3, 0.6, 1)
    return _panels([s.image, overlay(s.image, s.semantic, s.palette, 0.45), _instance_colours(s.instances), agreement],
                   ["SpaceNet 0.5 m (pan, stretched)", "semantic: building", f"{s.num_instances} instances",
                    "vs GeoJSON: red mask only, blue polygon only"],
                   legend=_legend(s, [0, 1]))


def skimage_photos() -> Figure:
    pictures = [samples.skimage_photo(name) for name in samples.SKIMAGE_PHOTOS]
    return _panels([torch.nn.functional.interpolate(p[None], size=(160, round(160 * p.shape[2] / p.shape[1])), mode="area")[0] for p in pictures]
                   + [samples.horse_mask().float().expand(3, -1, -1)],
                   [*samples.SKIMAGE_PHOTOS, "horse_mask()"], height=2.0)


def mediapipe_selfie() -> Figure:
    import segkit
    from segkit.viz import overlay

    model = segkit.load_model("mediapipe-selfie")
    image = samples.skimage_photo("astronaut")
    proba = model.predict_proba(image)
    return _panels([image, proba.expand(3, -1, -1), overlay(image, model.predict(image), model.palette, 0.5)],
                   ["astronaut (scikit-image)", "predict_proba: person probability", "predict: person (> 0.5)"])


def _truth_vs_prediction(image: torch.Tensor, truth: torch.Tensor, pred: torch.Tensor, palette: np.ndarray,
                         titles: list[str]) -> Figure:
    from segkit.viz import overlay

    errors = np.zeros((*truth.shape, 3))
    errors[((pred == 1) & (truth == 1)).numpy()] = (1, 1, 1)
    errors[((pred == 1) & (truth == 0)).numpy()] = (1, 0.3, 0.3)
    errors[((pred == 0) & (truth == 1)).numpy()] = (0.3, 0.6, 1)
    return _panels([image, overlay(image, truth, palette, 0.5), overlay(image, pred, palette, 0.5), errors],
                   [*titles, "TP white / FP red / FN blue"])


def nuclei_prediction() -> Figure:
    import segkit

    s = samples.dsb_nuclei()
    pred = segkit.load_model("cells-unet-small").predict(s.image)
    return _truth_vs_prediction(s.image, s.semantic, pred, s.palette,
                                ["real nuclei", "truth", "cells-unet-small (zoo)"])


def person_prediction() -> Figure:
    import segkit

    s = samples.voc_photo()
    model = segkit.load_model("mediapipe-selfie")
    truth = (s.semantic == s.classes.index("person")).long()
    return _truth_vs_prediction(s.image, truth, model.predict(s.image), model.palette,
                                ["VOC photo", "VOC person masks", "mediapipe-selfie"])


FIGURES: dict[str, Callable[[], Figure]] = {
    "voc_photo": voc_photo, "dsb_nuclei": dsb_nuclei, "spacenet_tile": spacenet_tile,
    "skimage_photos": skimage_photos, "mediapipe_selfie": mediapipe_selfie,
    "dsb_nuclei_cells-unet-small": nuclei_prediction, "voc_photo_mediapipe-selfie": person_prediction,
}
REAL_CARDS = tuple(FIGURES)


def available(name: str) -> bool:
    """Whether the files the figure ``name`` needs are in the cache."""
    try:
        for key in NEEDS[name]:
            samples.require(key)
    except samples.SampleMissingError:
        return False
    return True
