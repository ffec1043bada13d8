"""Plausible wrong answers for unit 04 (instructor side; never released to lessons/)."""
_FCN8S_TESTS = ("test_FCN8s",)  # the training cell after it would cost a minute per run


WRONG_ANSWERS = [
    # ---- bilinear_kernel ---------------------------------------------------------------------
    dict(
        cell="bilinear_kernel",
        id="factor-k-over-2",
        description="factor = kernel_size // 2: right for the even kernel of the example, wrong for odd ones",
        patch=[('    factor = (kernel_size + 1) // 2',
                '    factor = kernel_size // 2'),
               ('    channels = torch.arange(in_channels)\n    weight[channels, channels] = taps[:, None] * taps[None, :]  # (k, k) on the diagonal',
                '    for c in range(in_channels):\n        weight[c, c] = taps[:, None] * taps[None, :]')],
    ),
    dict(
        cell="bilinear_kernel",
        id="centre-k-over-2",
        description="centre = kernel_size / 2: the tent is shifted by half a tap",
        patch=[('    centre = (kernel_size - 1) / 2',
                '    centre = kernel_size / 2'),
               ('    channels = torch.arange(in_channels)\n    weight[channels, channels] = taps[:, None] * taps[None, :]  # (k, k) on the diagonal',
                '    for c in range(in_channels):\n        weight[c, c] = taps[:, None] * taps[None, :]')],
    ),
    dict(
        cell="bilinear_kernel",
        id="every-channel-pair",
        description="puts the kernel in every weight[c, d], mixing the scores of different classes",
        patch=[('    weight = torch.zeros(in_channels, out_channels, kernel_size, kernel_size)\n    channels = torch.arange(in_channels)\n    weight[channels, channels] = taps[:, None] * taps[None, :]  # (k, k) on the diagonal\n    return weight',
                '    kernel = taps[:, None] * taps[None, :]\n    return kernel.expand(in_channels, out_channels, kernel_size, kernel_size).clone()')],
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
        patch=[('    taps = 1 - (torch.arange(kernel_size, dtype=torch.float32) - centre).abs() / factor  # (k,)\n    weight = torch.zeros(in_channels, out_channels, kernel_size, kernel_size)\n    channels = torch.arange(in_channels)\n    weight[channels, channels] = taps[:, None] * taps[None, :]  # (k, k) on the diagonal',
                '    taps = 1 - (torch.arange(kernel_size, dtype=torch.float64) - centre).abs() / factor\n    weight = torch.zeros(in_channels, out_channels, kernel_size, kernel_size, dtype=torch.float64)\n    for c in range(in_channels):\n        weight[c, c] = taps[:, None] * taps[None, :]')],
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
        patch=[('        raise ValueError(f"batch and class dimensions differ: {tuple(upsampled.shape)} vs {tuple(skip.shape)}")\n    height, width = skip.shape[-2:]\n    if upsampled.shape[-2] < height or upsampled.shape[-1] < width:\n        raise ValueError(f"upsampled scores {tuple(upsampled.shape[-2:])} are smaller than the skip {(height, width)}")\n    return upsampled[..., :height, :width] + skip  # (N, K, H, W)',
                '        raise ValueError("batch and class dimensions differ")\n    h, w = skip.shape[-2:]\n    if upsampled.shape[-2] < h or upsampled.shape[-1] < w:\n        raise ValueError("upsampled is smaller than the skip")\n    fused = upsampled[..., :h, :w]\n    fused += skip\n    return fused')],
    ),
    dict(
        cell="fuse_skip",
        id="centre-crop",
        description="crops the centre (margin // 2 from each side): equals top-left only for margins of 1",
        patch=[('        raise ValueError(f"batch and class dimensions differ: {tuple(upsampled.shape)} vs {tuple(skip.shape)}")\n    height, width = skip.shape[-2:]\n    if upsampled.shape[-2] < height or upsampled.shape[-1] < width:\n        raise ValueError(f"upsampled scores {tuple(upsampled.shape[-2:])} are smaller than the skip {(height, width)}")\n    return upsampled[..., :height, :width] + skip  # (N, K, H, W)',
                '        raise ValueError("batch and class dimensions differ")\n    h, w = skip.shape[-2:]\n    if upsampled.shape[-2] < h or upsampled.shape[-1] < w:\n        raise ValueError("upsampled is smaller than the skip")\n    top, left = (upsampled.shape[-2] - h) // 2, (upsampled.shape[-1] - w) // 2\n    return upsampled[..., top:top + h, left:left + w] + skip')],
    ),
    dict(
        cell="fuse_skip",
        id="bottom-right-crop",
        description="keeps the bottom-right block (negative indices) instead of the top-left one",
        patch=[('        raise ValueError(f"batch and class dimensions differ: {tuple(upsampled.shape)} vs {tuple(skip.shape)}")\n    height, width = skip.shape[-2:]\n    if upsampled.shape[-2] < height or upsampled.shape[-1] < width:\n        raise ValueError(f"upsampled scores {tuple(upsampled.shape[-2:])} are smaller than the skip {(height, width)}")\n    return upsampled[..., :height, :width] + skip  # (N, K, H, W)',
                '        raise ValueError("batch and class dimensions differ")\n    h, w = skip.shape[-2:]\n    if upsampled.shape[-2] < h or upsampled.shape[-1] < w:\n        raise ValueError("upsampled is smaller than the skip")\n    return upsampled[..., -h:, -w:] + skip')],
    ),
    dict(
        cell="fuse_skip",
        id="resize-not-crop",
        description="resizes upsampled to the skip's size with F.interpolate instead of cropping it",
        patch=[('        raise ValueError(f"batch and class dimensions differ: {tuple(upsampled.shape)} vs {tuple(skip.shape)}")\n    height, width = skip.shape[-2:]\n    if upsampled.shape[-2] < height or upsampled.shape[-1] < width:\n        raise ValueError(f"upsampled scores {tuple(upsampled.shape[-2:])} are smaller than the skip {(height, width)}")\n    return upsampled[..., :height, :width] + skip  # (N, K, H, W)',
                '        raise ValueError("batch and class dimensions differ")\n    if upsampled.shape[-2] < skip.shape[-2] or upsampled.shape[-1] < skip.shape[-1]:\n        raise ValueError("upsampled is smaller than the skip")\n    return F.interpolate(upsampled, size=skip.shape[-2:], mode="bilinear", align_corners=False) + skip')],
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
        patch=[('        return self.upsample(scores)[..., : x.shape[-2], : x.shape[-1]]              # (N, K, H, W)',
                '        return self.upsample(scores)')],
        tests=_FCN8S_TESTS,
    ),
    dict(
        cell="FCN8s",
        id="upsamplers-swapped",
        description="uses up_pool3 for the c4 fusion and up_pool4 for the c3 fusion",
        patch=[('        scores = fuse_skip(self.up_pool4(scores), self.score_pool4(features["c4"]))  # (N, K, H/16, W/16)\n        scores = fuse_skip(self.up_pool3(scores), self.score_pool3(features["c3"]))  # (N, K, H/8, W/8)',
                '        scores = fuse_skip(self.up_pool3(scores), self.score_pool4(features["c4"]))\n        scores = fuse_skip(self.up_pool4(scores), self.score_pool3(features["c3"]))')],
        tests=_FCN8S_TESTS,
    ),
    dict(
        cell="FCN8s",
        id="interpolate-not-upsample",
        description="F.interpolate to the input size instead of the model's fixed x8 transposed convolution",
        patch=[('        return self.upsample(scores)[..., : x.shape[-2], : x.shape[-1]]              # (N, K, H, W)',
                '        return F.interpolate(scores, size=x.shape[-2:], mode="bilinear", align_corners=False)')],
        tests=_FCN8S_TESTS,
    ),
    dict(
        cell="FCN8s",
        id="skips-c3",
        description="FCN-16s: fuses c4 only and upsamples x16 with two x8 steps cropped to the input",
        patch=[('        scores = fuse_skip(self.up_pool3(scores), self.score_pool3(features["c3"]))  # (N, K, H/8, W/8)',
                '        scores = self.up_pool3(scores)')],
        tests=_FCN8S_TESTS,
    ),
    dict(
        cell="FCN8s",
        id="centre-crop-at-the-end",
        description="crops the centre of the x8 output instead of its top-left corner",
        patch=[('        return self.upsample(scores)[..., : x.shape[-2], : x.shape[-1]]              # (N, K, H, W)',
                '        out = self.upsample(scores)\n        top, left = (out.shape[-2] - x.shape[-2]) // 2, (out.shape[-1] - x.shape[-1]) // 2\n        return out[..., top:top + x.shape[-2], left:left + x.shape[-1]]')],
        tests=_FCN8S_TESTS,
    ),
]
