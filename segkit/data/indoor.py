"""``indoor``: a mobile robot's forward camera in a room: floor (free space), walls, obstacles.

One-point perspective with the camera one unit above the floor: a floor point at lateral offset
``X`` and depth ``Z`` appears at row ``vanish_y + f / Z`` and column ``vanish_x + f * X / Z``.
Obstacles (boxes, cylinders, balls) stand on the floor and are instances; the floor class is the
free space a robot may drive into. Built in lessons/10-applications.
"""
from __future__ import annotations

import numpy as np

from segkit.data import _draw
from segkit._checks import check_number
from segkit.data.base import ProceduralDataset, check_range

CLASSES = ("floor", "wall", "obstacle")
FLOOR, WALL, OBSTACLE = range(len(CLASSES))
PALETTE = np.array([[60, 180, 75], [150, 150, 160], [230, 25, 75]], dtype=np.uint8)
PALETTE.flags.writeable = False


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Vertices ``(K, 2)`` of the convex hull of ``points`` ``(N, 2)`` (monotone chain)."""
    pts = sorted(map(tuple, points))

    def turns_left(a, b, c) -> bool:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) > 0

    def half(seq):
        out: list[tuple[float, float]] = []
        for p in seq:
            while len(out) >= 2 and not turns_left(out[-2], out[-1], p):
                out.pop()
            out.append(p)
        return out[:-1]

    return np.array(half(pts) + half(pts[::-1]))


class IndoorDataset(ProceduralDataset):
    """A room seen from a low robot camera: textured floor, two side walls and a back wall, obstacles.

    Options:
        obstacles: ``(min, max)`` obstacles per image (default (1, 5)).
        noise: Gaussian pixel noise (default 0.03).
    """

    name = "indoor"
    classes = CLASSES
    palette = PALETTE
    default_size = (96, 128)
    min_size = 32

    defaults = {"obstacles": (1, 5), "noise": 0.03}

    def configure(self, obstacles, noise) -> None:
        self.obstacles = check_range("obstacles", obstacles, 0, 50, integer=True)
        self.noise = check_number(noise, "noise", minimum=0.0, maximum=1.0)

    def generate(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        height, width = self.image_size
        shape = (height, width)
        f = 0.8 * width
        vy, vx = height * rng.uniform(0.15, 0.4), width * rng.uniform(0.3, 0.7)
        left, right, back = rng.uniform(1.5, 6.0), rng.uniform(1.5, 6.0), rng.uniform(8.0, 30.0)
        ys = np.arange(height, dtype=np.float32)[:, None] + 0.5  # (H, 1)
        xs = np.arange(width, dtype=np.float32)[None, :] + 0.5  # (1, W)
        below = np.maximum(ys - vy, 0.5)
        lateral = (xs - vx) / below  # X of the floor point seen at each pixel, (H, W)
        depth = f / below  # Z of the floor row, (H, 1)
        floor = (ys > vy + f / back) & (lateral > -left) & (lateral < right)  # (H, W)

        # Walls: side walls are planes X = -left / X = right, the back wall Z = back.
        grain = _draw.fractal_noise(rng, shape, cell=6.0, octaves=2)
        paint = _draw.random_colour(rng, 0.45, 0.9)
        side = np.where(xs < vx, np.float32(0.8), np.float32(0.95))  # the left wall is in shadow, (1, W)
        image = paint[:, None, None] * (side * (0.92 + 0.12 * grain))[None]  # (3, H, W)
        back_x0, back_x1 = vx - f * left / back, vx + f * right / back
        on_back = (xs > back_x0) & (xs < back_x1)
        image *= np.where(on_back, np.float32(1.05), np.float32(1.0))
        wall_depth = np.where(xs < vx, f * left / np.maximum(vx - xs, 0.5), f * right / np.maximum(xs - vx, 0.5))
        wall_depth = np.where(on_back, back, wall_depth)  # (1, W) depth of the wall in each column
        foot = vy + f / wall_depth  # row where the wall meets the floor
        skirting = (ys < foot) & (ys > foot - 0.12 * f / wall_depth)
        image *= np.where(skirting, np.float32(0.6), np.float32(1.0))
        mask = np.full(shape, WALL, dtype=np.uint8)
        # Floor: tiles, planks or carpet.
        floor_colour = _draw.random_colour(rng, 0.3, 0.85)
        pattern = rng.integers(3)
        if pattern == 0:  # tiles
            size = rng.uniform(0.6, 1.5)
            lines = ((lateral / size) % 1.0 < 0.06) | ((depth / size) % 1.0 < 0.06)
            tex = np.where(lines, 0.7, 1.0) * (0.95 + 0.1 * grain)
        elif pattern == 1:  # planks along the depth axis
            plank = np.floor(lateral / rng.uniform(0.3, 0.6))
            tex = 0.85 + 0.3 * ((plank * 0.6180339) % 1.0) * (0.8 + 0.2 * grain)
        else:  # carpet
            tex = 0.8 + 0.4 * grain
        _draw.fill(image, floor, floor_colour[:, None, None] * tex)
        mask[floor] = FLOOR

        instances = np.zeros(shape, dtype=np.int32)
        items = [
            (rng.uniform(1.5, back - 1.0), rng.uniform(-left + 0.5, right - 0.5), int(rng.integers(3)))
            for _ in range(rng.integers(self.obstacles[0], self.obstacles[1] + 1))
        ]
        for k, (z, x, kind) in enumerate(sorted(items, reverse=True)):  # far to near
            self._obstacle(rng, image, mask, instances, f, vy, vx, z, x, kind, k + 1)
        if self.noise:
            image += self.noise * rng.standard_normal(image.shape, dtype=np.float32)
        return image, mask, instances

    @staticmethod
    def _obstacle(rng, image, mask, instances, f, vy, vx, z, x, kind, instance) -> None:
        shape = mask.shape
        colour = _draw.random_colour(rng, 0.05, 0.95)
        scale = f / z  # pixels per camera height at depth z
        size = rng.uniform(0.3, 1.0)  # half width
        shadow = _draw.ellipse_mask(shape, vy + scale, vx + x * scale, 0.25 * size * scale, 1.2 * size * scale)
        if shadow is not None:  # a soft contact shadow darkens the floor without changing its class
            region = image[:, shadow[0][0], shadow[0][1]]
            region[:, shadow[1] & (mask[shadow[0]] == FLOOR)] *= 0.7
        if kind == 0:  # box: silhouette of the projected cuboid, front face lighter
            tall, deep = rng.uniform(0.4, 2.5), rng.uniform(0.3, 1.5)
            corners = np.array(  # (8, 3) as (Z, X, height above the floor)
                [[zz, xx, hh] for zz in (z, z + deep) for xx in (x - size, x + size) for hh in (0.0, tall)]
            )
            rows = vy + f * (1.0 - corners[:, 2]) / corners[:, 0]
            cols = vx + f * corners[:, 1] / corners[:, 0]
            hull = _convex_hull(np.stack([rows, cols], axis=1))
            _draw.paint(image, mask, instances, _draw.polygon_mask(shape, hull), colour * 0.7, OBSTACLE, instance)
            left, right = vx + (x - size) * scale, vx + (x + size) * scale
            front = _draw.rect_mask(shape, vy + scale * (1.0 - tall), left, vy + scale, right)
            _draw.paint(image, mask, instances, front, colour, OBSTACLE, instance)
        elif kind == 1:  # cylinder: a rectangle with elliptic ends
            tall = rng.uniform(0.4, 2.0)
            cx, rx = vx + x * scale, size * scale
            ry = f * size / z**2  # a horizontal circle seen from one unit above the floor
            bottom, top = vy + scale, vy + scale * (1.0 - tall)
            body = _draw.rect_mask(shape, top, cx - rx, bottom, cx + rx)
            _draw.paint(image, mask, instances, body, colour, OBSTACLE, instance)
            foot = _draw.ellipse_mask(shape, bottom, cx, ry + 0.5, rx)
            _draw.paint(image, mask, instances, foot, colour, OBSTACLE, instance)
            lid = _draw.ellipse_mask(shape, top, cx, ry * abs(1.0 - tall) + 0.5, rx)
            _draw.paint(image, mask, instances, lid, colour * (0.7 if tall < 1.0 else 1.0), OBSTACLE, instance)
        else:  # ball resting on the floor
            radius = min(size, 0.9)
            centre_y = vy + f * (1.0 - radius) / z
            drawn = _draw.ellipse_mask(shape, centre_y, vx + x * scale, radius * scale, radius * scale)
            if drawn is not None:
                ys, xs = np.ogrid[drawn[0][0], drawn[0][1]]
                r = radius * scale  # lit from the upper left
                light = 1.1 - 0.5 * np.hypot(ys - centre_y + 0.4 * r, xs - vx - x * scale + 0.4 * r) / r
                shaded = colour[:, None, None] * light.astype(np.float32)
                _draw.paint(image, mask, instances, drawn, shaded, OBSTACLE, instance)
