"""Tests of the joint image/mask transforms (segkit.transforms)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage
from torchvision.transforms.v2 import functional as TF

import segkit.transforms as T

H, W = 40, 56
IGNORE = H * W + 7  # larger than any coordinate label below


def coordinate_sample() -> tuple[torch.Tensor, torch.Tensor]:
    """Image whose channels encode (row, column) and a mask whose label is the pixel's index."""
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
    image = torch.stack([ys / (H - 1), xs / (W - 1), torch.full_like(ys, 0.5)])  # (3, H, W)
    mask = (ys * W + xs).long()  # (H, W) unique label per pixel
    return image, mask


GEOMETRIC = {
    "random_resized_crop": lambda: T.random_resized_crop((32, 32), scale=(0.3, 1.0)),
    "horizontal_flip": lambda: T.horizontal_flip(p=1.0),
    "rotation": lambda: T.rotation(35.0, ignore_index=IGNORE),
    "pad": lambda: T.pad([3, 5, 2, 4], ignore_index=IGNORE),
    "random_crop": lambda: T.random_crop((48, 64), ignore_index=IGNORE),
    "resize": lambda: T.resize((20, 28)),
    "train_transforms": lambda: T.train_transforms((36, 36), ignore_index=IGNORE, degrees=20.0, jitter=0.0),
}


@pytest.mark.parametrize("name", GEOMETRIC)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_image_and_mask_stay_aligned(name, seed):
    """The image's encoded coordinates agree with the coordinates named by the mask label."""
    torch.manual_seed(seed)
    image, mask = coordinate_sample()
    out_image, out_mask = GEOMETRIC[name]()(image, mask)
    assert out_image.shape[1:] == out_mask.shape and out_mask.dtype == torch.int64
    # Judge pixels away from any padding or rotated-in corner, where bilinear mixes in the fill.
    valid = ndimage.binary_erosion((out_mask != IGNORE).numpy(), iterations=2, border_value=1)
    valid &= ndimage.binary_erosion((out_image[2] > 0.49).numpy(), iterations=1, border_value=1)
    assert valid.sum() > 50
    label = out_mask.numpy()[valid]
    rows_from_mask, cols_from_mask = label // W, label % W
    rows_from_image = out_image[0].numpy()[valid] * (H - 1)
    cols_from_image = out_image[1].numpy()[valid] * (W - 1)
    step = max(H / out_mask.shape[0], W / out_mask.shape[1], 1.0)  # source pixels per output pixel
    err = np.hypot(rows_from_mask - rows_from_image, cols_from_mask - cols_from_image)
    assert err.max() <= step + 0.75, f"{name}: mask and image disagree by {err.max():.2f} px"
    assert err.mean() <= 0.5 * step + 0.25


