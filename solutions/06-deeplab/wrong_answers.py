"""Plausible wrong answers for unit 06 (instructor side; never released to lessons/)."""
WRONG_ANSWERS = [
    dict(
        cell='measure_receptive_field',
        id='rf-counts-pixels',
        description="counts the influenced pixels of the centre row instead of their extent: a dilated conv's holes are left out",
        patch=[('    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)',
                '    centre_row, centre_col = influenced[size // 2], influenced[:, size // 2]\n    return int(centre_col.sum()), int(centre_row.sum())')],
    ),
    dict(
        cell='measure_receptive_field',
        id='rf-whole-output',
        description='back-propagates the sum of the whole output instead of one centre position',
        patch=[('    out[0, :, h // 2, w // 2].sum().backward()',
                '    out.sum().backward()')],
    ),
    dict(
        cell='measure_receptive_field',
        id='rf-corner-output',
        description='back-propagates the top-left output position: its field is clipped by the padding',
        patch=[('    out[0, :, h // 2, w // 2].sum().backward()',
                '    out[0, :, 0, 0].sum().backward()')],
    ),
    dict(
        cell='measure_receptive_field',
        id='rf-no-border-check',
        description='never checks whether the field reaches the border of the probe',
        patch=[('    if rows.min() == 0 or cols.min() == 0 or rows.max() == size - 1 or cols.max() == size - 1:',
                '    if False:')],
    ),
    dict(
        cell='measure_receptive_field',
        id='rf-square',
        description='assumes square fields: returns the height twice',
        patch=[('    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)',
                '    return int(rows.max() - rows.min() + 1), int(rows.max() - rows.min() + 1)')],
    ),
    dict(
        cell='measure_receptive_field',
        id='rf-tensor-values',
        description='returns 0-d tensors instead of Python ints',
        patch=[('    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)',
                '    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1')],
    ),
    dict(
        cell='ASPP',
        id='aspp-padding-1',
        description='pads every 3x3 branch by 1 whatever its rate: dilated branches shrink the map',
        patch=[('            padding = (kernel_size - 1) // 2 * rate',
                '            padding = (kernel_size - 1) // 2')],
    ),
    dict(
        cell='ASPP',
        id='aspp-no-image-pooling',
        description='leaves out the image-pooling branch (four branches)',
        patch=[('        self.branches = nn.ModuleList([conv_bn_relu(1)] + [conv_bn_relu(3, r) for r in atrous_rates] + [pooling])',
                '        self.branches = nn.ModuleList([conv_bn_relu(1)] + [conv_bn_relu(3, r) for r in atrous_rates])'),
               ('        outputs = [branch(x) for branch in self.branches[:-1]]                       # each (N, out, h, w)\n        pooled = self.branches[-1](x)                                                # (N, out, 1, 1)\n        outputs.append(F.interpolate(pooled, size=size, mode="bilinear", align_corners=False))',
                '        outputs = [branch(x) for branch in self.branches]')],
    ),
    dict(
        cell='ASPP',
        id='aspp-max-pooling',
        description='image pooling with a global max instead of the global average',
        patch=[('            nn.AdaptiveAvgPool2d(1),',
                '            nn.AdaptiveMaxPool2d(1),')],
    ),
    dict(
        cell='ASPP',
        id='aspp-pooled-first',
        description='concatenates the image-pooling output first, not in the order of the branches',
        patch=[('        outputs.append(F.interpolate(pooled, size=size, mode="bilinear", align_corners=False))',
                '        outputs.insert(0, F.interpolate(pooled, size=size, mode="bilinear", align_corners=False))')],
    ),
    dict(
        cell='ASPP',
        id='aspp-no-dropout',
        description='forgets the Dropout(0.5) at the end of the projection (eval-mode outputs still agree)',
        patch=[('            nn.Dropout(0.5),',
                '')],
    ),
    dict(
        cell='ASPP',
        id='aspp-pooling-no-bn',
        description='no BatchNorm in the image-pooling branch (a 1x1 map, so it seems pointless)',
        patch=[('            nn.Conv2d(in_channels, out_channels, 1, bias=False),\n            nn.BatchNorm2d(out_channels),',
                '            nn.Conv2d(in_channels, out_channels, 1, bias=False),')],
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
        patch=[('            nn.Conv2d(len(self.branches) * out_channels, out_channels, 1, bias=False),',
                '            nn.Conv2d(out_channels, out_channels, 1, bias=False),'),
               ('        return self.project(torch.cat(outputs, dim=1))                               # (N, out, h, w)',
                '        return self.project(torch.stack(outputs).sum(dim=0))                               # (N, out, h, w)')],
    ),
    dict(
        cell='deeplab_head',
        id='head-classifier-no-bias',
        description='no bias on the 1x1 classifier either',
        patch=[('        nn.Conv2d(channels, num_classes, 1),',
                '        nn.Conv2d(channels, num_classes, 1, bias=False),')],
    ),
    dict(
        cell='deeplab_head',
        id='head-conv-bias',
        description='a bias on the 3x3 convolution, although BatchNorm follows it',
        patch=[('        nn.Conv2d(channels, channels, 3, padding=1, bias=False),',
                '        nn.Conv2d(channels, channels, 3, padding=1),')],
    ),
    dict(
        cell='deeplab_head',
        id='head-no-padding',
        description='3x3 convolution without padding: the score map shrinks by 2',
        patch=[('        nn.Conv2d(channels, channels, 3, padding=1, bias=False),',
                '        nn.Conv2d(channels, channels, 3, bias=False),')],
    ),
    dict(
        cell='deeplab_head',
        id='head-relu-on-logits',
        description='a ReLU after the classifier, so no logit can be negative',
        patch=[('        nn.Conv2d(channels, num_classes, 1),',
                '        nn.Conv2d(channels, num_classes, 1),\n        nn.ReLU(),')],
    ),
    dict(
        cell='deeplab_head',
        id='head-no-batchnorm',
        description='leaves out the BatchNorm after the 3x3 convolution',
        patch=[('        nn.BatchNorm2d(channels),',
                '')],
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
        patch=[('        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=False)  # (N, ch, H4, W4)',
                '        x = F.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)')],
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-upsample-then-crop',
        description='upsamples x4 and crops to the low-level size: shapes fit but the maps are misaligned',
        patch=[('        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=False)  # (N, ch, H4, W4)',
                '        x = F.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)[..., : low.shape[-2], : low.shape[-1]]')],
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-low-first',
        description='concatenates [projected low-level, x]: the weights then read the wrong channels',
        patch=[('        return self.classifier(self.fuse(torch.cat([x, low], dim=1)))                      # (N, K, H4, W4)',
                '        return self.classifier(self.fuse(torch.cat([low, x], dim=1)))                      # (N, K, H4, W4)')],
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-align-corners',
        description='resizes with align_corners=True',
        patch=[('        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=False)  # (N, ch, H4, W4)',
                '        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=True)')],
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-nearest',
        description='nearest-neighbour resize instead of bilinear',
        patch=[('        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=False)  # (N, ch, H4, W4)',
                '        x = F.interpolate(x, size=low_level.shape[-2:], mode="nearest")')],
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-shrink-low-level',
        description="resizes the low-level features down to x's size instead of x up (scores at stride 16)",
        patch=[('        x = F.interpolate(x, size=low_level.shape[-2:], mode="bilinear", align_corners=False)  # (N, ch, H4, W4)',
                '        low = F.interpolate(low, size=x.shape[-2:], mode="bilinear", align_corners=False)')],
    ),
    dict(
        cell='DeepLabV3PlusDecoder',
        id='dec-no-projection',
        description='concatenates the raw low-level features without the 1x1 projection',
        patch=[('        return self.classifier(self.fuse(torch.cat([x, low], dim=1)))                      # (N, K, H4, W4)',
                '        return self.classifier(self.fuse(torch.cat([x, low_level], dim=1)))                      # (N, K, H4, W4)')],
    ),
]
