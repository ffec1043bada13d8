"""``street``: a driving scene seen from a car, in one-point perspective.

Geometry in camera heights: a ground point at lateral offset ``X`` and depth ``Z`` appears at
row ``horizon + f / Z`` and column ``vanish + X * f / Z`` with focal length ``f = W`` pixels, so
everything (lanes, kerbs, facades, cars, people) shrinks towards the vanishing point.
Built in lessons/10-applications.
"""
from __future__ import annotations

import numpy as np

from segkit.data import _draw
from segkit._checks import check_number
from segkit.data.base import ProceduralDataset, check_range

CLASSES = ("sky", "building", "vegetation", "sidewalk", "road", "lane_marking", "vehicle", "pedestrian")
SKY, BUILDING, VEGETATION, SIDEWALK, ROAD, LANE, VEHICLE, PEDESTRIAN = range(len(CLASSES))
PALETTE = np.array(
    [[70, 130, 180], [70, 70, 70], [107, 142, 35], [244, 35, 232],
     [128, 64, 128], [255, 255, 255], [0, 0, 142], [220, 20, 60]],
    dtype=np.uint8,
)  # fmt: skip  (Cityscapes colours where the class exists there)
PALETTE.flags.writeable = False


class StreetDataset(ProceduralDataset):
    """Road, lanes, sidewalks, facades, trees, vehicles and pedestrians towards a vanishing point.

    Vehicles and pedestrians are instances. Options:
        vehicles: ``(min, max)`` vehicles per image (default (1, 5)).
        pedestrians: ``(min, max)`` pedestrians per image (default (0, 4)).
        lanes: ``(min, max)`` number of lanes (default (2, 4)).
        noise: Gaussian pixel noise (default 0.03).
    """

    name = "street"
    classes = CLASSES
    palette = PALETTE
    default_size = (96, 128)
    min_size = 32

    defaults = {"vehicles": (1, 5), "pedestrians": (0, 4), "lanes": (2, 4), "noise": 0.03}

    def configure(self, vehicles, pedestrians, lanes, noise) -> None:
        self.vehicles = check_range("vehicles", vehicles, 0, 50, integer=True)
        self.pedestrians = check_range("pedestrians", pedestrians, 0, 50, integer=True)
        self.lanes = check_range("lanes", lanes, 1, 6, integer=True)
        self.noise = check_number(noise, "noise", minimum=0.0, maximum=1.0)

    def generate(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        height, width = self.image_size
        f = float(width)
        horizon = height * rng.uniform(0.36, 0.5)
        vanish = width * rng.uniform(0.38, 0.62)
        lane_w = rng.uniform(2.0, 2.6)
        n_lanes = int(rng.integers(self.lanes[0], self.lanes[1] + 1))
        road_left = -lane_w * rng.uniform(0.5, n_lanes - 0.5)  # the camera drives in one of the lanes
        road_right = road_left + n_lanes * lane_w
        walk_l, walk_r = rng.uniform(1.2, 2.5, 2)
        facade_l, facade_r = -road_left + walk_l, road_right + walk_r  # lateral distance of facades

        ys = np.arange(height, dtype=np.float32)[:, None] + 0.5  # (H, 1)
        xs = np.arange(width, dtype=np.float32)[None, :] + 0.5  # (1, W)
        s = ys - horizon  # pixels below the horizon, (H, 1)
        ground = s > 0.5
        lateral = (xs - vanish) / np.maximum(s, 0.5)  # X of the ground point, (H, W)
        depth = f / np.maximum(s, 0.5)  # Z of the ground row, (H, 1)

        mask = np.full((height, width), SKY, dtype=np.uint8)
        image = self._sky(rng, height, width, horizon)
        # Ground: vegetation beyond the kerbs, sidewalks, road.
        mask[ground[:, 0]] = VEGETATION
        veg = _draw.fractal_noise(rng, (height, width), cell=8)
        _draw.fill(image, ground, np.float32([0.25, 0.45, 0.15])[:, None, None] * (0.6 + 0.8 * veg))
        walk = ground & (lateral > -facade_l) & (lateral < facade_r)
        road = ground & (lateral > road_left) & (lateral < road_right)
        tiles = ((depth * 0.8) % 1.0 < 0.08) | ((lateral * 1.2) % 1.0 < 0.08)
        walk_colour = _draw.random_colour(rng, 0.55, 0.75)
        _draw.fill(image, walk, walk_colour[:, None, None] * np.where(tiles, 0.85, 1.0))
        mask[walk] = SIDEWALK
        grey = rng.uniform(0.25, 0.42)
        road_tex = grey * (0.85 + 0.3 * _draw.smooth_noise(rng, (height, width), cell=4))
        _draw.fill(image, road, road_tex)
        mask[road] = ROAD
        lanes = self._lane_markings(rng, lateral, depth, road_left, lane_w, n_lanes) & road & (s > 1.0)
        _draw.fill(image, lanes, rng.uniform(0.8, 0.95))
        mask[lanes] = LANE
        # Facades and trees on both sides.
        for side, dist in ((-1, facade_l), (1, facade_r)):
            self._side(rng, image, mask, ys, xs, horizon, vanish, f, side, dist)

        instances = np.zeros((height, width), dtype=np.int32)
        objects = self._objects(rng, road_left, road_right, lane_w, n_lanes, facade_l, facade_r)
        for k, (z, kind, x_centre) in enumerate(sorted(objects, reverse=True)):  # far to near
            scale = f / z  # pixels per camera height at this depth
            bottom = horizon + scale
            if kind == VEHICLE:
                self._vehicle(rng, image, mask, instances, bottom, vanish + x_centre * scale, scale, k + 1)
            else:
                self._pedestrian(rng, image, mask, instances, bottom, vanish + x_centre * scale, scale, k + 1)
        if self.noise:
            image += self.noise * rng.standard_normal(image.shape, dtype=np.float32)
        return image, mask, instances

    @staticmethod
    def _sky(rng: np.random.Generator, height: int, width: int, horizon: float) -> np.ndarray:
        top, low = np.array([0.25, 0.45, 0.8], np.float32), np.array([0.7, 0.8, 0.92], np.float32)
        t = np.clip(np.arange(height, dtype=np.float32) / max(horizon, 1.0), 0, 1)[None, :, None]  # (1, H, 1)
        image = np.broadcast_to(top[:, None, None] * (1 - t) + low[:, None, None] * t, (3, height, width)).copy()
        clouds = np.clip(_draw.fractal_noise(rng, (height, width), cell=width / 4) * 2.5 - 1.3, 0, 1)
        clouds = clouds * rng.uniform(0, 1)
        return image * (1 - clouds) + 0.95 * clouds

    @staticmethod
    def _lane_markings(rng, lateral, depth, road_left, lane_w, n_lanes) -> np.ndarray:
        half = 0.07
        dashed = np.zeros(lateral.shape, dtype=bool)
        for k in range(1, n_lanes):
            dashed |= np.abs(lateral - (road_left + k * lane_w)) < half
        dashes = ((depth / rng.uniform(5.0, 8.0) + rng.uniform()) % 1.0) < 0.45  # (H, 1)
        road_right = road_left + n_lanes * lane_w
        edges = (np.abs(lateral - road_left - 0.25) < half) | (np.abs(lateral - road_right + 0.25) < half)
        return (dashed & dashes) | (edges if rng.random() < 0.6 else False)

    @staticmethod
    def _side(rng, image, mask, ys, xs, horizon, vanish, f, side, dist) -> None:
        """Buildings and trees standing on the facade line ``X = side * dist`` along the road."""
        offset = side * (xs - vanish)  # (1, W) pixels away from the vanishing point on this side
        valid = offset > 0.5
        depth = f * dist / np.maximum(offset, 0.5)  # Z of the facade seen in each column, (1, W)
        bottom = horizon + offset / dist  # the facade's foot (the sidewalk's outer edge)
        # Split the street side into blocks along Z; each block is a building, trees or a gap.
        edges = np.cumsum(rng.uniform(4.0, 14.0, 12)) + rng.uniform(-4.0, 2.0)
        block = np.searchsorted(edges, depth)  # (1, W) block index per column
        kinds = rng.choice(3, size=13, p=[0.65, 0.25, 0.1])  # 0 building, 1 trees, 2 gap
        heights = rng.uniform(2.5, 12.0, 13)
        colours = rng.uniform(0.3, 0.75, (13, 3)).astype(np.float32) * rng.uniform(0.7, 1.1, (13, 1)).astype(np.float32)
        kind, tall = kinds[block], heights[block]  # (1, W)
        wobble = 1.0 + 0.35 * (_draw.smooth_noise(rng, (1, xs.shape[1]), cell=3.0) - 0.5)
        tall = np.where(kind == 1, np.minimum(tall, 4.0) * wobble, tall)
        top = horizon - (tall - 1.0) * offset / dist  # (1, W) row of the roof line / canopy
        standing = valid & (ys >= top) & (ys < bottom)  # (H, W)
        height_above = 1.0 - (ys - horizon) * dist / np.maximum(offset, 0.5)  # world height on the facade
        windows = (((height_above / 1.7) % 1.0) > 0.35) & (((depth / 2.2) % 1.0) > 0.4) & (height_above > 0.6)
        building = standing & (kind == 0)
        shade = np.where(windows, 0.45, 1.0) * (0.9 if side < 0 else 1.0)
        colour = np.moveaxis(colours[block[0]], -1, 0)[:, None, :] * shade  # (3, H, W)
        _draw.fill(image, building, colour)
        mask[building] = BUILDING
        trees = standing & (kind == 1)
        leaf = _draw.fractal_noise(rng, trees.shape, cell=3)  # drawn even without trees: same stream
        _draw.fill(image, trees, np.float32([0.15, 0.38, 0.1])[:, None, None] * (0.6 + 0.9 * leaf))
        mask[trees] = VEGETATION

    def _objects(self, rng, road_left, road_right, lane_w, n_lanes, facade_l, facade_r) -> list[tuple]:
        """``(depth, class, lateral offset)`` of every vehicle and pedestrian."""
        objects = []
        for _ in range(rng.integers(self.vehicles[0], self.vehicles[1] + 1)):
            lane = rng.integers(n_lanes)
            depth, lateral = rng.uniform(3.5, 45.0), road_left + (lane + 0.5) * lane_w + rng.uniform(-0.3, 0.3)
            objects.append((depth, VEHICLE, lateral))
        for _ in range(rng.integers(self.pedestrians[0], self.pedestrians[1] + 1)):
            if rng.random() < 0.5:
                x = rng.uniform(-facade_l + 0.3, road_left - 0.2)
            else:
                x = rng.uniform(road_right + 0.2, facade_r - 0.3)
            objects.append((rng.uniform(3.0, 30.0), PEDESTRIAN, x))
        return objects

    @staticmethod
    def _vehicle(rng, image, mask, instances, bottom, centre, scale, instance) -> None:
        """A car (or, one time in five, a van) seen from behind: body, cabin, glass, wheels, lights."""

        def part(drawn, colour):
            _draw.paint(image, mask, instances, drawn, colour, VEHICLE, instance)

        shape = mask.shape
        half_w = scale * rng.uniform(0.55, 0.7)
        tall = scale * (rng.uniform(0.85, 1.05) if rng.random() < 0.8 else rng.uniform(1.6, 2.2))
        colour = _draw.random_colour(rng, 0.05, 0.95)
        body_top = bottom - 0.6 * tall
        part(_draw.rect_mask(shape, body_top, centre - half_w, bottom - 0.12 * scale, centre + half_w), colour)
        cabin = np.array(
            [[body_top, centre - half_w], [bottom - tall, centre - 0.75 * half_w],
             [bottom - tall, centre + 0.75 * half_w], [body_top, centre + half_w]]
        )  # fmt: skip
        part(_draw.polygon_mask(shape, cabin), colour * 0.9)
        inset = np.array([[-0.1, 0.15], [0.08, 0.1], [0.08, -0.1], [-0.1, -0.15]]) * [tall, half_w]
        part(_draw.polygon_mask(shape, cabin + inset), np.float32([0.15, 0.2, 0.25]))  # rear window
        for x0 in (centre - half_w, centre + 0.55 * half_w):
            part(_draw.rect_mask(shape, bottom - 0.2 * scale, x0, bottom, x0 + 0.45 * half_w), np.float32([0.05] * 3))
        for x0 in (centre - 0.9 * half_w, centre + 0.7 * half_w):
            light = _draw.rect_mask(shape, body_top + 0.1 * scale, x0, body_top + 0.2 * scale, x0 + 0.2 * half_w)
            part(light, np.float32([0.9, 0.1, 0.1]))

    @staticmethod
    def _pedestrian(rng, image, mask, instances, bottom, centre, scale, instance) -> None:
        """A person: legs (a rectangle), torso (an ellipse) and head (a circle)."""

        def part(drawn, colour):
            _draw.paint(image, mask, instances, drawn, colour, PEDESTRIAN, instance)

        shape = mask.shape
        tall = scale * rng.uniform(1.0, 1.3)
        half_w, head_r = 0.14 * tall, 0.08 * tall
        clothes, legs = _draw.random_colour(rng, 0.05, 0.9), _draw.random_colour(rng, 0.05, 0.5)
        skin = np.float32([0.85, 0.65, 0.5]) * rng.uniform(0.4, 1.0)
        part(_draw.rect_mask(shape, bottom - 0.48 * tall, centre - 0.8 * half_w, bottom, centre + 0.8 * half_w), legs)
        part(_draw.ellipse_mask(shape, bottom - 0.66 * tall, centre, 0.2 * tall, half_w), clothes)
        part(_draw.ellipse_mask(shape, bottom - tall + head_r, centre, head_r, head_r), skin)