@pytest.mark.parametrize("name", GEOMETRIC)
def test_mask_labels_are_never_interpolated(name):
    torch.manual_seed(0)
    labels = torch.tensor([0, 3, 7])
    mask = labels[torch.randint(0, 3, (H // 4, W // 4))].repeat_interleave(4, 0).repeat_interleave(4, 1)
    _, out = GEOMETRIC[name]()(torch.rand(3, H, W), mask)
    assert set(out.unique().tolist()) <= {0, 3, 7, IGNORE}


def test_padding_fills_mask_with_ignore_index_and_image_with_zero():
    image, mask = torch.rand(3, 10, 12), torch.randint(0, 5, (10, 12))
    out_image, out_mask = T.pad(3, ignore_index=255)(image, mask)
    assert out_mask.shape == (16, 18)
    assert torch.equal(out_mask[3:-3, 3:-3], mask)
    border = torch.ones(16, 18, dtype=torch.bool)
    border[3:-3, 3:-3] = False
    assert (out_mask[border] == 255).all() and (out_image[:, border] == 0).all()
    _, cropped = T.random_crop((20, 20), ignore_index=250)(image, mask)
    assert cropped.shape == (20, 20) and (cropped == 250).sum() == 20 * 20 - 10 * 12


def test_rotation_corners_are_ignored():
    _, out = T.rotation((45.0, 45.0), ignore_index=255)(torch.rand(3, 32, 32), torch.zeros(32, 32, dtype=torch.long))
    assert out[0, 0] == 255 and out[16, 16] == 0


def test_flip_matches_torch_flip():
    image, mask = torch.rand(3, 9, 13), torch.randint(0, 4, (9, 13))
    out_image, out_mask = T.horizontal_flip(p=1.0)(image, mask)
    assert torch.equal(out_image, image.flip(-1)) and torch.equal(out_mask, mask.flip(-1))


def test_photometric_transforms_leave_the_mask_alone():
    image, mask = torch.rand(3, 16, 16), torch.randint(0, 4, (16, 16))
    torch.manual_seed(0)
    jittered, same = T.color_jitter(0.5, 0.5, 0.5, 0.1)(image, mask)
    assert torch.equal(same, mask) and not torch.equal(jittered, image)
    normed, same = T.normalize()(image, mask)
    assert torch.equal(same, mask)
    torch.testing.assert_close(normed, TF.normalize(image, list(T.IMAGENET_MEAN), list(T.IMAGENET_STD)))
    torch.testing.assert_close(T.denormalize(normed), image)


def test_eval_transforms_are_deterministic():
    image, mask = torch.rand(3, 30, 40), torch.randint(0, 4, (30, 40))
    t = T.eval_transforms((15, 20), mean=T.IMAGENET_MEAN, std=T.IMAGENET_STD)
    a, b = t(image, mask), t(image, mask)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and a[1].shape == (15, 20)
    same = T.eval_transforms()(image, mask)
    assert torch.equal(same[0], image) and torch.equal(same[1], mask)


def test_inputs_are_checked_and_converted():
    t = T.horizontal_flip(p=1.0)
    with pytest.raises(ValueError, match="mask must have shape"):
        t(torch.rand(3, 8, 8), torch.zeros(8, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="image must have shape"):
        t(torch.rand(8, 8), torch.zeros(8, 8, dtype=torch.long))
    with pytest.raises(TypeError, match="integer labels"):
        t(torch.rand(3, 8, 8), torch.zeros(8, 8))
    with pytest.raises(ValueError, match="ignore_index"):
        T.pad(2, ignore_index=-1)
    image = np.random.default_rng(0).integers(0, 256, (8, 10, 3), dtype=np.uint8)  # (H, W, 3) numpy
    out_image, out_mask = t(image, np.zeros((8, 10), dtype=np.uint8))
    assert out_image.dtype == torch.float32 and out_image.shape == (3, 8, 10) and out_mask.dtype == torch.int64
    torch.testing.assert_close(out_image, torch.from_numpy(image).permute(2, 0, 1).flip(-1).float() / 255)


def test_compose_flattens_and_works_with_datasets():
    from segkit.data import load_dataset

    t = T.compose(T.random_crop(32), T.horizontal_flip(), T.normalize())
    assert len(t.transforms) == 3
    image, mask = load_dataset("shapes", num_samples=2, transform=t)[1]
    assert image.shape == (3, 32, 32) and mask.shape == (32, 32)


@pytest.mark.parametrize("name", T.AUGMENTATIONS)
def test_named_augmentations_keep_size_and_alignment(name):
    image, mask = coordinate_sample()
    t = T.augmentation(name, tuple(mask.shape))
    if name == "none":
        assert t is None
        return
    torch.manual_seed(3)
    out_image, out_mask = t(image, mask)
    assert out_image.shape == image.shape and out_mask.shape == mask.shape and out_mask.dtype == torch.int64
    with pytest.raises(ValueError, match="unknown augmentation"):
        T.augmentation("mixup", 32)
