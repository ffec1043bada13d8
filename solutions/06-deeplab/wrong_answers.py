"""Plausible wrong answers for unit 06 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    dict(
        cell='measure_receptive_field',
        id='rf-counts-pixels',
        description="counts the influenced pixels of the centre row instead of their extent: a dilated conv's holes are left out",
        source='''
def measure_receptive_field(net: nn.Module, in_channels: int = 1, size: int = 65) -> tuple[int, int]:
    """(height, width) in input pixels of the region that influences net's centre output.

    Raises ValueError when that region touches the border of the size x size probe.
    """
    x = torch.ones(1, in_channels, size, size, requires_grad=True)
    out = net(x)                                                  # (1, F, h, w)
    h, w = out.shape[-2:]
    out[0, :, h // 2, w // 2].sum().backward()
    influenced = x.grad[0].abs().sum(dim=0) != 0                  # (size, size) bool
    rows = influenced.any(dim=1).nonzero().flatten()
    cols = influenced.any(dim=0).nonzero().flatten()
    if rows.numel() == 0:
        raise ValueError("no input pixel influences the centre output: are the weights all zero?")
    if rows.min() == 0 or cols.min() == 0 or rows.max() == size - 1 or cols.max() == size - 1:
        raise ValueError(f"the receptive field reaches the border of the {size}x{size} probe; use a larger size")
    centre_row, centre_col = influenced[size // 2], influenced[:, size // 2]
    return int(centre_col.sum()), int(centre_row.sum())
''',
    ),
    dict(
        cell='measure_receptive_field',
        id='rf-whole-output',
        description='back-propagates the sum of the whole output instead of one centre position',
        source='''
def measure_receptive_field(net: nn.Module, in_channels: int = 1, size: int = 65) -> tuple[int, int]:
    """(height, width) in input pixels of the region that influences net's centre output.

    Raises ValueError when that region touches the border of the size x size probe.
    """
    x = torch.ones(1, in_channels, size, size, requires_grad=True)
    out = net(x)                                                  # (1, F, h, w)
    h, w = out.shape[-2:]
    out.sum().backward()
    influenced = x.grad[0].abs().sum(dim=0) != 0                  # (size, size) bool
    rows = influenced.any(dim=1).nonzero().flatten()
    cols = influenced.any(dim=0).nonzero().flatten()
    if rows.numel() == 0:
        raise ValueError("no input pixel influences the centre output: are the weights all zero?")
    if rows.min() == 0 or cols.min() == 0 or rows.max() == size - 1 or cols.max() == size - 1:
        raise ValueError(f"the receptive field reaches the border of the {size}x{size} probe; use a larger size")
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
''',
    ),
    dict(
        cell='measure_receptive_field',
        id='rf-corner-output',
        description='back-propagates the top-left output position: its field is clipped by the padding',
        source='''
def measure_receptive_field(net: nn.Module, in_channels: int = 1, size: int = 65) -> tuple[int, int]:
    """(height, width) in input pixels of the region that influences net's centre output.

    Raises ValueError when that region touches the border of the size x size probe.
    """
    x = torch.ones(1, in_channels, size, size, requires_grad=True)
    out = net(x)                                                  # (1, F, h, w)
    h, w = out.shape[-2:]
    out[0, :, 0, 0].sum().backward()
    influenced = x.grad[0].abs().sum(dim=0) != 0                  # (size, size) bool
    rows = influenced.any(dim=1).nonzero().flatten()
    cols = influenced.any(dim=0).nonzero().flatten()
    if rows.numel() == 0:
        raise ValueError("no input pixel influences the centre output: are the weights all zero?")
    if rows.min() == 0 or cols.min() == 0 or rows.max() == size - 1 or cols.max() == size - 1:
        raise ValueError(f"the receptive field reaches the border of the {size}x{size} probe; use a larger size")
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
''',
    ),
    dict(
        cell='measure_receptive_field',
        id='rf-no-border-check',
        description='never checks whether the field reaches the border of the probe',
        source='''
def measure_receptive_field(net: nn.Module, in_channels: int = 1, size: int = 65) -> tuple[int, int]:
    """(height, width) in input pixels of the region that influences net's centre output.

    Raises ValueError when that region touches the border of the size x size probe.
    """
    x = torch.ones(1, in_channels, size, size, requires_grad=True)
    out = net(x)                                                  # (1, F, h, w)
    h, w = out.shape[-2:]
    out[0, :, h // 2, w // 2].sum().backward()
    influenced = x.grad[0].abs().sum(dim=0) != 0                  # (size, size) bool
    rows = influenced.any(dim=1).nonzero().flatten()
    cols = influenced.any(dim=0).nonzero().flatten()
    if rows.numel() == 0:
        raise ValueError("no input pixel influences the centre output: are the weights all zero?")
    if False:
        raise ValueError(f"the receptive field reaches the border of the {size}x{size} probe; use a larger size")
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
''',
    ),
    dict(
        cell='measure_receptive_field',
        id='rf-square',
        description='assumes square fields: returns the height twice',
        source='''
def measure_receptive_field(net: nn.Module, in_channels: int = 1, size: int = 65) -> tuple[int, int]:
    """(height, width) in input pixels of the region that influences net's centre output.

    Raises ValueError when that region touches the border of the size x size probe.
    """
    x = torch.ones(1, in_channels, size, size, requires_grad=True)
    out = net(x)                                                  # (1, F, h, w)
    h, w = out.shape[-2:]
    out[0, :, h // 2, w // 2].sum().backward()
    influenced = x.grad[0].abs().sum(dim=0) != 0                  # (size, size) bool
    rows = influenced.any(dim=1).nonzero().flatten()
    cols = influenced.any(dim=0).nonzero().flatten()
    if rows.numel() == 0:
        raise ValueError("no input pixel influences the centre output: are the weights all zero?")
    if rows.min() == 0 or cols.min() == 0 or rows.max() == size - 1 or cols.max() == size - 1:
        raise ValueError(f"the receptive field reaches the border of the {size}x{size} probe; use a larger size")
    return int(rows.max() - rows.min() + 1), int(rows.max() - rows.min() + 1)
''',
    ),
    dict(
        cell='measure_receptive_field',
        id='rf-tensor-values',
        description='returns 0-d tensors instead of Python ints',
        source='''
def measure_receptive_field(net: nn.Module, in_channels: int = 1, size: int = 65) -> tuple[int, int]:
    """(height, width) in input pixels of the region that influences net's centre output.

    Raises ValueError when that region touches the border of the size x size probe.
    """
    x = torch.ones(1, in_channels, size, size, requires_grad=True)
    out = net(x)                                                  # (1, F, h, w)
    h, w = out.shape[-2:]
    out[0, :, h // 2, w // 2].sum().backward()
    influenced = x.grad[0].abs().sum(dim=0) != 0                  # (size, size) bool
    rows = influenced.any(dim=1).nonzero().flatten()
    cols = influenced.any(dim=0).nonzero().flatten()
    if rows.numel() == 0:
        raise ValueError("no input pixel influences the centre output: are the weights all zero?")
    if rows.min() == 0 or cols.min() == 0 or rows.max() == size - 1 or cols.max() == size - 1:
        raise ValueError(f"the receptive field reaches the border of the {size}x{size} probe; use a larger size")
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
''',
    ),
    dict(
        cell='ASPP',
        id='aspp-padding-1',
        description='pads every 3x3 branch by 1 whatever its rate: dilated branches shrink the map',
        source='''
class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling: (N, in_channels, h, w) -> (N, out_channels, h, w)."""

    def __init__(self, in_channels: int, out_channels: int = 256, atrous_rates=(12, 24, 36)) -> None:
        super().__init__()
        def conv_bn_relu(kernel_size, rate=1):
            padding = (kernel_size - 1) // 2
            return nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=rate, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )

        pooling = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )
        self.branches = nn.ModuleList([conv_bn_relu(1)] + [conv_bn_relu(3, r) for r in atrous_rates] + [pooling])
        self.project = nn.Sequential(
            nn.Conv2d(len(self.branches) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        outputs = [branch(x) for branch in self.branches[:-1]]                       # each (N, out, h, w)
        pooled = self.branches[-1](x)                                                # (N, out, 1, 1)
        outputs.append(F.interpolate(pooled, size=size, mode="bilinear", align_corners=False))
        return self.project(torch.cat(outputs, dim=1))                               # (N, out, h, w)
''',
    ),
    dict(
        cell='ASPP',
        id='aspp-no-image-pooling',
        description='leaves out the image-pooling branch (four branches)',
        source='''
class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling: (N, in_channels, h, w) -> (N, out_channels, h, w)."""

    def __init__(self, in_channels: int, out_channels: int = 256, atrous_rates=(12, 24, 36)) -> None:
        super().__init__()
        def conv_bn_relu(kernel_size, rate=1):
            padding = (kernel_size - 1) // 2 * rate
            return nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=rate, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )

        pooling = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )
        self.branches = nn.ModuleList([conv_bn_relu(1)] + [conv_bn_relu(3, r) for r in atrous_rates])
        self.project = nn.Sequential(
            nn.Conv2d(len(self.branches) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        outputs = [branch(x) for branch in self.branches]
        return self.project(torch.cat(outputs, dim=1))                               # (N, out, h, w)
''',
    ),
    dict(
        cell='ASPP',
        id='aspp-max-pooling',
        description='image pooling with a global max instead of the global average',
        source='''
class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling: (N, in_channels, h, w) -> (N, out_channels, h, w)."""

    def __init__(self, in_channels: int, out_channels: int = 256, atrous_rates=(12, 24, 36)) -> None:
        super().__init__()
        def conv_bn_relu(kernel_size, rate=1):
            padding = (kernel_size - 1) // 2 * rate
            return nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=rate, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )

        pooling = nn.Sequential(
            nn.AdaptiveMaxPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )
        self.branches = nn.ModuleList([conv_bn_relu(1)] + [conv_bn_relu(3, r) for r in atrous_rates] + [pooling])
        self.project = nn.Sequential(
            nn.Conv2d(len(self.branches) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        outputs = [branch(x) for branch in self.branches[:-1]]                       # each (N, out, h, w)
        pooled = self.branches[-1](x)                                                # (N, out, 1, 1)
        outputs.append(F.interpolate(pooled, size=size, mode="bilinear", align_corners=False))
        return self.project(torch.cat(outputs, dim=1))                               # (N, out, h, w)
''',
    ),
    dict(
        cell='ASPP',
        id='aspp-pooled-first',
        description='concatenates the image-pooling output first, not in the order of the branches',
        source='''
class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling: (N, in_channels, h, w) -> (N, out_channels, h, w)."""

    def __init__(self, in_channels: int, out_channels: int = 256, atrous_rates=(12, 24, 36)) -> None:
        super().__init__()
        def conv_bn_relu(kernel_size, rate=1):
            padding = (kernel_size - 1) // 2 * rate
            return nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=rate, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )

        pooling = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )
        self.branches = nn.ModuleList([conv_bn_relu(1)] + [conv_bn_relu(3, r) for r in atrous_rates] + [pooling])
        self.project = nn.Sequential(
            nn.Conv2d(len(self.branches) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        outputs = [branch(x) for branch in self.branches[:-1]]                       # each (N, out, h, w)
        pooled = self.branches[-1](x)                                                # (N, out, 1, 1)
        outputs.insert(0, F.interpolate(pooled, size=size, mode="bilinear", align_corners=False))
        return self.project(torch.cat(outputs, dim=1))                               # (N, out, h, w)
''',
    ),
    dict(
        cell='ASPP',
        id='aspp-no-dropout',
        description='forgets the Dropout(0.5) at the end of the projection (eval-mode outputs still agree)',
        source='''
class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling: (N, in_channels, h, w) -> (N, out_channels, h, w)."""

    def __init__(self, in_channels: int, out_channels: int = 256, atrous_rates=(12, 24, 36)) -> None:
        super().__init__()
        def conv_bn_relu(kernel_size, rate=1):
            padding = (kernel_size - 1) // 2 * rate
            return nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=rate, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )

        pooling = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )
        self.branches = nn.ModuleList([conv_bn_relu(1)] + [conv_bn_relu(3, r) for r in atrous_rates] + [pooling])
        self.project = nn.Sequential(
            nn.Conv2d(len(self.branches) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        outputs = [branch(x) for branch in self.branches[:-1]]                       # each (N, out, h, w)
        pooled = self.branches[-1](x)                                                # (N, out, 1, 1)
        outputs.append(F.interpolate(pooled, size=size, mode="bilinear", align_corners=False))
        return self.project(torch.cat(outputs, dim=1))                               # (N, out, h, w)
''',
    ),
    dict(
        cell='ASPP',
        id='aspp-pooling-no-bn',
        description='no BatchNorm in the image-pooling branch (a 1x1 map, so it seems pointless)',
        source='''
class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling: (N, in_channels, h, w) -> (N, out_channels, h, w)."""

    def __init__(self, in_channels: int, out_channels: int = 256, atrous_rates=(12, 24, 36)) -> None:
        super().__init__()
        def conv_bn_relu(kernel_size, rate=1):
            padding = (kernel_size - 1) // 2 * rate
            return nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=rate, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )

        pooling = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.ReLU(),
        )
        self.branches = nn.ModuleList([conv_bn_relu(1)] + [conv_bn_relu(3, r) for r in atrous_rates] + [pooling])
        self.project = nn.Sequential(
            nn.Conv2d(len(self.branches) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        outputs = [branch(x) for branch in self.branches[:-1]]                       # each (N, out, h, w)
        pooled = self.branches[-1](x)                                                # (N, out, 1, 1)
        outputs.append(F.interpolate(pooled, size=size, mode="bilinear", align_corners=False))
        return self.project(torch.cat(outputs, dim=1))                               # (N, out, h, w)
''',
    ),
    dict(
        cell='ASPP',
        id='aspp-delegates',
        description="subclasses segkit's ASPP instead of writing it",
        source='''
import segkit.models


class ASPP(segkit.models.ASPP):
    """Atrous Spatial Pyramid Pooling: (N, in_channels, h, w) -> (N, out_channels, h, w)."""
''',
    ),
    dict(
        cell='ASPP',
        id='aspp-sum-branches',
        description='adds the branch outputs instead of concatenating them (projection takes out_channels)',
        source='''
class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling: (N, in_channels, h, w) -> (N, out_channels, h, w)."""

    def __init__(self, in_channels: int, out_channels: int = 256, atrous_rates=(12, 24, 36)) -> None:
        super().__init__()
        def conv_bn_relu(kernel_size, rate=1):
            padding = (kernel_size - 1) // 2 * rate
            return nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=rate, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )

        pooling = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )
        self.branches = nn.ModuleList([conv_bn_relu(1)] + [conv_bn_relu(3, r) for r in atrous_rates] + [pooling])
        self.project = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        outputs = [branch(x) for branch in self.branches[:-1]]                       # each (N, out, h, w)
        pooled = self.branches[-1](x)                                                # (N, out, 1, 1)
        outputs.append(F.interpolate(pooled, size=size, mode="bilinear", align_corners=False))
        return self.project(torch.stack(outputs).sum(dim=0))                               # (N, out, h, w)
''',
    ),
    dict(
        cell='deeplab_head',
        id='head-classifier-no-bias',
        description='no bias on the 1x1 classifier either',
        source='''
def deeplab_head(in_channels: int, num_classes: int, atrous_rates=(12, 24, 36), channels: int = 256) -> nn.Sequential:
    """ASPP -> 3x3 conv -> BN -> ReLU -> 1x1 classifier: (N, in_channels, h, w) -> (N, num_classes, h, w)."""
    return nn.Sequential(
        ASPP(in_channels, channels, atrous_rates),
        nn.Conv2d(channels, channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.Conv2d(channels, num_classes, 1, bias=False),
    )
''',
    ),
    dict(
        cell='deeplab_head',
        id='head-conv-bias',
        description='a bias on the 3x3 convolution, although BatchNorm follows it',
        source='''
def deeplab_head(in_channels: int, num_classes: int, atrous_rates=(12, 24, 36), channels: int = 256) -> nn.Sequential:
    """ASPP -> 3x3 conv -> BN -> ReLU -> 1x1 classifier: (N, in_channels, h, w) -> (N, num_classes, h, w)."""
    return nn.Sequential(
        ASPP(in_channels, channels, atrous_rates),
        nn.Conv2d(channels, channels, 3, padding=1),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.Conv2d(channels, num_classes, 1),
    )
''',
    ),
    dict(
        cell='deeplab_head',
        id='head-no-padding',
        description='3x3 convolution without padding: the score map shrinks by 2',
        source='''
def deeplab_head(in_channels: int, num_classes: int, atrous_rates=(12, 24, 36), channels: int = 256) -> nn.Sequential:
    """ASPP -> 3x3 conv -> BN -> ReLU -> 1x1 classifier: (N, in_channels, h, w) -> (N, num_classes, h, w)."""
    return nn.Sequential(
        ASPP(in_channels, channels, atrous_rates),
        nn.Conv2d(channels, channels, 3, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.Conv2d(channels, num_classes, 1),
    )
''',
    ),
    dict(
        cell='deeplab_head',
        id='head-relu-on-logits',
        description='a ReLU after the classifier, so no logit can be negative',
        source='''
def deeplab_head(in_channels: int, num_classes: int, atrous_rates=(12, 24, 36), channels: int = 256) -> nn.Sequential:
    """ASPP -> 3x3 conv -> BN -> ReLU -> 1x1 classifier: (N, in_channels, h, w) -> (N, num_classes, h, w)."""
    return nn.Sequential(
        ASPP(in_channels, channels, atrous_rates),
        nn.Conv2d(channels, channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.Conv2d(channels, num_classes, 1),
        nn.ReLU(),
    )
''',
    ),
    dict(
        cell='deeplab_head',
        id='head-no-batchnorm',
        description='leaves out the BatchNorm after the 3x3 convolution',
        source='''
def deeplab_head(in_channels: int, num_classes: int, atrous_rates=(12, 24, 36), channels: int = 256) -> nn.Sequential:
    """ASPP -> 3x3 conv -> BN -> ReLU -> 1x1 classifier: (N, in_channels, h, w) -> (N, num_classes, h, w)."""
    return nn.Sequential(
        ASPP(in_channels, channels, atrous_rates),
        nn.Conv2d(channels, channels, 3, padding=1, bias=False),
        nn.ReLU(),
        nn.Conv2d(channels, num_classes, 1),
    )
''',
    ),
    dict(
        cell='deeplab_head',
        id='head-delegates',
        description="returns segkit's DeepLabHead",
        source='''
import segkit.models


def deeplab_head(in_channels, num_classes, atrous_rates=(12, 24, 36), channels=256):
    return segkit.models.DeepLabHead(in_channels, num_classes, atrous_rates, channels)
''',
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-scale-factor-4',
        description='upsamples by a fixed factor 4: odd sizes round up, so the maps no longer match',
        source='''
class DeepLabV3PlusDecoder(nn.Module):
    """DeepLabV3+ decoder: forward(x (N, channels, h, w), low_level (N, C_low, H4, W4)) -> (N, K, H4, W4)."""

    def __init__(self, channels: int, low_level_channels: int, num_classes: int, low_level_projection: int = 48) -> None:
        super().__init__()

        def conv_bn_relu(cin, cout, kernel_size):
            return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())

        self.project = conv_bn_relu(low_level_channels, low_level_projection, 1)       # (N, 48, H4, W4)
        self.fuse = nn.Sequential(conv_bn_relu(channels + low_level_projection, channels, 3),
                                  conv_bn_relu(channels, channels, 3))                  # (N, channels, H4, W4)
        self.classifier = nn.Conv2d(channels, num_classes, 1)                           # (N, K, H4, W4)

    def forward(self, x: torch.Tensor, low_level: torch.Tensor) -> torch.Tensor:
        low = self.project(low_level)                                                        # (N, 48, H4, W4)
        x = F.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)
        return self.classifier(self.fuse(torch.cat([x, low], dim=1)))                      # (N, K, H4, W4)
''',
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-upsample-then-crop',
        description='upsamples x4 and crops to the low-level size: shapes fit but the maps are misaligned',
        source='''
class DeepLabV3PlusDecoder(nn.Module):
    """DeepLabV3+ decoder: forward(x (N, channels, h, w), low_level (N, C_low, H4, W4)) -> (N, K, H4, W4)."""

    def __init__(self, channels: int, low_level_channels: int, num_classes: int, low_level_projection: int = 48) -> None:
        super().__init__()

        def conv_bn_relu(cin, cout, kernel_size):
            return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())

        self.project = conv_bn_relu(low_level_channels, low_level_projection, 1)       # (N, 48, H4, W4)
        self.fuse = nn.Sequential(conv_bn_relu(channels + low_level_projection, channels, 3),
                                  conv_bn_relu(channels, channels, 3))                  # (N, channels, H4, W4)
        self.classifier = nn.Conv2d(channels, num_classes, 1)                           # (N, K, H4, W4)

    def forward(self, x: torch.Tensor, low_level: torch.Tensor) -> torch.Tensor:
        low = self.project(low_level)                                                        # (N, 48, H4, W4)
        x = F.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)[..., : low.shape[-2], : low.shape[-1]]
        return self.classifier(self.fuse(torch.cat([x, low], dim=1)))                      # (N, K, H4, W4)
