"""Plausible wrong answers for unit 05 (instructor side; never released to lessons/).

Each ``source`` replaces a whole answer cell. The parts a wrong answer gets right are shared
strings (``_UP_INIT``, ``_UNET_INIT``, ...), so that each entry shows only its mistake.
"""

# ---------------------------------------------------------------- Exercise 1: double_conv
_DOUBLE_CONV = '''
def double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
{layers}
    )
'''
_CONV_BN_RELU = '''\
        nn.Conv2d({cin}, out_channels, kernel_size=3{args}),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),'''


def _double_conv(args: str) -> str:
    first = _CONV_BN_RELU.format(cin="in_channels", args=args)
    second = _CONV_BN_RELU.format(cin="out_channels", args=args)
    return _DOUBLE_CONV.format(layers=first + "\n" + second)


# ---------------------------------------------------------------- Exercise 2: UpBlock
_UP_INIT = '''
class UpBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, bilinear: bool = False) -> None:
        super().__init__()
        if bilinear:
            self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                    nn.Conv2d(in_channels, in_channels // 2, kernel_size=1))
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
        self.conv = double_conv(in_channels, out_channels)
'''
_PAD_BOTTOM_RIGHT = "        x = F.pad(x, (0, skip.shape[-1] - x.shape[-1], 0, skip.shape[-2] - x.shape[-2]))\n"

# ---------------------------------------------------------------- Exercise 3: UNet

# ---------------------------------------------------------------- Exercise 4: soft_dice_loss

# ---------------------------------------------------------------- Exercise 5: training

