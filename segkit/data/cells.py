"""``cells``: microscopy-like nuclei, or (``lesion=True``) tissue with a few small lesions.

Nuclei are bright, textured, wobbly ellipses on a dark, unevenly lit background; many touch or
overlap, and blur plus noise hide the gaps between them, which is what makes instance separation
hard. The lesion variant is a pink, H&E-like tissue with a few darker lesions covering about
1-5 % of the pixels: a strongly imbalanced two-class problem. Built in lessons/05-unet.
"""
from __future__ import annotations

import numpy as np

from segkit.data import _draw
from segkit._checks import check_int, check_number
from segkit.data.base import ProceduralDataset, check_range

NUCLEI_CLASSES = ("background", "nucleus")
NUCLEI_PALETTE = np.array([[0, 0, 0], [255, 215, 0]], dtype=np.uint8)
LESION_CLASSES = ("tissue", "lesion")
LESION_PALETTE = np.array([[0, 0, 0], [255, 0, 80]], dtype=np.uint8)
for _p in (NUCLEI_PALETTE, LESION_PALETTE):
    _p.flags.writeable = False

TINTS = np.array([[0.35, 0.55, 1.0], [1.0, 1.0, 1.0], [0.45, 1.0, 0.55]], dtype=np.float32)  # DAPI, grey, GFP


class CellsDataset(ProceduralDataset):
    """Touching nuclei (instances) or, with ``lesion=True``, tissue with small lesions (instances).

    Options:
        lesion: False for nuclei (classes background/nucleus), True for the lesion variant
            (classes tissue/lesion).
        nuclei: ``(min, max)`` nuclei per image (default (10, 35)); nuclei mode.
        radius: ``(min, max)`` nucleus radius as a fraction of the shorter side (default (0.04, 0.09)).
        lesions: ``(min, max)`` lesions per image (default (1, 3)); lesion mode.
        lesion_fraction: ``(min, max)`` fraction of pixels covered by lesions (default (0.01, 0.05)).
        blur: passes of a 3x3 blur over the image (default 1).
        noise: Gaussian pixel noise (default 0.04).
    """

    name = "cells"
    default_size = (96, 96)
    min_size = 32

    defaults = {
        "lesion": False,
        "nuclei": (10, 35),
        "radius": (0.04, 0.09),
        "lesions": (1, 3),
        "lesion_fraction": (0.01, 0.05),
        "blur": 1,
        "noise": 0.04,
    }

    def configure(self, lesion, nuclei, radius, lesions, lesion_fraction, blur, noise) -> None:
        self.lesion = bool(lesion)
        self.classes = LESION_CLASSES if self.lesion else NUCLEI_CLASSES
        self.palette = LESION_PALETTE if self.lesion else NUCLEI_PALETTE
        self.nuclei = check_range("nuclei", nuclei, 0, 500, integer=True)
        self.radius = check_range("radius", radius, 0.01, 0.3)
        self.lesions = check_range("lesions", lesions, 0, 20, integer=True)
        self.lesion_fraction = check_range("lesion_fraction", lesion_fraction, 0.0, 0.5)
        self.blur = check_int(blur, "blur", minimum=0, maximum=10)
        self.noise = check_number(noise, "noise", minimum=0.0, maximum=1.0)

    def generate(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        image, mask, instances = (self._tissue if self.lesion else self._nuclei)(rng)
        image = _draw.blur(image, self.blur)
        if self.noise:
            image += self.noise * rng.standard_normal(image.shape, dtype=np.float32)
        return image, mask, instances

    def _nuclei(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        height, width = self.image_size
        shape = (height, width)
        tint = TINTS[rng.integers(len(TINTS))][:, None, None]  # (3, 1, 1)
        light = 0.03 + 0.1 * _draw.smooth_noise(rng, shape, cell=max(shape) / 2)  # uneven illumination
        image = (tint * light).astype(np.float32)  # (3, H, W)
        mask = np.zeros(shape, dtype=np.uint8)
        instances = np.zeros(shape, dtype=np.int32)
        chromatin = _draw.fractal_noise(rng, shape, cell=3.0, octaves=2)  # texture inside nuclei
        short = min(shape)
        clusters = rng.uniform([0, 0], shape, (int(rng.integers(1, 4)), 2))
        placed: list[tuple[float, float, float]] = []
        for _ in range(int(rng.integers(self.nuclei[0], self.nuclei[1] + 1))):
            r = rng.uniform(*self.radius) * short
            for _attempt in range(8):  # near a cluster, touching but not swallowing neighbours
                cy, cx = clusters[rng.integers(len(clusters))] + rng.normal(0, 0.2 * short, 2)
                if all((cy - y) ** 2 + (cx - x) ** 2 >= (0.7 * (r + q)) ** 2 for y, x, q in placed):
                    break
            else:
                continue
            placed.append((cy, cx, r))
            aspect = rng.uniform(0.65, 1.0)
            wobble = np.stack([rng.uniform(0, 0.08, 2), [2.0, 3.0], rng.uniform(0, 2 * np.pi, 2)], axis=1)
            drawn = _draw.ellipse_mask(shape, cy, cx, r * aspect, r, rng.uniform(0, np.pi), wobble)
            if drawn is not None:
                box, _ = drawn
                bright = rng.uniform(0.35, 1.0) * (0.7 + 0.6 * chromatin[box])  # (h, w)
                colour = tint * bright[None]
                _draw.paint(image, mask, instances, drawn, colour, 1, len(placed))
        return image, mask, instances

    def _tissue(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        height, width = self.image_size
        shape = (height, width)
        pink = np.float32([0.92, 0.62, 0.78])[:, None, None] * rng.uniform(0.9, 1.05, (3, 1, 1)).astype(np.float32)
        purple = np.array([0.45, 0.25, 0.6], np.float32)[:, None, None]
        stroma = _draw.fractal_noise(rng, shape, cell=max(shape) / 6)
        dots = _draw.smooth_noise(rng, shape, cell=1.6)  # small nuclei scattered through the tissue
        mask = np.zeros(shape, dtype=np.uint8)
        instances = np.zeros(shape, dtype=np.int32)
        n = int(rng.integers(self.lesions[0], self.lesions[1] + 1))
        if n:
            areas = rng.dirichlet(np.ones(n)) * rng.uniform(*self.lesion_fraction) * height * width
            for k, area in enumerate(areas):
                aspect = rng.uniform(0.5, 1.0)
                ry = np.sqrt(area / (np.pi * aspect))
                cy, cx = rng.uniform(ry, height - ry), rng.uniform(ry, width - ry)
                wobble = np.stack([rng.uniform(0, 0.15, 3), [2.0, 3.0, 5.0], rng.uniform(0, 2 * np.pi, 3)], axis=1)
                drawn = _draw.ellipse_mask(shape, cy, cx, ry, ry * aspect, rng.uniform(0, np.pi), wobble)
                if drawn is not None:
                    mask[drawn[0]][drawn[1]] = 1
                    instances[drawn[0]][drawn[1]] = k + 1
        lesion = mask == 1
        density = np.where(lesion, 0.5, 0.72)  # denser, darker nuclei inside lesions
        nucleus = dots > density
        base = pink * (0.85 + 0.25 * stroma) - np.where(lesion, 0.12, 0.0)
        lumen = (stroma < 0.3) & ~lesion
        image = np.where(nucleus, purple * (0.8 + 0.4 * dots), base)
        image = np.where(lumen, np.float32(0.95), image).astype(np.float32)
        return image, mask, instances
