"""Vectorised numpy drawing helpers shared by the procedural generators.

Conventions: images are float32 ``(3, H, W)`` arrays in [0, 1]; masks and instance maps are
``(H, W)`` integer arrays. Every ``fill_*`` function paints only inside the shape's bounding box,
so drawing a small object on a large canvas stays cheap.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=64)
def _interp_weights(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Left neighbour index (int64) and smooth-step weight (float32) of ``n_out`` points on ``n_in`` knots."""
    pos = np.linspace(0.0, n_in - 1.0, n_out)
    i0 = np.minimum(pos.astype(np.int64), n_in - 2)
    frac = pos - i0
    frac = (frac * frac * (3.0 - 2.0 * frac)).astype(np.float32)  # smooth step hides the grid
    i0.flags.writeable = frac.flags.writeable = False
    return i0, frac


def _upsample(grid: np.ndarray, height: int, width: int) -> np.ndarray:
    """Separable smooth-step interpolation of ``(..., gh, gw)`` knots to ``(..., H, W)``.

    Plain gathers and multiply-adds rather than a matrix product, so no BLAS threads are started
    (they fight over the cores when several DataLoader workers generate at once).
    """
    iy, fy = _interp_weights(height, grid.shape[-2])
    rows = grid[..., iy, :] * (1.0 - fy[:, None]) + grid[..., iy + 1, :] * fy[:, None]  # (..., H, gw)
    ix, fx = _interp_weights(width, grid.shape[-1])
    return rows[..., ix] * (1.0 - fx) + rows[..., ix + 1] * fx  # (..., H, W)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], cell: float) -> np.ndarray:
    """Smooth random field in [0, 1], float32 ``shape = (..., H, W)``.

    ``cell`` is the feature size in pixels: a random grid of about ``H / cell`` by ``W / cell``
    values is interpolated up to ``(H, W)``.
    """
    *lead, height, width = shape
    gh, gw = max(2, round(height / cell) + 2), max(2, round(width / cell) + 2)
    grid = rng.random((*lead, gh, gw), dtype=np.float32)  # (..., gh, gw)
    return _upsample(grid, height, width)


def fractal_noise(rng: np.random.Generator, shape: tuple[int, ...], cell: float, octaves: int = 3) -> np.ndarray:
    """Sum of ``octaves`` smooth noises, each half the size and weight of the last; float32 in [0, 1]."""
    total = np.zeros(shape, dtype=np.float32)
    weight, norm = 1.0, 0.0
    for _ in range(octaves):
        total += weight * smooth_noise(rng, shape, max(cell, 1.0))
        norm += weight
        cell, weight = cell / 2.0, weight / 2.0
    return total / norm


def blur(image: np.ndarray, passes: int = 1) -> np.ndarray:
    """Separable [1, 2, 1] / 4 blur over the last two axes, repeated ``passes`` times (edge padded)."""
    out = image
    for _ in range(passes):
        p = np.pad(out, [(0, 0)] * (out.ndim - 2) + [(1, 1), (1, 1)], mode="edge")
        p = (p[..., :-2, :] + 2.0 * p[..., 1:-1, :] + p[..., 2:, :]) * 0.25
        out = (p[..., :, :-2] + 2.0 * p[..., :, 1:-1] + p[..., :, 2:]) * 0.25
    return out.astype(np.float32, copy=False)