''',
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-low-first',
        description='concatenates [projected low-level, x]: the weights then read the wrong channels',
        source='''
class DeepLabV3PlusDecoder(nn.Module):
    """DeepLabV3+ decoder: forward(x (N, channels, h, w), low_level (N, C_low, H4, W4)) -> (N, K, H4, W4)."""

    def __init__(self, channels: int, low_level_channels: int, num_classes: int, low_level_projection: int = 48) -> None:
        super().__init__()

        def conv_bn_relu(cin, cout, kernel_size):
            return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())

        self.project = conv_bn_relu(low_level_channels, low_level_projection, 1)       # (N, 48, H4, W4)
        self.fuse = nn.Sequential(conv_bn_relu(channels + low_level_projection, channels, 3),
                                  conv_bn_relu(channels, channels, 3))                  # (N, channels, H4, W4)
        self.classifier = nn.Conv2d(channels, num_classes, 1)                           # (N, K, H4, W4)

    def forward(self, x: torch.Tensor, low_level: torch.Tensor) -> torch.Tensor:
        low = self.project(low_level)                                                        # (N, 48, H4, W4)
        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=False)  # (N, ch, H4, W4)
        return self.classifier(self.fuse(torch.cat([low, x], dim=1)))                      # (N, K, H4, W4)
