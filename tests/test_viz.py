"""Tests of the plotting helpers (segkit.viz), on matplotlib's Agg backend."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from segkit import viz  # noqa: E402

PALETTE = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0]], dtype=np.uint8)
CLASSES = ("background", "cat", "dog")


def test_colorize_indexes_the_palette_and_greys_ignored_pixels():
    mask = torch.tensor([[0, 1], [2, 255]])
    out = viz.colorize(mask, PALETTE)
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[:1], PALETTE[mask[:1].numpy()])
    np.testing.assert_array_equal(out[1, 1], viz.IGNORE_COLOUR)
    np.testing.assert_array_equal(viz.colorize(np.array([[1, 2]]), PALETTE.astype(float) / 255), PALETTE[[[1, 2]]])


@pytest.mark.parametrize("mask", [np.array([[0, 3]]), np.array([[-1, 0]]), np.array([[0, 255]])])
def test_colorize_rejects_labels_without_a_colour(mask):
    with pytest.raises(ValueError, match="outside"):
        viz.colorize(mask, PALETTE, ignore_index=None if mask.max() == 255 else 255)


def test_colorize_rejects_bad_shapes_and_dtypes():
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        viz.colorize(np.zeros((1, 2, 2), dtype=int), PALETTE)
    with pytest.raises(TypeError, match="integer"):
        viz.colorize(np.zeros((2, 2)), PALETTE)


def test_overlay_blends_and_keeps_ignored_pixels():
    image = torch.rand(3, 4, 5)
    mask = torch.randint(0, 3, (4, 5))
    mask[0, 0] = 255
    hwc = image.permute(1, 2, 0).numpy()
    for alpha in (0.0, 0.3, 1.0):
        out = viz.overlay(image, mask, PALETTE, alpha=alpha)
        expected = (1 - alpha) * hwc + alpha * viz.colorize(mask, PALETTE) / 255.0
        expected[0, 0] = hwc[0, 0]
        np.testing.assert_allclose(out, expected, atol=1e-6)
    uint8_hwc = (hwc * 255).round().astype(np.uint8)
    np.testing.assert_allclose(viz.overlay(uint8_hwc, mask, PALETTE, alpha=0.0), uint8_hwc / 255.0)
    with pytest.raises(ValueError, match="alpha"):
        viz.overlay(image, mask, PALETTE, alpha=1.5)
    with pytest.raises(ValueError, match="same height"):
        viz.overlay(image, mask[:3], PALETTE)


def test_legend_patches_carry_names_and_colours():
    patches = viz.legend_patches(CLASSES, PALETTE)
    assert [p.get_label() for p in patches] == list(CLASSES)
    assert patches[1].get_facecolor()[:3] == pytest.approx(to_rgb("red"))
    with pytest.raises(ValueError, match="3 palette"):
        viz.legend_patches(CLASSES[:2], PALETTE)


@pytest.mark.parametrize("with_preds", [False, True])
def test_show_samples_grid(with_preds):
    images, masks = torch.rand(5, 3, 8, 8), torch.randint(0, 3, (5, 8, 8))
    preds = torch.randint(0, 3, (5, 8, 8)) if with_preds else None
    fig = viz.show_samples(images, masks, preds, palette=PALETTE, classes=CLASSES, ncols=3)
    assert isinstance(fig, Figure)
    rows = 3 if with_preds else 2
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 5 * rows and len(fig.axes) == 2 * rows * 3  # two blocks of three columns
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(CLASSES)
    truth_of_first = fig.axes[3]  # row-major: the second row of the first block, first column
    np.testing.assert_array_equal(truth_of_first.images[0].get_array(), viz.colorize(masks[0], PALETTE))


def test_show_samples_defaults_and_errors():
    fig = viz.show_samples([torch.rand(3, 6, 6)], [torch.full((6, 6), 4)], overlay_alpha=0.5)
    assert len(fig.legends[0].get_texts()) == 5  # default palette covers label 4
    with pytest.raises(ValueError, match="same non-zero number"):
        viz.show_samples(torch.rand(2, 3, 6, 6), torch.zeros(3, 6, 6, dtype=torch.long))


def test_confusion_matrix_rows_are_normalised():
    cm = torch.tensor([[8, 2, 0], [1, 3, 0], [0, 0, 0]])
    fig = viz.plot_confusion_matrix(cm, CLASSES)
    shown = np.ma.filled(fig.axes[0].images[0].get_array().astype(float), np.nan)
    np.testing.assert_allclose(shown[:2], [[0.8, 0.2, 0.0], [0.25, 0.75, 0.0]])
    assert np.isnan(shown[2]).all(), "a class absent from the truth has no row to normalise"
    raw = viz.plot_confusion_matrix(cm.numpy(), CLASSES, normalize=False)
    np.testing.assert_array_equal(raw.axes[0].images[0].get_array(), cm.numpy())
    with pytest.raises(ValueError, match="square"):
        viz.plot_confusion_matrix(np.zeros((2, 3)), CLASSES[:2])


def test_plot_history_groups_losses_metrics_and_lr():
    history = {
        "epoch": [1, 2, 3],
        "train_loss": [1.0, 0.7, 0.5],
        "val_loss": [1.1, 0.8, 0.7],
        "val_miou": [0.2, 0.4, 0.5],
        "lr": [0.1, 0.05, 0.01],
    }
    fig = viz.plot_history(history)
    titles = [ax.get_ylabel() for ax in fig.axes]
    assert titles == ["loss", "metric", "learning rate"]
    assert [line.get_label() for line in fig.axes[0].lines] == ["train_loss", "val_loss"]
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_ydata(), history["val_miou"])
    rows = [{"epoch": e, "train_loss": v} for e, v in zip(history["epoch"], history["train_loss"])]
    assert len(viz.plot_history(rows).axes) == 1
    with pytest.raises(ValueError, match="equal lengths"):
        viz.plot_history({"train_loss": [1.0, 0.5], "val_miou": [0.1]})
    with pytest.raises(ValueError, match="nothing to plot"):
        viz.plot_history({"epoch": [1, 2]})


def test_show_panels_draws_one_titled_panel_per_picture():
    image = torch.rand(3, 6, 8)
    colours = viz.colorize(torch.tensor([[0, 1], [2, 1]]), PALETTE)
    probability = np.linspace(0, 1, 12).reshape(3, 4)
    fig = viz.show_panels([image, colours, probability], ["image", "labels", "P"], size=2.0)
    assert isinstance(fig, Figure) and tuple(fig.get_size_inches()) == (6.0, 2.0)
    axes = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in axes] == ["image", "labels", "P"]
    np.testing.assert_allclose(axes[0].images[0].get_array(), image.permute(1, 2, 0).numpy())
    np.testing.assert_array_equal(axes[1].images[0].get_array(), colours)
    np.testing.assert_allclose(axes[2].images[0].get_array(), probability)
    assert all(not ax.axison for ax in axes)
    with pytest.raises(ValueError, match="2 panels but 1 titles"):
        viz.show_panels([image, image], ["one"])
    with pytest.raises(ValueError, match="at least one panel"):
        viz.show_panels([])