def random_colour(rng: np.random.Generator, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """A random RGB colour, float32 ``(3,)`` with channels uniform in ``[low, high)``."""
    return rng.uniform(low, high, 3).astype(np.float32)


def bbox(cy: float, cx: float, ry: float, rx: float, height: int, width: int) -> tuple[slice, slice] | None:
    """Pixel slices covering ``[cy - ry, cy + ry] x [cx - rx, cx + rx]`` clipped to the canvas, or None."""
    y0, y1 = max(int(np.floor(cy - ry)), 0), min(int(np.ceil(cy + ry)) + 1, height)
    x0, x1 = max(int(np.floor(cx - rx)), 0), min(int(np.ceil(cx + rx)) + 1, width)
    if y0 >= y1 or x0 >= x1:
        return None
    return slice(y0, y1), slice(x0, x1)


def _grid(box: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates of a box, ``(h, 1)`` and ``(1, w)`` float32 arrays."""
    ys = np.arange(box[0].start, box[0].stop, dtype=np.float32)[:, None]
    xs = np.arange(box[1].start, box[1].stop, dtype=np.float32)[None, :]
    return ys, xs


def ellipse_mask(
    shape: tuple[int, int],
    cy: float,
    cx: float,
    ry: float,
    rx: float,
    angle: float = 0.0,
    wobble: np.ndarray | None = None,
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """Boolean mask of a (rotated, optionally wobbly) ellipse within its bounding box.

    Args:
        shape: canvas ``(H, W)``.
        cy, cx: centre in pixels; ry, rx: semi-axes before rotation; angle: radians.
        wobble: optional ``(K, 3)`` rows of (amplitude, frequency, phase); the radius becomes
            ``1 + sum(a * cos(f * theta + phase))`` so outlines look less perfect.

    Returns:
        ``(box, inside)`` with ``inside`` a bool ``(h, w)`` array for the slices ``box``, or None
        when the ellipse lies off the canvas.
    """
    reach = max(ry, rx) * (1.0 + (0.0 if wobble is None else float(np.abs(wobble[:, 0]).sum())))
    box = bbox(cy, cx, reach, reach, *shape)
    if box is None:
        return None
    ys, xs = _grid(box)
    dy, dx = ys - cy, xs - cx
    cos, sin = np.cos(angle), np.sin(angle)
    u = (dx * cos + dy * sin) / rx
    v = (-dx * sin + dy * cos) / ry
    radius2 = u * u + v * v
    if wobble is None:
        return box, radius2 <= 1.0
    theta = np.arctan2(v, u)
    limit = 1.0 + sum(a * np.cos(f * theta + p) for a, f, p in wobble)
    return box, radius2 <= limit * limit


def polygon_mask(shape: tuple[int, int], vertices: np.ndarray) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """Boolean mask of a convex polygon, ``vertices`` float ``(K, 2)`` as (y, x) in either winding."""
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    centre, half = (lo + hi) / 2.0, (hi - lo) / 2.0
    box = bbox(centre[0], centre[1], half[0], half[1], *shape)
    if box is None:
        return None
    ys, xs = _grid(box)
    nxt = np.roll(vertices, -1, axis=0)
    # Sign of the cross product edge x (pixel - vertex) for every edge: (K, h, w).
    cross = (nxt[:, 1] - vertices[:, 1])[:, None, None] * (ys - vertices[:, 0, None, None]) - (
        nxt[:, 0] - vertices[:, 0]
    )[:, None, None] * (xs - vertices[:, 1, None, None])
    inside = (cross >= 0).all(axis=0) | (cross <= 0).all(axis=0)
    return box, inside


def regular_polygon(cy: float, cx: float, radius: float, sides: int, angle: float) -> np.ndarray:
    """Vertices ``(sides, 2)`` as (y, x) of a regular polygon with circumradius ``radius``."""
    theta = angle + 2.0 * np.pi * np.arange(sides) / sides
    return np.stack([cy + radius * np.sin(theta), cx + radius * np.cos(theta)], axis=1)


def paint(
    image: np.ndarray,
    mask: np.ndarray,
    instances: np.ndarray,
    drawn: tuple[tuple[slice, slice], np.ndarray] | None,
    colour: np.ndarray | float,
    label: int,
    instance: int = 0,
) -> bool:
    """Paint a shape into image, semantic mask and instance map at once (later shapes cover earlier).

    ``colour`` is ``(3,)`` or an array ``(3, h, w)`` matching the shape's box. Painting with
    ``instance=0`` clears instance ids under the shape, so every instance id keeps one class.
    Returns False when there was nothing to paint.
    """
    if drawn is None:
        return False
    box, inside = drawn
    if not inside.any():
        return False
    colour = np.asarray(colour, dtype=np.float32)
    region = image[:, box[0], box[1]]  # (3, h, w) view
    if colour.ndim == 3:
        region[:, inside] = colour[:, inside]
    else:
        region[:, inside] = colour.reshape(-1, 1)
    mask[box][inside] = label
    instances[box][inside] = instance
    return True


def rect_mask(
    shape: tuple[int, int], y0: float, x0: float, y1: float, x1: float
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """Boolean mask of the axis-aligned rectangle covering pixel centres in ``[y0, y1) x [x0, x1)``."""
    ya, yb = max(int(np.ceil(y0 - 0.5)), 0), min(int(np.ceil(y1 - 0.5)), shape[0])
    xa, xb = max(int(np.ceil(x0 - 0.5)), 0), min(int(np.ceil(x1 - 0.5)), shape[1])
    if ya >= yb or xa >= xb:
        return None
    return (slice(ya, yb), slice(xa, xb)), np.ones((yb - ya, xb - xa), dtype=bool)


def fill(image: np.ndarray, where: np.ndarray, colour: np.ndarray | float) -> None:
    """Set ``image`` ``(3, H, W)`` to ``colour`` where the bool ``where`` (``(H, W)`` or broadcastable) holds.

    ``colour`` broadcasts against the image: a scalar, ``(3, 1, 1)``, ``(H, W)`` or ``(3, H, W)``.
    """
    np.copyto(image, np.asarray(colour, dtype=np.float32), where=where, casting="unsafe")