''',
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-align-corners',
        description='resizes with align_corners=True',
        source='''
class DeepLabV3PlusDecoder(nn.Module):
    """DeepLabV3+ decoder: forward(x (N, channels, h, w), low_level (N, C_low, H4, W4)) -> (N, K, H4, W4)."""

    def __init__(self, channels: int, low_level_channels: int, num_classes: int, low_level_projection: int = 48) -> None:
        super().__init__()

        def conv_bn_relu(cin, cout, kernel_size):
            return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())

        self.project = conv_bn_relu(low_level_channels, low_level_projection, 1)       # (N, 48, H4, W4)
        self.fuse = nn.Sequential(conv_bn_relu(channels + low_level_projection, channels, 3),
                                  conv_bn_relu(channels, channels, 3))                  # (N, channels, H4, W4)
        self.classifier = nn.Conv2d(channels, num_classes, 1)                           # (N, K, H4, W4)

    def forward(self, x: torch.Tensor, low_level: torch.Tensor) -> torch.Tensor:
        low = self.project(low_level)                                                        # (N, 48, H4, W4)
        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=True)
        return self.classifier(self.fuse(torch.cat([x, low], dim=1)))                      # (N, K, H4, W4)
''',
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-nearest',
        description='nearest-neighbour resize instead of bilinear',
        source='''
