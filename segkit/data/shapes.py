"""``shapes``: circles, squares and triangles on a textured background.

Object colours are drawn independently of the class, so a model must look at shape (context),
not colour, to label a pixel. Built in lessons/02-workflow.
"""
from __future__ import annotations

import numpy as np

from segkit.data import _draw
from segkit._checks import check_number
from segkit.data.base import ProceduralDataset, check_range

CLASSES = ("background", "circle", "square", "triangle")
PALETTE = np.array([[0, 0, 0], [230, 25, 75], [60, 180, 75], [0, 130, 200]], dtype=np.uint8)
PALETTE.flags.writeable = False
# Circumradius of a circle, square and triangle with the area of a unit circle: size is no clue.
EQUAL_AREA = {1: 1.0, 2: float(np.sqrt(np.pi / 2)), 3: float(np.sqrt(4 * np.pi / (3 * np.sqrt(3))))}


class ShapesDataset(ProceduralDataset):
    """Circles, squares and triangles in random colours, sizes, rotations and overlaps.

    Options:
        objects: ``(min, max)`` number of shapes per image (default (1, 4)).
        radius: ``(min, max)`` size as a fraction of the shorter side (default (0.1, 0.25)): the radius
            of a circle of the same area, so every class covers the same area on average.
        noise: standard deviation of the Gaussian pixel noise (default 0.05).
        texture: strength of the coloured background texture, 0 gives a flat background (default 0.5).
    """

    name = "shapes"
    classes = CLASSES
    palette = PALETTE
    default_size = (64, 64)
    min_size = 16

    defaults = {"objects": (1, 4), "radius": (0.1, 0.25), "noise": 0.05, "texture": 0.5}

    def configure(self, objects, radius, noise, texture) -> None:
        self.objects = check_range("objects", objects, 0, 64, integer=True)
        self.radius = check_range("radius", radius, 0.02, 0.5)
        self.noise = check_number(noise, "noise", minimum=0.0, maximum=1.0)
        self.texture = check_number(texture, "texture", minimum=0.0, maximum=1.0)

    def generate(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        height, width = self.image_size
        base = _draw.random_colour(rng, 0.1, 0.9)[:, None, None]
        texture = _draw.fractal_noise(rng, (3, height, width), cell=max(height, width) / 3)  # (3, H, W)
        image = base + self.texture * (texture - 0.5)
        mask = np.zeros((height, width), dtype=np.uint8)
        instances = np.zeros((height, width), dtype=np.int32)
        short = min(height, width)
        for k in range(rng.integers(self.objects[0], self.objects[1] + 1)):
            label = int(rng.integers(1, len(CLASSES)))
            r = rng.uniform(*self.radius) * short * EQUAL_AREA[label]  # same area for every class
            cy, cx = rng.uniform(0.5 * r, height - 0.5 * r), rng.uniform(0.5 * r, width - 0.5 * r)
            angle = rng.uniform(0, 2 * np.pi)
            if label == 1:
                drawn = _draw.ellipse_mask((height, width), cy, cx, r, r)
            else:
                sides = 4 if label == 2 else 3
                drawn = _draw.polygon_mask((height, width), _draw.regular_polygon(cy, cx, r, sides, angle))
            colour = _draw.random_colour(rng)
            if drawn is not None:  # a gentle gradient across the object, still independent of class
                ys, xs = np.ogrid[drawn[0][0], drawn[0][1]]
                shade = 1.0 + 0.15 * ((ys - cy) * np.sin(angle) + (xs - cx) * np.cos(angle)) / r
                colour = colour[:, None, None] * shade.astype(np.float32)
            _draw.paint(image, mask, instances, drawn, colour, label, instance=k + 1)
        if self.noise:
            image += self.noise * rng.standard_normal(image.shape, dtype=np.float32)
        return image, mask, instances
