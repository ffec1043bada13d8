"""Pictures of segmentation data: colourised masks, overlays, sample grids, panels, confusion matrices, curves.

Every plotting function returns a ``matplotlib.figure.Figure`` that is already closed in pyplot:
a notebook shows it once when it is the cell's last value, and loops that make many figures do
not pile them up. Inputs may be torch tensors or numpy arrays. Built in lessons/01-pixels-and-labels.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from segkit._checks import check_number, positive_int

IGNORE_COLOUR = np.array([128, 128, 128], dtype=np.uint8)  # grey for ignore_index pixels


def _numpy(x: Any, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except Exception as err:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name} must be a torch tensor or numpy array, got {type(x).__name__}") from err


def _palette(palette: Any) -> np.ndarray:
    pal = _numpy(palette, "palette")
    if pal.ndim != 2 or pal.shape[1] != 3:
        raise ValueError(f"palette must have shape (C, 3), got {pal.shape}")
    if pal.dtype.kind == "f":
        pal = np.clip(pal * 255.0 if pal.max() <= 1.0 else pal, 0, 255).round()
    return pal.astype(np.uint8)


def default_palette(num_classes: int) -> np.ndarray:
    """A distinct colour per class, uint8 ``(num_classes, 3)``, from matplotlib's tab20 (class 0 black)."""
    from matplotlib import colormaps

    colours = colormaps["tab20"](np.arange(max(num_classes, 1)) % 20)[:, :3]
    pal = (colours * 255).round().astype(np.uint8)
    pal[0] = 0
    return pal[:num_classes]


def _image_hwc(image: Any) -> np.ndarray:
    """Image as float ``(H, W, 3)`` in [0, 1] from ``(3, H, W)``/``(H, W, 3)``/``(H, W)``, float or uint8."""
    img = _numpy(image, "image")
    channels_first = img.ndim == 3 and img.shape[0] in (1, 3)
    if channels_first and (img.shape[-1] not in (1, 3) or isinstance(image, torch.Tensor)):
        img = np.moveaxis(img, 0, -1)  # (H, W, C); tensors are channels-first when ambiguous
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3 or img.shape[-1] not in (1, 3):
        shape = tuple(_numpy(image, "image").shape)
        raise ValueError(f"image must have shape (3, H, W), (H, W, 3) or (H, W), got {shape}")
    img = img.astype(np.float64) / 255.0 if img.dtype == np.uint8 else img.astype(np.float64)
    return np.clip(np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img, 0.0, 1.0)


def colorize(mask: Any, palette: Any, ignore_index: int | None = 255) -> np.ndarray:
    """Colour a label mask.

    Args:
        mask: integer ``(H, W)`` labels in ``[0, C)``, or ``ignore_index``.
        palette: ``(C, 3)`` colours, uint8 or float in [0, 1].
        ignore_index: label drawn grey (``IGNORE_COLOUR``); None to treat it as an error.

    Returns:
        uint8 ``(H, W, 3)``.

    Raises:
        ValueError: a label outside ``[0, C)`` that is not ``ignore_index``, or a non-2D mask.
    """
    m = _numpy(mask, "mask")
    if m.ndim != 2:
        raise ValueError(f"mask must have shape (H, W), got {m.shape}")
    if m.dtype.kind not in "iub":
        raise TypeError(f"mask must hold integer labels, got dtype {m.dtype}")
    pal = _palette(palette)
    m = m.astype(np.int64)
    ignored = (m == ignore_index) if ignore_index is not None else np.zeros(m.shape, dtype=bool)
    bad = ((m < 0) | (m >= len(pal))) & ~ignored
    if bad.any():
        raise ValueError(
            f"mask holds labels {np.unique(m[bad])[:5].tolist()} outside [0, {len(pal)}) for a palette of "
            f"{len(pal)} colours (ignore_index={ignore_index})"
        )
    out = pal[np.where(ignored, 0, m)]  # (H, W, 3)
    out[ignored] = IGNORE_COLOUR
    return out


def overlay(image: Any, mask: Any, palette: Any, alpha: float = 0.5, ignore_index: int | None = 255) -> np.ndarray:
    """Blend a colourised mask over an image: ``(1 - alpha) * image + alpha * colours``.

    Args:
        image: ``(3, H, W)`` or ``(H, W, 3)``, float in [0, 1] or uint8.
        mask: integer ``(H, W)``; ``ignore_index`` pixels keep the plain image.
        palette: ``(C, 3)`` colours.
        alpha: mask opacity in [0, 1].

    Returns:
        float64 ``(H, W, 3)`` in [0, 1].
    """
    alpha = check_number(alpha, "alpha", minimum=0, maximum=1)
    img = _image_hwc(image)
    colours = colorize(mask, palette, ignore_index).astype(np.float64) / 255.0
    if img.shape[:2] != colours.shape[:2]:
        raise ValueError(f"image {img.shape[:2]} and mask {colours.shape[:2]} must have the same height and width")
    out = (1.0 - alpha) * img + alpha * colours
    if ignore_index is not None:
        keep = _numpy(mask, "mask") == ignore_index
        out[keep] = img[keep]
    return out