class DeepLabV3PlusDecoder(nn.Module):
    """DeepLabV3+ decoder: forward(x (N, channels, h, w), low_level (N, C_low, H4, W4)) -> (N, K, H4, W4)."""

    def __init__(self, channels: int, low_level_channels: int, num_classes: int, low_level_projection: int = 48) -> None:
        super().__init__()

        def conv_bn_relu(cin, cout, kernel_size):
            return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())

        self.project = conv_bn_relu(low_level_channels, low_level_projection, 1)       # (N, 48, H4, W4)
        self.fuse = nn.Sequential(conv_bn_relu(channels + low_level_projection, channels, 3),
                                  conv_bn_relu(channels, channels, 3))                  # (N, channels, H4, W4)
        self.classifier = nn.Conv2d(channels, num_classes, 1)                           # (N, K, H4, W4)

    def forward(self, x: torch.Tensor, low_level: torch.Tensor) -> torch.Tensor:
        low = self.project(low_level)                                                        # (N, 48, H4, W4)
        x = F.interpolate(x, size=low_level.shape[-2:], mode="nearest")
        return self.classifier(self.fuse(torch.cat([x, low], dim=1)))                      # (N, K, H4, W4)
''',
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-shrink-low-level',
        description="resizes the low-level features down to x's size instead of x up (scores at stride 16)",
        source='''
