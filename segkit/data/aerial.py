"""``aerial``: satellite-like land-cover tiles with water, vegetation, roads and buildings.

The ground resolution is fixed (about one metre per pixel), so a larger tile shows more land
rather than bigger objects: a 1024x1024 tile holds many roads and dozens of buildings, the
setting for sliding-window inference. Built in lessons/10-applications.
"""
from __future__ import annotations

import numpy as np

from segkit.data import _draw
from segkit._checks import check_number
from segkit.data.base import ProceduralDataset, check_range

CLASSES = ("bare_soil", "vegetation", "water", "road", "building")
SOIL, VEGETATION, WATER, ROAD, BUILDING = range(len(CLASSES))
PALETTE = np.array([[210, 180, 140], [34, 139, 34], [30, 144, 255], [128, 128, 128], [220, 20, 60]], dtype=np.uint8)
PALETTE.flags.writeable = False
ROOFS = np.array(
    [[0.55, 0.25, 0.2], [0.6, 0.6, 0.6], [0.35, 0.35, 0.4], [0.75, 0.7, 0.65], [0.45, 0.3, 0.25]], np.float32
)  # roof colours


class AerialDataset(ProceduralDataset):
    """Top-down land cover: bare soil, vegetation, water (rivers, lakes), roads, buildings (instances).

    Options:
        vegetation: ``(min, max)`` share of the land covered by vegetation (default (0.2, 0.6)).
        water: probability of a river and, separately, of lakes (default 0.5).
        roads: mean number of roads per 256 pixels of tile side (default 1.5).
        buildings: mean buildings per 100 pixels of road (default 4.0).
        noise: Gaussian pixel noise (default 0.03).
    """

    name = "aerial"
    classes = CLASSES
    palette = PALETTE
    default_size = (256, 256)
    min_size = 64

    defaults = {"vegetation": (0.2, 0.6), "water": 0.5, "roads": 1.5, "buildings": 4.0, "noise": 0.03}

    def configure(self, vegetation, water, roads, buildings, noise) -> None:
        self.vegetation = check_range("vegetation", vegetation, 0.0, 1.0)
        self.water = check_number(water, "water", minimum=0.0, maximum=1.0)
        self.roads = check_number(roads, "roads", minimum=0.0, maximum=20.0)
        self.buildings = check_number(buildings, "buildings", minimum=0.0, maximum=20.0)
        self.noise = check_number(noise, "noise", minimum=0.0, maximum=1.0)

    def generate(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        height, width = self.image_size
        shape = (height, width)
        ys = np.arange(height, dtype=np.float32)[:, None]  # (H, 1)
        xs = np.arange(width, dtype=np.float32)[None, :]  # (1, W)
        grain = _draw.fractal_noise(rng, shape, cell=6.0, octaves=2)  # fine texture shared by all surfaces
        # Bare soil everywhere, then vegetation where a smooth field is high.
        soil = _draw.random_colour(rng, 0.5, 0.7) * np.float32([1.0, 0.85, 0.65])
        image = soil[:, None, None] * (0.8 + 0.4 * grain)  # (3, H, W)
        mask = np.full(shape, SOIL, dtype=np.uint8)
        field = _draw.fractal_noise(rng, shape, cell=96.0)
        veg = field > np.quantile(field[::4, ::4], 1.0 - rng.uniform(*self.vegetation))  # subsampled: faster
        green = np.float32([0.18, 0.38, 0.12]) * rng.uniform(0.8, 1.2)
        _draw.fill(image, veg, green[:, None, None] * (0.6 + 0.8 * grain))
        mask[veg] = VEGETATION
        # Water: a meandering river and/or lakes.
        water = np.zeros(shape, dtype=bool)
        if rng.random() < self.water:
            angle = rng.uniform(0, np.pi)
            dy, dx = ys - height / 2, xs - width / 2
            along = dx * np.cos(angle) + dy * np.sin(angle)  # (H, W) coordinates in the river's frame
            across = -dx * np.sin(angle) + dy * np.cos(angle) - rng.uniform(-0.3, 0.3) * min(shape)
            wave = rng.uniform(10, 40) * np.sin(along / rng.uniform(40, 120) + rng.uniform(0, 2 * np.pi))
            centre = across - wave
            water |= np.abs(centre) < rng.uniform(5, 18)
        if rng.random() < self.water:
            lakes = _draw.smooth_noise(rng, shape, cell=80.0)
            water |= lakes > rng.uniform(0.8, 0.9)
        blue = np.float32([0.1, 0.25, 0.35]) * rng.uniform(0.7, 1.2)
        _draw.fill(image, water, blue[:, None, None] * (0.9 + 0.2 * grain))
        mask[water] = WATER
        # Roads: straight bands across the tile (bridges over water), buildings along them.
        instances = np.zeros(shape, dtype=np.int32)
        count = rng.poisson(self.roads * (height + width) / 512)
        asphalt = np.float32([0.42, 0.42, 0.44]) * rng.uniform(0.8, 1.2)
        roads = []
        for _ in range(count):
            angle = rng.uniform(0, np.pi) if rng.random() < 0.5 else rng.choice([0.0, np.pi / 2]) + rng.normal(0, 0.05)
            normal = np.array([np.cos(angle), np.sin(angle)])  # (y, x) unit normal
            point = rng.uniform([0, 0], shape)
            half = rng.uniform(2.5, 5.0)
            dist = (ys - point[0]) * normal[0] + (xs - point[1]) * normal[1]  # signed distance, (H, W)
            road = np.abs(dist) < half
            _draw.fill(image, road, asphalt[:, None, None] * (0.9 + 0.2 * grain))
            mask[road] = ROAD
            roads.append((point, normal, half))
        next_id = 1
        for point, normal, half in roads:
            next_id = self._buildings(rng, image, mask, instances, point, normal, half, next_id)
        if self.noise:
            image += self.noise * rng.standard_normal(image.shape, dtype=np.float32)
        return image, mask, instances

    def _buildings(self, rng, image, mask, instances, point, normal, half, next_id: int) -> int:
        """Rectangular buildings lined up on both sides of one road, facing it; returns the next free id."""
        shape = mask.shape
        direction = np.array([-normal[1], normal[0]])
        length = float(np.hypot(*shape))
        n = rng.poisson(self.buildings * length / 100)
        for t in rng.uniform(-length / 2, length / 2, n):
            side = rng.choice([-1.0, 1.0])
            depth, front = rng.uniform(4, 11), rng.uniform(4, 13)  # half sizes
            centre = point + t * direction + side * (half + rng.uniform(2, 8) + depth) * normal
            corners = np.array([[-1, -1], [-1, 1], [1, 1], [1, -1]], dtype=float) * [depth, front]
            vertices = centre + corners[:, :1] * normal + corners[:, 1:] * direction  # (4, 2) as (y, x)
            drawn = _draw.polygon_mask(shape, vertices)
            if drawn is None:
                continue
            box, inside = drawn
            if not inside.any() or np.isin(mask[box][inside], (WATER, ROAD, BUILDING)).any():
                continue
            shadow = _draw.polygon_mask(shape, vertices + [2.5, 2.5])
            if shadow is not None:
                region = image[:, shadow[0][0], shadow[0][1]]
                region[:, shadow[1]] *= 0.55  # shadows darken the ground but do not change its class
            roof = ROOFS[rng.integers(len(ROOFS))] * rng.uniform(0.85, 1.15)
            _draw.paint(image, mask, instances, drawn, roof, BUILDING, next_id)
            next_id += 1
        return next_id
