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
_UNET_INIT = '''
class UNet(nn.Module):
    def __init__(self, in_channels=3, num_classes=2, base_channels=64, depth=4, bilinear=False):
        super().__init__()
        self.num_classes = num_classes
        widths = [base_channels * 2**k for k in range({levels})]
        self.inc = double_conv(in_channels, widths[0])
        self.downs = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), double_conv(widths[k], widths[k + 1])) for k in range({steps}))
        self.ups = nn.ModuleList(UpBlock(widths[k + 1], widths[k]{bilinear}) for k in reversed(range({steps})))
        self.outc = nn.Conv2d(widths[0], num_classes, kernel_size=1)
'''
_UNET_OK = _UNET_INIT.format(levels="depth + 1", steps="depth", bilinear=", bilinear")
_UNET_FORWARD = '''
    def forward(self, x):
        x = self.inc(x)
        skips = []
        for down in self.downs:
{down_loop}
        for up, skip in zip(self.ups, {skips}):
            x = up(x, skip)
        return self.outc(x)
'''
_SKIP_THEN_DOWN = "            skips.append(x)\n            x = down(x)"
_UNET_FORWARD_OK = _UNET_FORWARD.format(down_loop=_SKIP_THEN_DOWN, skips="reversed(skips)")

# ---------------------------------------------------------------- Exercise 4: soft_dice_loss
_DICE_HEAD = '''
def soft_dice_loss(logits, target, ignore_index=None, smooth=1.0):
    num_classes = logits.shape[1]
    probs = F.softmax(logits, dim=1)
'''
_DICE_VALID = "    valid = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index\n"
_DICE_MASKED = _DICE_VALID + '''\
    weight = valid.unsqueeze(1).to(probs.dtype)
    one_hot = F.one_hot(target.masked_fill(~valid, 0), num_classes).movedim(-1, 1).to(probs.dtype) * weight
    probs = probs * weight
'''
_DICE_TAIL = '''\
    dims = {dims}
    inter = (probs * one_hot).sum(dims)
    denom = {denominator} + smooth
    dice = torch.where(denom > 0, (2 * inter + smooth) / denom.clamp_min(1e-12), torch.ones_like(denom))
    return 1 - dice.mean()
'''
_DICE_TAIL_OK = _DICE_TAIL.format(dims="(0, 2, 3)", denominator="probs.sum(dims) + one_hot.sum(dims)")

# ---------------------------------------------------------------- Exercise 5: training
_TRAIN = '''
segkit.seed_everything(0)
nuclei_model = {model}
nuclei_loader = DataLoader(TensorDataset(nuclei_images, nuclei_masks), batch_size=16, shuffle=True)
history = fit({trained}, nuclei_loader, epochs={epochs}, lr={lr}, loss=dice_ce, device=device)
'''
_TRAIN_OK = dict(model="UNet(3, 2, base_channels=8, depth=3)", trained="nuclei_model", epochs=6, lr=3e-3)