class DeepLabV3PlusDecoder(nn.Module):
    """DeepLabV3+ decoder: forward(x (N, channels, h, w), low_level (N, C_low, H4, W4)) -> (N, K, H4, W4)."""

    def __init__(self, channels: int, low_level_channels: int, num_classes: int, low_level_projection: int = 48) -> None:
        super().__init__()

        def conv_bn_relu(cin, cout, kernel_size):
            return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())

        self.project = conv_bn_relu(low_level_channels, low_level_projection, 1)       # (N, 48, H4, W4)
        self.fuse = nn.Sequential(conv_bn_relu(channels + low_level_projection, channels, 3),
                                  conv_bn_relu(channels, channels, 3))                  # (N, channels, H4, W4)
        self.classifier = nn.Conv2d(channels, num_classes, 1)                           # (N, K, H4, W4)

    def forward(self, x: torch.Tensor, low_level: torch.Tensor) -> torch.Tensor:
        low = self.project(low_level)                                                        # (N, 48, H4, W4)
        low = F.interpolate(low, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.classifier(self.fuse(torch.cat([x, low], dim=1)))                      # (N, K, H4, W4)
''',
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-no-projection',
        description='concatenates the raw low-level features without the 1x1 projection',
        source='''
class DeepLabV3PlusDecoder(nn.Module):
    """DeepLabV3+ decoder: forward(x (N, channels, h, w), low_level (N, C_low, H4, W4)) -> (N, K, H4, W4)."""

    def __init__(self, channels: int, low_level_channels: int, num_classes: int, low_level_projection: int = 48) -> None:
        super().__init__()

        def conv_bn_relu(cin, cout, kernel_size):
            return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())

        self.project = conv_bn_relu(low_level_channels, low_level_projection, 1)       # (N, 48, H4, W4)
        self.fuse = nn.Sequential(conv_bn_relu(channels + low_level_projection, channels, 3),
                                  conv_bn_relu(channels, channels, 3))                  # (N, channels, H4, W4)
        self.classifier = nn.Conv2d(channels, num_classes, 1)                           # (N, K, H4, W4)

    def forward(self, x: torch.Tensor, low_level: torch.Tensor) -> torch.Tensor:
        low = self.project(low_level)                                                        # (N, 48, H4, W4)
        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=False)  # (N, ch, H4, W4)
        return self.classifier(self.fuse(torch.cat([x, low_level], dim=1)))                      # (N, K, H4, W4)
''',
    ),
]