WRONG_ANSWERS = [
    dict(cell="double_conv", id="double-conv-with-bias",
         description="convolutions keep their default bias although BatchNorm follows: extra parameters, segkit's weights do not load",
         patch=[('        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),',
                 '        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),'),
                ('        nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),',
                 '        nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1),')]),
    dict(cell="double_conv", id="double-conv-no-padding",
         description="3x3 convolutions without padding: every block shrinks the map by 4 pixels",
         patch=[('        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),',
                 '        nn.Conv2d(in_channels, out_channels, kernel_size=3, bias=False),'),
                ('        nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),',
                 '        nn.Conv2d(out_channels, out_channels, kernel_size=3, bias=False),')]),
    dict(cell="double_conv", id="double-conv-relu-before-bn",
         description="conv -> ReLU -> BN: same parameters and state dict, different features",
         source=_double_conv(", padding=1, bias=False").replace(
             "        nn.BatchNorm2d(out_channels),\n        nn.ReLU(inplace=True),",
             "        nn.ReLU(inplace=True),\n        nn.BatchNorm2d(out_channels),")),
    dict(cell="double_conv", id="double-conv-one-bn",
         description="BatchNorm only after the second convolution (five layers)",
         patch=[('        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),\n        nn.BatchNorm2d(out_channels),',
                 '        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),')]),
    dict(cell="double_conv", id="double-conv-delegates",
         description="returns segkit's DoubleConv instead of building the block",
         source='''
from segkit.models.unet import DoubleConv


def double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    return DoubleConv(in_channels, out_channels)
'''),

    dict(cell="UpBlock", id="up-cat-order-swapped",
         description="concatenates [x, skip] instead of [skip, x]: shapes fine, segkit's weights give other features",
         patch=[('        pad_h, pad_w = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]\n        x = F.pad(x, (0, pad_w, 0, pad_h))                               # (N, in/2, H, W), zeros bottom/right\n        return self.conv(torch.cat([skip, x], dim=1))                    # (N, out, H, W)',
                 '        x = F.pad(x, (0, skip.shape[-1] - x.shape[-1], 0, skip.shape[-2] - x.shape[-2]))\n        return self.conv(torch.cat([x, skip], dim=1))')]),
    dict(cell="UpBlock", id="up-no-padding",
         description="no padding: only works when the skip is exactly twice the size (crashes on odd sizes)",
         source=_UP_INIT + "\n    def forward(self, x, skip):\n        return self.conv(torch.cat([skip, self.up(x)], dim=1))\n"),
    dict(cell="UpBlock", id="up-pad-top-left",
         description="pads the missing row and column at the top and left: shifts the map by one pixel against the skip",
         patch=[('        pad_h, pad_w = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]\n        x = F.pad(x, (0, pad_w, 0, pad_h))                               # (N, in/2, H, W), zeros bottom/right',
                 '        dh, dw = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]\n        x = F.pad(x, (dw, 0, dh, 0))')]),
    dict(cell="UpBlock", id="up-interpolate-to-skip",
         description="resizes the up-sampled map to the skip's size with F.interpolate: stretches it, misaligning rows",
         patch=[('        pad_h, pad_w = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]\n        x = F.pad(x, (0, pad_w, 0, pad_h))                               # (N, in/2, H, W), zeros bottom/right',
                 '        if x.shape[-2:] != skip.shape[-2:]:\n            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)')]),
    dict(cell="UpBlock", id="up-bilinear-ignored",
         description="always a transposed convolution: the bilinear option is accepted but ignored",
         source=_UP_INIT.split("        if bilinear:")[0]
         + "        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)\n"
         + "        self.conv = double_conv(in_channels, out_channels)\n"
         + "\n    def forward(self, x, skip):\n        x = self.up(x)\n" + _PAD_BOTTOM_RIGHT
         + "        return self.conv(torch.cat([skip, x], dim=1))\n"),

    dict(cell="UNet", id="unet-skips-not-reversed",
         description="gives the up blocks the skips shallowest first (forgot reversed)",
         patch=[('        for up, skip in zip(self.ups, reversed(skips)):',
                 '        for up, skip in zip(self.ups, skips):')]),
    dict(cell="UNet", id="unet-skip-after-pool",
         description="keeps each skip after its down block instead of before: the skips are one level too deep",
         patch=[('        for down in self.downs:',
                 '        for down in self.downs:\n            x = down(x)'),
                ('            x = down(x)                                                   # (N, 2^k C, H / 2^k, W / 2^k)',
                 '')]),
    dict(cell="UNet", id="unet-bilinear-not-passed",
         description="forgets to pass bilinear to the up blocks: always transposed convolutions",
         patch=[('        self.ups = nn.ModuleList(UpBlock(widths[k + 1], widths[k], bilinear) for k in reversed(range(depth)))',
                 '        self.ups = nn.ModuleList(UpBlock(widths[k + 1], widths[k]) for k in reversed(range(depth)))')]),
    dict(cell="UNet", id="unet-one-level-too-many",
         description="off by one in the levels: depth + 1 down blocks",
         patch=[('        widths = [base_channels * 2**k for k in range(depth + 1)]        # C, 2C, 4C, ...',
                 '        widths = [base_channels * 2**k for k in range(depth + 2)]'),
                ('        self.downs = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), double_conv(widths[k], widths[k + 1])) for k in range(depth))\n        self.ups = nn.ModuleList(UpBlock(widths[k + 1], widths[k], bilinear) for k in reversed(range(depth)))',
                 '        self.downs = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), double_conv(widths[k], widths[k + 1])) for k in range(depth + 1))\n        self.ups = nn.ModuleList(UpBlock(widths[k + 1], widths[k], bilinear) for k in reversed(range(depth + 1)))')]),
    dict(cell="UNet", id="unet-subclasses-segkit",
         description="subclasses segkit's UNet instead of assembling its own",
         source="class UNet(models.UNet):\n    pass\n"),

    dict(cell="soft_dice_loss", id="dice-zero-means-no-ignore",
         description="`if ignore_index:` treats ignore_index=0 as no ignore at all",
         patch=[('    if ignore_index is None:\n        valid = torch.ones_like(target, dtype=torch.bool)\n        safe = target\n    else:\n        valid = target != ignore_index                                    # (N, H, W)\n        safe = target.masked_fill(~valid, 0)\n    one_hot = F.one_hot(safe, num_classes).movedim(-1, 1).to(probs.dtype)  # (N, C, H, W)',
                 '    valid = torch.ones_like(target, dtype=torch.bool) if not ignore_index else target != ignore_index'),
                ('    probs, one_hot = probs * weight, one_hot * weight',
                 '    one_hot = F.one_hot(target.masked_fill(~valid, 0), num_classes).movedim(-1, 1).to(probs.dtype) * weight\n    probs = probs * weight'),
                ('    intersection = (probs * one_hot).sum(dims)                            # (C,)\n    denominator = probs.sum(dims) + one_hot.sum(dims) + smooth            # (C,)\n    dice = torch.where(denominator > 0, (2 * intersection + smooth) / denominator.clamp_min(1e-12),\n                       torch.ones_like(denominator))',
                 '    inter = (probs * one_hot).sum(dims)\n    denom = probs.sum(dims) + one_hot.sum(dims) + smooth\n    dice = torch.where(denom > 0, (2 * inter + smooth) / denom.clamp_min(1e-12), torch.ones_like(denom))')]),
    dict(cell="soft_dice_loss", id="dice-probs-not-masked",
         description="drops ignored pixels from the one-hot target but still counts their probabilities in P_c",
         patch=[('    if ignore_index is None:\n        valid = torch.ones_like(target, dtype=torch.bool)\n        safe = target\n    else:\n        valid = target != ignore_index                                    # (N, H, W)\n        safe = target.masked_fill(~valid, 0)\n    one_hot = F.one_hot(safe, num_classes).movedim(-1, 1).to(probs.dtype)  # (N, C, H, W)',
                 '    valid = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index'),
                ('    probs, one_hot = probs * weight, one_hot * weight',
                 '    one_hot = F.one_hot(target.masked_fill(~valid, 0), num_classes).movedim(-1, 1).to(probs.dtype) * weight'),
                ('    intersection = (probs * one_hot).sum(dims)                            # (C,)\n    denominator = probs.sum(dims) + one_hot.sum(dims) + smooth            # (C,)\n    dice = torch.where(denominator > 0, (2 * intersection + smooth) / denominator.clamp_min(1e-12),\n                       torch.ones_like(denominator))',
                 '    inter = (probs * one_hot).sum(dims)\n    denom = probs.sum(dims) + one_hot.sum(dims) + smooth\n    dice = torch.where(denom > 0, (2 * inter + smooth) / denom.clamp_min(1e-12), torch.ones_like(denom))')]),
    dict(cell="soft_dice_loss", id="dice-per-image-mean",
         description="computes a Dice per image and class, then averages (the statement sums over the whole batch)",
         patch=[('    if ignore_index is None:\n        valid = torch.ones_like(target, dtype=torch.bool)\n        safe = target\n    else:\n        valid = target != ignore_index                                    # (N, H, W)\n        safe = target.masked_fill(~valid, 0)\n    one_hot = F.one_hot(safe, num_classes).movedim(-1, 1).to(probs.dtype)  # (N, C, H, W)',
                 '    valid = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index'),
                ('    probs, one_hot = probs * weight, one_hot * weight\n    dims = (0, 2, 3)\n    intersection = (probs * one_hot).sum(dims)                            # (C,)\n    denominator = probs.sum(dims) + one_hot.sum(dims) + smooth            # (C,)\n    dice = torch.where(denominator > 0, (2 * intersection + smooth) / denominator.clamp_min(1e-12),\n                       torch.ones_like(denominator))',
                 '    one_hot = F.one_hot(target.masked_fill(~valid, 0), num_classes).movedim(-1, 1).to(probs.dtype) * weight\n    probs = probs * weight\n    dims = (2, 3)\n    inter = (probs * one_hot).sum(dims)\n    denom = probs.sum(dims) + one_hot.sum(dims) + smooth\n    dice = torch.where(denom > 0, (2 * inter + smooth) / denom.clamp_min(1e-12), torch.ones_like(denom))')]),
    dict(cell="soft_dice_loss", id="dice-squared-denominator",
         description="V-Net's squared denominator (sum p^2 + sum g^2) although the statement says no squares",
         patch=[('    if ignore_index is None:\n        valid = torch.ones_like(target, dtype=torch.bool)\n        safe = target\n    else:\n        valid = target != ignore_index                                    # (N, H, W)\n        safe = target.masked_fill(~valid, 0)\n    one_hot = F.one_hot(safe, num_classes).movedim(-1, 1).to(probs.dtype)  # (N, C, H, W)',
                 '    valid = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index'),
                ('    probs, one_hot = probs * weight, one_hot * weight',
                 '    one_hot = F.one_hot(target.masked_fill(~valid, 0), num_classes).movedim(-1, 1).to(probs.dtype) * weight\n    probs = probs * weight'),
                ('    intersection = (probs * one_hot).sum(dims)                            # (C,)\n    denominator = probs.sum(dims) + one_hot.sum(dims) + smooth            # (C,)\n    dice = torch.where(denominator > 0, (2 * intersection + smooth) / denominator.clamp_min(1e-12),\n                       torch.ones_like(denominator))',
                 '    inter = (probs * one_hot).sum(dims)\n    denom = (probs ** 2).sum(dims) + (one_hot ** 2).sum(dims) + smooth\n    dice = torch.where(denom > 0, (2 * inter + smooth) / denom.clamp_min(1e-12), torch.ones_like(denom))')]),
    dict(cell="soft_dice_loss", id="dice-no-zero-guard",
         description="divides without a guard: with smooth=0 and every pixel ignored, 0/0 gives NaN",
         patch=[('    if ignore_index is None:\n        valid = torch.ones_like(target, dtype=torch.bool)\n        safe = target\n    else:\n        valid = target != ignore_index                                    # (N, H, W)\n        safe = target.masked_fill(~valid, 0)\n    one_hot = F.one_hot(safe, num_classes).movedim(-1, 1).to(probs.dtype)  # (N, C, H, W)',
                 '    valid = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index'),
                ('    probs, one_hot = probs * weight, one_hot * weight',
                 '    one_hot = F.one_hot(target.masked_fill(~valid, 0), num_classes).movedim(-1, 1).to(probs.dtype) * weight\n    probs = probs * weight'),
                ('    intersection = (probs * one_hot).sum(dims)                            # (C,)\n    denominator = probs.sum(dims) + one_hot.sum(dims) + smooth            # (C,)\n    dice = torch.where(denominator > 0, (2 * intersection + smooth) / denominator.clamp_min(1e-12),\n                       torch.ones_like(denominator))',
                 '    inter = (probs * one_hot).sum(dims)\n    denom = probs.sum(dims) + one_hot.sum(dims) + smooth\n    dice = (2 * inter + smooth) / denom')]),
    dict(cell="soft_dice_loss", id="dice-delegates",
         description="calls segkit.losses.soft_dice_loss, the function the exercise asks for",
         source='''
def soft_dice_loss(logits, target, ignore_index=None, smooth=1.0):
    return losses.soft_dice_loss(logits, target, ignore_index=ignore_index, smooth=smooth)
'''),

    dict(cell="train_nuclei", id="train-one-epoch",
         description="far too short a training run: one epoch of 8 steps",
         patch=[('nuclei_loader = DataLoader(TensorDataset(nuclei_images, nuclei_masks), batch_size=16, shuffle=True,\n                           generator=torch.Generator().manual_seed(0))\nhistory = fit(nuclei_model, nuclei_loader, epochs=6, lr=3e-3, loss=dice_ce, scheduler="poly", device=device)',
                 'nuclei_loader = DataLoader(TensorDataset(nuclei_images, nuclei_masks), batch_size=16, shuffle=True)\nhistory = fit(nuclei_model, nuclei_loader, epochs=1, lr=0.003, loss=dice_ce, device=device)')]),
    dict(cell="train_nuclei", id="train-tiny-lr",
         description="a learning rate of 1e-6: the weights barely move in the budget",
         patch=[('nuclei_loader = DataLoader(TensorDataset(nuclei_images, nuclei_masks), batch_size=16, shuffle=True,\n                           generator=torch.Generator().manual_seed(0))\nhistory = fit(nuclei_model, nuclei_loader, epochs=6, lr=3e-3, loss=dice_ce, scheduler="poly", device=device)',
                 'nuclei_loader = DataLoader(TensorDataset(nuclei_images, nuclei_masks), batch_size=16, shuffle=True)\nhistory = fit(nuclei_model, nuclei_loader, epochs=6, lr=1e-06, loss=dice_ce, device=device)')]),
    dict(cell="train_nuclei", id="train-a-different-model",
         description="trains a fresh UNet passed inline to fit, and keeps the untrained one in nuclei_model",
         patch=[('nuclei_loader = DataLoader(TensorDataset(nuclei_images, nuclei_masks), batch_size=16, shuffle=True,\n                           generator=torch.Generator().manual_seed(0))\nhistory = fit(nuclei_model, nuclei_loader, epochs=6, lr=3e-3, loss=dice_ce, scheduler="poly", device=device)',
                 'nuclei_loader = DataLoader(TensorDataset(nuclei_images, nuclei_masks), batch_size=16, shuffle=True)\nhistory = fit(UNet(3, 2, base_channels=8, depth=3), nuclei_loader, epochs=6, lr=0.003, loss=dice_ce, device=device)')]),
    dict(cell="train_nuclei", id="train-segkit-unet",
         description="trains segkit's UNet instead of the learner's own",
         patch=[('nuclei_model = UNet(3, 2, base_channels=8, depth=3)\nnuclei_loader = DataLoader(TensorDataset(nuclei_images, nuclei_masks), batch_size=16, shuffle=True,\n                           generator=torch.Generator().manual_seed(0))\nhistory = fit(nuclei_model, nuclei_loader, epochs=6, lr=3e-3, loss=dice_ce, scheduler="poly", device=device)',
                 'nuclei_model = models.UNet(3, 2, base_channels=8, depth=3)\nnuclei_loader = DataLoader(TensorDataset(nuclei_images, nuclei_masks), batch_size=16, shuffle=True)\nhistory = fit(nuclei_model, nuclei_loader, epochs=6, lr=0.003, loss=dice_ce, device=device)')]),
]