WRONG_ANSWERS = [
    dict(cell="double_conv", id="double-conv-with-bias",
         description="convolutions keep their default bias although BatchNorm follows: extra parameters, segkit's weights do not load",
         source=_double_conv(", padding=1")),
    dict(cell="double_conv", id="double-conv-no-padding",
         description="3x3 convolutions without padding: every block shrinks the map by 4 pixels",
         source=_double_conv(", bias=False")),
    dict(cell="double_conv", id="double-conv-relu-before-bn",
         description="conv -> ReLU -> BN: same parameters and state dict, different features",
         source=_double_conv(", padding=1, bias=False").replace(
             "        nn.BatchNorm2d(out_channels),\n        nn.ReLU(inplace=True),",
             "        nn.ReLU(inplace=True),\n        nn.BatchNorm2d(out_channels),")),
    dict(cell="double_conv", id="double-conv-one-bn",
         description="BatchNorm only after the second convolution (five layers)",
         source=_double_conv(", padding=1, bias=False").replace(
             "        nn.BatchNorm2d(out_channels),\n        nn.ReLU(inplace=True),\n        nn.Conv2d",
             "        nn.ReLU(inplace=True),\n        nn.Conv2d", 1)),
    dict(cell="double_conv", id="double-conv-delegates",
         description="returns segkit's DoubleConv instead of building the block",
         source='''
from segkit.models.unet import DoubleConv


def double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    return DoubleConv(in_channels, out_channels)
'''),

    dict(cell="UpBlock", id="up-cat-order-swapped",
         description="concatenates [x, skip] instead of [skip, x]: shapes fine, segkit's weights give other features",
         source=_UP_INIT + "\n    def forward(self, x, skip):\n        x = self.up(x)\n" + _PAD_BOTTOM_RIGHT
         + "        return self.conv(torch.cat([x, skip], dim=1))\n"),
    dict(cell="UpBlock", id="up-no-padding",
         description="no padding: only works when the skip is exactly twice the size (crashes on odd sizes)",
         source=_UP_INIT + "\n    def forward(self, x, skip):\n        return self.conv(torch.cat([skip, self.up(x)], dim=1))\n"),
    dict(cell="UpBlock", id="up-pad-top-left",
         description="pads the missing row and column at the top and left: shifts the map by one pixel against the skip",
         source=_UP_INIT + '''
    def forward(self, x, skip):
        x = self.up(x)
        dh, dw = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]
        x = F.pad(x, (dw, 0, dh, 0))
        return self.conv(torch.cat([skip, x], dim=1))
'''),
    dict(cell="UpBlock", id="up-interpolate-to-skip",
         description="resizes the up-sampled map to the skip's size with F.interpolate: stretches it, misaligning rows",
         source=_UP_INIT + '''
    def forward(self, x, skip):
        x = self.up(x)
        if x.shape[-2:] != skip.shape[-2:]:
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([skip, x], dim=1))
'''),
    dict(cell="UpBlock", id="up-bilinear-ignored",
         description="always a transposed convolution: the bilinear option is accepted but ignored",
         source=_UP_INIT.split("        if bilinear:")[0]
         + "        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)\n"
         + "        self.conv = double_conv(in_channels, out_channels)\n"
         + "\n    def forward(self, x, skip):\n        x = self.up(x)\n" + _PAD_BOTTOM_RIGHT
         + "        return self.conv(torch.cat([skip, x], dim=1))\n"),

    dict(cell="UNet", id="unet-skips-not-reversed",
         description="gives the up blocks the skips shallowest first (forgot reversed)",
         source=_UNET_OK + _UNET_FORWARD.format(down_loop=_SKIP_THEN_DOWN, skips="skips")),
    dict(cell="UNet", id="unet-skip-after-pool",
         description="keeps each skip after its down block instead of before: the skips are one level too deep",
         source=_UNET_OK + _UNET_FORWARD.format(down_loop="            x = down(x)\n            skips.append(x)",
                                                skips="reversed(skips)")),
    dict(cell="UNet", id="unet-bilinear-not-passed",
         description="forgets to pass bilinear to the up blocks: always transposed convolutions",
         source=_UNET_INIT.format(levels="depth + 1", steps="depth", bilinear="") + _UNET_FORWARD_OK),
    dict(cell="UNet", id="unet-one-level-too-many",
         description="off by one in the levels: depth + 1 down blocks",
         source=_UNET_INIT.format(levels="depth + 2", steps="depth + 1", bilinear=", bilinear") + _UNET_FORWARD_OK),
    dict(cell="UNet", id="unet-subclasses-segkit",
         description="subclasses segkit's UNet instead of assembling its own",
         source="class UNet(models.UNet):\n    pass\n"),

    dict(cell="soft_dice_loss", id="dice-zero-means-no-ignore",
         description="`if ignore_index:` treats ignore_index=0 as no ignore at all",
         source=_DICE_HEAD + _DICE_MASKED.replace("if ignore_index is None else", "if not ignore_index else") + _DICE_TAIL_OK),
    dict(cell="soft_dice_loss", id="dice-probs-not-masked",
         description="drops ignored pixels from the one-hot target but still counts their probabilities in P_c",
         source=_DICE_HEAD + _DICE_MASKED.replace("    probs = probs * weight\n", "") + _DICE_TAIL_OK),
    dict(cell="soft_dice_loss", id="dice-per-image-mean",
         description="computes a Dice per image and class, then averages (the statement sums over the whole batch)",
         source=_DICE_HEAD + _DICE_MASKED + _DICE_TAIL.format(dims="(2, 3)", denominator="probs.sum(dims) + one_hot.sum(dims)")),
    dict(cell="soft_dice_loss", id="dice-squared-denominator",
         description="V-Net's squared denominator (sum p^2 + sum g^2) although the statement says no squares",
         source=_DICE_HEAD + _DICE_MASKED + _DICE_TAIL.format(dims="(0, 2, 3)", denominator="(probs ** 2).sum(dims) + (one_hot ** 2).sum(dims)")),
    dict(cell="soft_dice_loss", id="dice-no-zero-guard",
         description="divides without a guard: with smooth=0 and every pixel ignored, 0/0 gives NaN",
         source=_DICE_HEAD + _DICE_MASKED + _DICE_TAIL_OK.replace(
             "torch.where(denom > 0, (2 * inter + smooth) / denom.clamp_min(1e-12), torch.ones_like(denom))",
             "(2 * inter + smooth) / denom")),
    dict(cell="soft_dice_loss", id="dice-delegates",
         description="calls segkit.losses.soft_dice_loss, the function the exercise asks for",
         source='''
def soft_dice_loss(logits, target, ignore_index=None, smooth=1.0):
    return losses.soft_dice_loss(logits, target, ignore_index=ignore_index, smooth=smooth)
'''),

    dict(cell="train_nuclei", id="train-one-epoch",
         description="far too short a training run: one epoch of 8 steps",
         source=_TRAIN.format(**{**_TRAIN_OK, "epochs": 1})),
    dict(cell="train_nuclei", id="train-tiny-lr",
         description="a learning rate of 1e-6: the weights barely move in the budget",
         source=_TRAIN.format(**{**_TRAIN_OK, "lr": 1e-6})),
    dict(cell="train_nuclei", id="train-a-different-model",
         description="trains a fresh UNet passed inline to fit, and keeps the untrained one in nuclei_model",
         source=_TRAIN.format(**{**_TRAIN_OK, "trained": "UNet(3, 2, base_channels=8, depth=3)"})),
    dict(cell="train_nuclei", id="train-segkit-unet",
         description="trains segkit's UNet instead of the learner's own",
         source=_TRAIN.format(**{**_TRAIN_OK, "model": "models.UNet(3, 2, base_channels=8, depth=3)"})),
]
