"""Regenerate the dataset cards' figures (and, on request, the frozen splits).

    python -m segkit.data.cards            # datasets/figures/NAME.png (procedural and real cards)
    python -m segkit.data.cards --frozen   # also rewrite segkit/data/frozen_splits/NAME.npz + NAME.json
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import torch
from matplotlib.figure import Figure

from segkit.assets import datasets_root
from segkit.data.frozen import FROZEN, FROZEN_RECIPES, write_frozen_split


def card_figure(name: str, count: int = 6, seed: int = 0) -> Figure:
    """Sample grid of one card: images on top, masks overlaid below (``name`` as in ``FROZEN``)."""
    from segkit.data import load_dataset
    from segkit.viz import show_samples

    recipe = FROZEN_RECIPES[name]
    ds = load_dataset(recipe["dataset"], "train", count, None, seed, **recipe["options"])
    images, masks = zip(*(ds.sample(i) for i in range(count)))
    panel = 2.0 if ds.image_size[0] <= ds.image_size[1] else 1.6
    images, masks = torch.stack(images), torch.stack(masks)  # (N, 3, H, W), (N, H, W)
    return show_samples(images, masks, palette=ds.palette, classes=ds.classes, overlay_alpha=0.45, panel_size=panel)


def save_small_png(fig: Figure, path: str | Path, dpi: int = 72) -> None:
    """Save ``fig`` as a 256-colour PNG (a few hundred KB at most) for committing."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    rgb = Image.open(buffer).convert("RGB")
    rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def write_figures(directory: str | Path | None = None, dpi: int = 72) -> tuple[list[Path], list[str]]:
    """Write ``NAME.png`` for every card into ``directory`` (default ``datasets/figures``).

    Returns ``(written, skipped)``: the real samples' figures are skipped when their files are not
    fetched (``python -m segkit.data.samples fetch``).
    """
    from segkit.data import real_figures

    directory = Path(directory) if directory is not None else datasets_root() / "figures"
    directory.mkdir(parents=True, exist_ok=True)
    paths, skipped = [], []
    for name in FROZEN:
        path = directory / f"{name}.png"
        save_small_png(card_figure(name), path, dpi)
        paths.append(path)
    for name in real_figures.REAL_CARDS:
        if not real_figures.available(name):
            skipped.append(name)
            continue
        path = directory / f"{name}.png"
        save_small_png(real_figures.FIGURES[name](), path, dpi)
        paths.append(path)
    return paths, skipped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frozen", action="store_true", help="also rewrite the frozen evaluation splits")
    args = parser.parse_args(argv)
    written, skipped = write_figures()
    for path in written:
        print(f"wrote {path}")
    for name in skipped:
        print(f"skipped {name}: its real sample is not fetched (python -m segkit.data.samples fetch)")
    if args.frozen:
        for name in FROZEN:
            print(f"wrote {write_frozen_split(name)}")


if __name__ == "__main__":
    main()
