"""Plausible wrong answers for unit 04 (instructor side; never released to lessons/)."""
_FCN8S_TESTS = ("test_FCN8s",)  # the training cell after it would cost a minute per run

_BILINEAR_CHECKS = '''
    if in_channels != out_channels:
        raise ValueError(f"in_channels must equal out_channels, got {in_channels} and {out_channels}")
    if kernel_size < 1:
        raise ValueError(f"kernel_size must be >= 1, got {kernel_size}")'''

_FCN8S_HEAD = '''
class FCN8s(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.backbone = TinyBackbone()
        channels = self.backbone.channels
        self.head = fcn_head(channels["c5"], num_classes)
        self.score_pool4 = nn.Conv2d(channels["c4"], num_classes, 1)
        self.score_pool3 = nn.Conv2d(channels["c3"], num_classes, 1)
        for score in (self.score_pool4, self.score_pool3):
            nn.init.zeros_(score.weight)
            nn.init.zeros_(score.bias)
        self.up_pool4 = bilinear_upsampler(num_classes, 2)
        self.up_pool3 = bilinear_upsampler(num_classes, 2)
        self.upsample = bilinear_upsampler(num_classes, 8, trainable=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone(x)
        scores = self.head(features["c5"])'''

WRONG_ANSWERS = [
    # ---- bilinear_kernel ---------------------------------------------------------------------
    dict(
        cell="bilinear_kernel",
        id="factor-k-over-2",
        description="factor = kernel_size // 2: right for the even kernel of the example, wrong for odd ones",
        source='''
def bilinear_kernel(in_channels, out_channels, kernel_size):''' + _BILINEAR_CHECKS + '''
    factor = kernel_size // 2
    centre = (kernel_size - 1) / 2
    taps = 1 - (torch.arange(kernel_size, dtype=torch.float32) - centre).abs() / factor
    weight = torch.zeros(in_channels, out_channels, kernel_size, kernel_size)
    for c in range(in_channels):
        weight[c, c] = taps[:, None] * taps[None, :]
    return weight
''',
    ),
    dict(
        cell="bilinear_kernel",
        id="centre-k-over-2",
        description="centre = kernel_size / 2: the tent is shifted by half a tap",
        source='''
def bilinear_kernel(in_channels, out_channels, kernel_size):''' + _BILINEAR_CHECKS + '''
    factor = (kernel_size + 1) // 2
    centre = kernel_size / 2
    taps = 1 - (torch.arange(kernel_size, dtype=torch.float32) - centre).abs() / factor
    weight = torch.zeros(in_channels, out_channels, kernel_size, kernel_size)
    for c in range(in_channels):
        weight[c, c] = taps[:, None] * taps[None, :]
    return weight
''',
    ),
    dict(
        cell="bilinear_kernel",
        id="every-channel-pair",
        description="puts the kernel in every weight[c, d], mixing the scores of different classes",
        source='''
def bilinear_kernel(in_channels, out_channels, kernel_size):''' + _BILINEAR_CHECKS + '''
    factor = (kernel_size + 1) // 2
    centre = (kernel_size - 1) / 2
    taps = 1 - (torch.arange(kernel_size, dtype=torch.float32) - centre).abs() / factor
    kernel = taps[:, None] * taps[None, :]
    return kernel.expand(in_channels, out_channels, kernel_size, kernel_size).clone()
''',
    ),
    dict(
        cell="bilinear_kernel",
        id="no-validation",
        description="no ValueError for in_channels != out_channels or kernel_size < 1",
        source='''
def bilinear_kernel(in_channels, out_channels, kernel_size):
    factor = (kernel_size + 1) // 2
    centre = (kernel_size - 1) / 2
    taps = 1 - (torch.arange(kernel_size, dtype=torch.float32) - centre).abs() / max(factor, 1)
    weight = torch.zeros(in_channels, out_channels, kernel_size, kernel_size)
    for c in range(min(in_channels, out_channels)):
        weight[c, c] = taps[:, None] * taps[None, :]
    return weight
''',
    ),
    dict(
        cell="bilinear_kernel",
        id="float64",
        description="builds the taps in float64 and returns a float64 weight",
        source='''
def bilinear_kernel(in_channels, out_channels, kernel_size):''' + _BILINEAR_CHECKS + '''
    factor = (kernel_size + 1) // 2
    centre = (kernel_size - 1) / 2
    taps = 1 - (torch.arange(kernel_size, dtype=torch.float64) - centre).abs() / factor
    weight = torch.zeros(in_channels, out_channels, kernel_size, kernel_size, dtype=torch.float64)
    for c in range(in_channels):
        weight[c, c] = taps[:, None] * taps[None, :]
    return weight
''',
    ),
    dict(
        cell="bilinear_kernel",
        id="delegates-segkit",
        description="calls segkit.models.bilinear_kernel, segkit's version of this exercise",
        source='''
from segkit.models import bilinear_kernel as segkit_bilinear_kernel


def bilinear_kernel(in_channels, out_channels, kernel_size):
    return segkit_bilinear_kernel(in_channels, out_channels, kernel_size)
''',
    ),
    # ---- fcn_head ----------------------------------------------------------------------------
    dict(
        cell="fcn_head",
        id="conv-with-bias",
        description="keeps the 3x3 convolution's bias although BatchNorm follows",
        source='''
def fcn_head(in_channels, num_classes):
    inter = in_channels // 4
    return nn.Sequential(nn.Conv2d(in_channels, inter, 3, padding=1), nn.BatchNorm2d(inter), nn.ReLU(),
                         nn.Dropout(0.1), nn.Conv2d(inter, num_classes, 1))
''',
    ),
    dict(
        cell="fcn_head",
        id="no-padding",
        description="3x3 convolution without padding: the score map shrinks by 2 in each direction",
        source='''
def fcn_head(in_channels, num_classes):
    inter = in_channels // 4
    return nn.Sequential(nn.Conv2d(in_channels, inter, 3, bias=False), nn.BatchNorm2d(inter), nn.ReLU(),
                         nn.Dropout(0.1), nn.Conv2d(inter, num_classes, 1))
''',
    ),
    dict(
        cell="fcn_head",
        id="relu-before-bn",
        description="conv -> ReLU -> BatchNorm: the order of layers 1 and 2 swapped",
        source='''
def fcn_head(in_channels, num_classes):
    inter = in_channels // 4
    return nn.Sequential(nn.Conv2d(in_channels, inter, 3, padding=1, bias=False), nn.ReLU(), nn.BatchNorm2d(inter),
                         nn.Dropout(0.1), nn.Conv2d(inter, num_classes, 1))
''',
    ),
    dict(
        cell="fcn_head",
        id="dropout-half",
        description="nn.Dropout() with its default p=0.5 instead of 0.1",
        source='''
def fcn_head(in_channels, num_classes):
    inter = in_channels // 4
    return nn.Sequential(nn.Conv2d(in_channels, inter, 3, padding=1, bias=False), nn.BatchNorm2d(inter), nn.ReLU(),
                         nn.Dropout(), nn.Conv2d(inter, num_classes, 1))
''',
    ),
    dict(
        cell="fcn_head",
        id="inter-half",
        description="in_channels // 2 intermediate channels instead of in_channels // 4",
        source='''
def fcn_head(in_channels, num_classes):
    inter = in_channels // 2
    return nn.Sequential(nn.Conv2d(in_channels, inter, 3, padding=1, bias=False), nn.BatchNorm2d(inter), nn.ReLU(),
                         nn.Dropout(0.1), nn.Conv2d(inter, num_classes, 1))
''',
    ),
    dict(
        cell="fcn_head",
        id="delegates-fcnhead",
        description="returns segkit.models.FCNHead, segkit's version of this exercise",
        source='''
from segkit.models.fcn import FCNHead


def fcn_head(in_channels, num_classes):
    return FCNHead(in_channels, num_classes)
''',
    ),
    # ---- fuse_skip ---------------------------------------------------------------------------
    dict(
        cell="fuse_skip",
        id="adds-in-place",
        description="crops a view of upsampled and adds the skip into it in place (+=), changing the input",
        source='''
def fuse_skip(upsampled, skip):
    if upsampled.shape[:2] != skip.shape[:2]:
        raise ValueError("batch and class dimensions differ")
    h, w = skip.shape[-2:]
    if upsampled.shape[-2] < h or upsampled.shape[-1] < w:
        raise ValueError("upsampled is smaller than the skip")
    fused = upsampled[..., :h, :w]
    fused += skip
    return fused
''',
    ),
    dict(
        cell="fuse_skip",
        id="centre-crop",
        description="crops the centre (margin // 2 from each side): equals top-left only for margins of 1",
        source='''
def fuse_skip(upsampled, skip):
    if upsampled.shape[:2] != skip.shape[:2]:
        raise ValueError("batch and class dimensions differ")
    h, w = skip.shape[-2:]
    if upsampled.shape[-2] < h or upsampled.shape[-1] < w:
        raise ValueError("upsampled is smaller than the skip")
    top, left = (upsampled.shape[-2] - h) // 2, (upsampled.shape[-1] - w) // 2
    return upsampled[..., top:top + h, left:left + w] + skip
''',
    ),
    dict(
        cell="fuse_skip",
        id="bottom-right-crop",
        description="keeps the bottom-right block (negative indices) instead of the top-left one",
        source='''
def fuse_skip(upsampled, skip):
    if upsampled.shape[:2] != skip.shape[:2]:
        raise ValueError("batch and class dimensions differ")
    h, w = skip.shape[-2:]
    if upsampled.shape[-2] < h or upsampled.shape[-1] < w:
        raise ValueError("upsampled is smaller than the skip")
    return upsampled[..., -h:, -w:] + skip
''',
    ),
    dict(
        cell="fuse_skip",
        id="resize-not-crop",
        description="resizes upsampled to the skip's size with F.interpolate instead of cropping it",
        source='''
def fuse_skip(upsampled, skip):
    if upsampled.shape[:2] != skip.shape[:2]:
        raise ValueError("batch and class dimensions differ")
    if upsampled.shape[-2] < skip.shape[-2] or upsampled.shape[-1] < skip.shape[-1]:
        raise ValueError("upsampled is smaller than the skip")
    return F.interpolate(upsampled, size=skip.shape[-2:], mode="bilinear", align_corners=False) + skip
''',
    ),
    dict(
        cell="fuse_skip",
        id="no-checks",
        description="no ValueError: broadcasting adds a batch of 1 to a batch of 2, a too-small map fails inside torch",
        source='''
def fuse_skip(upsampled, skip):
    h, w = skip.shape[-2:]
    return upsampled[..., :h, :w] + skip
''',
    ),
    dict(
        cell="fuse_skip",
        id="delegates-crop-like",
        description="calls segkit.models.fcn.crop_like, segkit's version of the crop this exercise is about",
        source='''
from segkit.models.fcn import crop_like


def fuse_skip(upsampled, skip):
    if upsampled.shape[:2] != skip.shape[:2]:
        raise ValueError("batch and class dimensions differ")
    return crop_like(upsampled, skip) + skip
''',
    ),
    # ---- FCN8s -------------------------------------------------------------------------------
    dict(
        cell="FCN8s",
        id="no-final-crop",
        description="forgets the final crop: odd input sizes give logits larger than the image",
        source=_FCN8S_HEAD + '''
        scores = fuse_skip(self.up_pool4(scores), self.score_pool4(features["c4"]))
        scores = fuse_skip(self.up_pool3(scores), self.score_pool3(features["c3"]))
        return self.upsample(scores)
''',
        tests=_FCN8S_TESTS,
    ),
    dict(
        cell="FCN8s",
        id="upsamplers-swapped",
        description="uses up_pool3 for the c4 fusion and up_pool4 for the c3 fusion",
        source=_FCN8S_HEAD + '''
        scores = fuse_skip(self.up_pool3(scores), self.score_pool4(features["c4"]))
        scores = fuse_skip(self.up_pool4(scores), self.score_pool3(features["c3"]))
        return self.upsample(scores)[..., : x.shape[-2], : x.shape[-1]]
''',
        tests=_FCN8S_TESTS,
    ),
    dict(
        cell="FCN8s",
        id="interpolate-not-upsample",
        description="F.interpolate to the input size instead of the model's fixed x8 transposed convolution",
        source=_FCN8S_HEAD + '''
        scores = fuse_skip(self.up_pool4(scores), self.score_pool4(features["c4"]))
        scores = fuse_skip(self.up_pool3(scores), self.score_pool3(features["c3"]))
        return F.interpolate(scores, size=x.shape[-2:], mode="bilinear", align_corners=False)
''',
        tests=_FCN8S_TESTS,
    ),
    dict(
        cell="FCN8s",
        id="skips-c3",
        description="FCN-16s: fuses c4 only and upsamples x16 with two x8 steps cropped to the input",
        source=_FCN8S_HEAD + '''
        scores = fuse_skip(self.up_pool4(scores), self.score_pool4(features["c4"]))
        scores = self.up_pool3(scores)
        return self.upsample(scores)[..., : x.shape[-2], : x.shape[-1]]
''',
        tests=_FCN8S_TESTS,
    ),
    dict(
        cell="FCN8s",
        id="centre-crop-at-the-end",
        description="crops the centre of the x8 output instead of its top-left corner",
        source=_FCN8S_HEAD + '''
        scores = fuse_skip(self.up_pool4(scores), self.score_pool4(features["c4"]))
        scores = fuse_skip(self.up_pool3(scores), self.score_pool3(features["c3"]))
        out = self.upsample(scores)
        top, left = (out.shape[-2] - x.shape[-2]) // 2, (out.shape[-1] - x.shape[-1]) // 2
        return out[..., top:top + x.shape[-2], left:left + x.shape[-1]]
''',
        tests=_FCN8S_TESTS,
    ),
]