def legend_patches(classes: Sequence[str], palette: Any) -> list[Patch]:
    """One coloured ``matplotlib.patches.Patch`` per class, for ``fig.legend(handles=...)``."""
    pal = _palette(palette)
    if len(classes) != len(pal):
        raise ValueError(f"got {len(classes)} class names but {len(pal)} palette colours")
    return [
        Patch(facecolor=pal[i] / 255.0, edgecolor="black", linewidth=0.5, label=name) for i, name in enumerate(classes)
    ]


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A pyplot-managed Figure, closed at once so it is shown only when returned or displayed."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize)
    plt.close(fig)
    return fig


def _batch(x: Any, name: str) -> list[np.ndarray]:
    if isinstance(x, (list, tuple)):
        return [_numpy(item, name) for item in x]
    return list(_numpy(x, name))


def show_samples(
    images: Any,
    masks: Any,
    preds: Any = None,
    palette: Any = None,
    classes: Sequence[str] | None = None,
    ncols: int | None = None,
    overlay_alpha: float | None = None,
    ignore_index: int | None = 255,
    titles: Sequence[str] | None = None,
    panel_size: float = 2.0,
) -> Figure:
    """Grid of samples: one column per sample, rows image / truth / prediction, with a class legend.

    Args:
        images: ``(N, 3, H, W)`` tensor/array or a list of images.
        masks: ``(N, H, W)`` ground-truth labels (or a list).
        preds: optional ``(N, H, W)`` predicted labels, drawn as a third row.
        palette: ``(C, 3)`` colours; default from :func:`default_palette`.
        classes: class names for the legend; default "0", "1", ...
        ncols: samples per row block (default all, at most 8); more samples wrap to new blocks.
        overlay_alpha: if set, masks are drawn over their image with this opacity.
        titles: optional one title per sample.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    imgs, gts = _batch(images, "images"), _batch(masks, "masks")
    prs = None if preds is None else _batch(preds, "preds")
    if len(imgs) != len(gts) or (prs is not None and len(prs) != len(imgs)) or not imgs:
        raise ValueError(
            f"need the same non-zero number of images ({len(imgs)}), masks ({len(gts)})"
            + ("" if prs is None else f" and preds ({len(prs)})")
        )
    if palette is None:
        top = max(int(np.max(m[m != ignore_index])) if (m != ignore_index).any() else 0 for m in gts + (prs or []))
        palette = default_palette(max(top + 1, len(classes) if classes else 0))
    pal = _palette(palette)
    classes = list(classes) if classes is not None else [str(i) for i in range(len(pal))]
    n = len(imgs)
    ncols = min(n, 8) if ncols is None else positive_int(ncols, "ncols")
    rows_per = 2 if prs is None else 3
    blocks = math.ceil(n / ncols)
    legend_in = 0.25 * math.ceil(len(classes) / 6) + 0.15  # inches kept free for the legend
    height, width = _image_hwc(imgs[0]).shape[:2]
    panel_height = panel_size * height / width  # rows sized by the images' aspect ratio
    fig = new_figure((panel_size * ncols + 0.6, panel_height * rows_per * blocks + legend_in + 0.2))
    axes = fig.subplots(rows_per * blocks, ncols, squeeze=False)
    labels = ["image", "truth", "prediction"]
    for ax in axes.flat:
        ax.set_axis_off()
    for i in range(n):
        block, col = divmod(i, ncols)
        panels = [_image_hwc(imgs[i])]
        for m in [gts[i]] + ([] if prs is None else [prs[i]]):
            if overlay_alpha is None:
                panels.append(colorize(m, pal, ignore_index))
            else:
                panels.append(overlay(imgs[i], m, pal, overlay_alpha, ignore_index))
        for r, panel in enumerate(panels):
            ax = axes[block * rows_per + r, col]
            ax.imshow(panel, interpolation="nearest")
            ax.set_axis_on()
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(labels[r])
            if r == 0 and titles is not None:
                ax.set_title(titles[i], fontsize=9)
    handles = legend_patches(classes, pal)
    fig.legend(handles=handles, loc="lower center", ncol=min(len(classes), 6), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, legend_in / fig.get_figheight(), 1, 1))
    return fig


def show_panels(panels: Sequence[Any], titles: Sequence[str] | None = None, size: float = 2.6) -> Figure:
    """One row of pictures with titles: images, colourised masks, instance maps, probability maps.

    Args:
        panels: each a tensor ``(3, H, W)`` (an image, channels first), an array ``(H, W, 3)``
            (e.g. from :func:`colorize`) or a map ``(H, W)`` (drawn with matplotlib's default
            colour map), tensor or array; they may differ in size.
        titles: one per panel (default: none).
        size: inches per panel.

    Returns:
        A closed ``Figure``: the cell's last value shows it (``display(fig)`` elsewhere).
        Built in lessons/08-semantic-vs-instance, used again in lessons/11-pretrained-and-deployment.
    """
    if not len(panels):
        raise ValueError("show_panels needs at least one panel")
    if titles is not None and len(titles) != len(panels):
        raise ValueError(f"got {len(panels)} panels but {len(titles)} titles")
    fig = new_figure((size * len(panels), size))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for k, (ax, panel) in enumerate(zip(axes, panels)):
        if isinstance(panel, torch.Tensor):
            panel = panel.detach().cpu()
            panel = panel.permute(1, 2, 0) if panel.dim() == 3 else panel  # (H, W, 3)
        ax.imshow(np.asarray(panel), interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm: Any, classes: Sequence[str], normalize: bool = True, title: str | None = None) -> Figure:
    """Heat map of a confusion matrix ``cm[true, predicted]`` (``(C, C)`` counts).

    With ``normalize=True`` each row is divided by its total (recall per class); rows of classes
    absent from the ground truth stay empty. Cell values are written when ``C <= 12``.
    """
    m = _numpy(cm, "cm").astype(np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"cm must be square (C, C), got {m.shape}")
    if len(classes) != m.shape[0]:
        raise ValueError(f"got {len(classes)} class names for a {m.shape[0]}x{m.shape[0]} confusion matrix")
    if normalize:
        totals = m.sum(axis=1, keepdims=True)
        m = np.divide(m, totals, out=np.full_like(m, np.nan), where=totals > 0)
    size = 1.5 + 0.55 * len(classes)
    fig = new_figure((size + 1.2, size))
    ax = fig.subplots()
    im = ax.imshow(m, cmap="Blues", vmin=0.0, vmax=1.0 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right")
    ax.set_yticks(ticks, classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or ("confusion matrix (rows normalised)" if normalize else "confusion matrix"))
    if len(classes) <= 12:
        finite = m[np.isfinite(m)]
        threshold = (finite.max() if finite.size else 1.0) / 2.0
        for (r, c), v in np.ndenumerate(m):
            if np.isfinite(v):
                text = f"{v:.2f}" if normalize else f"{int(v)}"
                ax.text(c, r, text, ha="center", va="center", fontsize=7, color="white" if v > threshold else "black")
    fig.tight_layout()
    return fig


def plot_history(history: Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]]) -> Figure:
    """Training curves: losses on one axis, metrics on another, the learning rate on a third.

    Args:
        history: a dict of equal-length lists (keys such as "epoch", "train_loss", "val_loss",
            "val_miou", "lr"), or a list of per-epoch dicts. The x axis is "epoch" (or "step")
            when present; keys containing "loss" are losses, "lr" is the learning rate, every
            other numeric key is a metric.
    """
    if isinstance(history, Sequence) and not isinstance(history, (str, bytes)):
        keys = list(dict.fromkeys(k for row in history for k in row))
        history = {k: [row.get(k, np.nan) for row in history] for k in keys}
    if not isinstance(history, Mapping) or not history:
        raise ValueError("history must be a non-empty dict of lists (or a list of dicts)")
    lengths = {k: len(v) for k, v in history.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"history lists must have equal lengths, got {lengths}")
    xkey = next((k for k in ("epoch", "step", "iteration") if k in history), None)
    x = np.asarray(history[xkey], dtype=float) if xkey else np.arange(1, next(iter(lengths.values())) + 1)
    series = {k: np.asarray(v, dtype=float) for k, v in history.items() if k != xkey}
    groups = {
        "loss": [k for k in series if "loss" in k],
        "metric": [k for k in series if "loss" not in k and k != "lr"],
        "learning rate": [k for k in series if k == "lr"],
    }
    groups = {name: keys for name, keys in groups.items() if keys}
    if not groups:
        raise ValueError(f"history has nothing to plot besides {xkey!r}")
    fig = new_figure((4.2 * len(groups), 3.2))
    axes = fig.subplots(1, len(groups), squeeze=False)[0]
    for ax, (name, keys) in zip(axes, groups.items()):
        for k in keys:
            ax.plot(x, series[k], marker="o" if len(x) <= 30 else None, markersize=3, label=k)
        ax.set_xlabel(xkey or "epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        if name == "learning rate" and np.all(series["lr"][np.isfinite(series["lr"])] > 0):
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
