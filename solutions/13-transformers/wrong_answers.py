"""Plausible wrong answers for unit 13 (instructor side; never released to lessons/).

`python -m segkit.course wrong-answers 13-transformers` swaps each one into its answer cell, re-runs the
exercise's visible and hidden tests and fails if one keeps full marks.
"""
WRONG_ANSWERS = [
    # ---------------------------------------------------------------- OverlapPatchEmbed
    dict(
        cell="OverlapPatchEmbed",
        id="patch-no-padding",
        description="no padding: windows stop at the border, sizes round down (ViT's cut)",
        patch=[("padding=patch_size // 2)", "padding=0)")],
    ),
    dict(
        cell="OverlapPatchEmbed",
        id="patch-padding-3",
        description="padding fixed at 3, right for the visible 7x7 patches only",
        patch=[("padding=patch_size // 2)", "padding=3)")],
    ),
    dict(
        cell="OverlapPatchEmbed",
        id="patch-reshape-not-transpose",
        description="reshapes (N, C, h, w) straight to (N, h * w, C): channels and positions mixed up",
        patch=[("tokens = x.flatten(2).transpose(1, 2)", "tokens = x.reshape(x.shape[0], h * w, -1)")],
    ),
    dict(
        cell="OverlapPatchEmbed",
        id="patch-column-major",
        description="tokens in column-major order (token j * h + i is position (i, j))",
        patch=[("tokens = x.flatten(2).transpose(1, 2)", "tokens = x.transpose(2, 3).flatten(2).transpose(1, 2)")],
    ),
    dict(
        cell="OverlapPatchEmbed",
        id="patch-norm-eps",
        description="LayerNorm with eps=1e-6 (the paper's code) where the statement says PyTorch's default",
        patch=[("self.norm = nn.LayerNorm(embed_dim)", "self.norm = nn.LayerNorm(embed_dim, eps=1e-6)")],
    ),
    dict(
        cell="OverlapPatchEmbed",
        id="patch-delegates",
        description="inherits segkit's OverlapPatchEmbed instead of writing it",
        source='''
class OverlapPatchEmbed(segkit.models.OverlapPatchEmbed):
    """(N, in_channels, H, W) -> (tokens (N, h * w, embed_dim), h, w), overlapping patches."""
''',
    ),
    # ---------------------------------------------------------------- EfficientSelfAttention
    dict(
        cell="EfficientSelfAttention",
        id="attn-scale-dim",
        description="scales the scores by 1 / sqrt(dim) instead of 1 / sqrt(head dim)",
        patch=[("/ math.sqrt(d)", "/ math.sqrt(dim)")],
    ),
    dict(
        cell="EfficientSelfAttention",
        id="attn-softmax-queries",
        description="softmax over the queries instead of over the keys",
        patch=[(".softmax(dim=-1)", ".softmax(dim=-2)")],
    ),
    dict(
        cell="EfficientSelfAttention",
        id="attn-grid-no-transpose",
        description="puts the tokens on the grid with a reshape only: channels and positions mixed up",
        patch=[("grid = x.transpose(1, 2).reshape(n, dim, h, w)", "grid = x.reshape(n, dim, h, w)")],
    ),
    dict(
        cell="EfficientSelfAttention",
        id="attn-heads-interleaved",
        description="splits the heads with channels interleaved (head m gets channels m, m + heads, ...)",
        patch=[("return t.reshape(n, t.shape[1], self.num_heads, d).transpose(1, 2)",
                "return t.reshape(n, t.shape[1], d, self.num_heads).permute(0, 3, 1, 2)"),
               ("out = (weights @ v).transpose(1, 2).reshape(n, length, dim)",
                "out = (weights @ v).permute(0, 2, 3, 1).reshape(n, length, dim)")],
    ),
    dict(
        cell="EfficientSelfAttention",
        id="attn-no-norm",
        description="forgets the LayerNorm after the reduction",
        patch=[("reduced = self.norm(self.sr(grid).flatten(2).transpose(1, 2))",
                "reduced = self.sr(grid).flatten(2).transpose(1, 2)")],
    ),
    dict(
        cell="EfficientSelfAttention",
        id="attn-sr-always",
        description="builds the reduction layers also for sr_ratio 1",
        patch=[("if sr_ratio > 1:", "if sr_ratio >= 1:")],
    ),
    dict(
        cell="EfficientSelfAttention",
        id="attn-pad-to-ratio",
        description="pads the grid to a multiple of the ratio (keys round up) where the statement says the conv drops the rest",
        patch=[("grid = x.transpose(1, 2).reshape(n, dim, h, w)",
                "grid = F.pad(x.transpose(1, 2).reshape(n, dim, h, w), (0, -w % self.sr_ratio, 0, -h % self.sr_ratio))")],
    ),
    dict(
        cell="EfficientSelfAttention",
        id="attn-norm-eps",
        description="LayerNorm with eps=1e-6 (the paper's code) where the statement says PyTorch's default",
        patch=[("self.norm = nn.LayerNorm(dim)", "self.norm = nn.LayerNorm(dim, eps=1e-6)")],
    ),
    dict(
        cell="EfficientSelfAttention",
        id="attn-delegates",
        description="inherits segkit's EfficientSelfAttention instead of writing it",
        source='''
class EfficientSelfAttention(segkit.models.EfficientSelfAttention):
    """Multi-head self-attention with keys and values reduced sr_ratio times: (N, L, dim), h, w -> (N, L, dim)."""
''',
    ),
    # ---------------------------------------------------------------- MixFFN
    dict(
        cell="MixFFN",
        id="ffn-gelu-tanh",
        description="the tanh approximation of GELU where the statement says the exact one",
        patch=[("F.gelu(x)", 'F.gelu(x, approximate="tanh")')],
    ),
    dict(
        cell="MixFFN",
        id="ffn-gelu-before-dwconv",
        description="GELU right after fc1, before the depthwise convolution",
        patch=[("x = self.fc1(x)  ", "x = F.gelu(self.fc1(x))  "), ("return self.fc2(F.gelu(x))", "return self.fc2(x)")],
    ),
    dict(
        cell="MixFFN",
        id="ffn-not-depthwise",
        description="a full 3x3 convolution instead of a depthwise one (groups forgotten)",
        patch=[(", groups=hidden_dim)", ")")],
    ),
    dict(
        cell="MixFFN",
        id="ffn-grid-swapped",
        description="puts the tokens on a w x h grid (height and width swapped)",
        patch=[("reshape(n, hidden, h, w)", "reshape(n, hidden, w, h)")],
    ),
    dict(
        cell="MixFFN",
        id="ffn-relu",
        description="ReLU instead of GELU",
        patch=[("F.gelu(x)", "F.relu(x)")],
    ),
    dict(
        cell="MixFFN",
        id="ffn-delegates",
        description="inherits segkit's MixFFN instead of writing it",
        source='''
class MixFFN(segkit.models.MixFFN):
    """Linear -> 3x3 depthwise conv on the token grid -> GELU -> Linear: (N, L, dim), h, w -> (N, L, dim)."""
''',
    ),
    # ---------------------------------------------------------------- AllMLPDecoder
    dict(
        cell="AllMLPDecoder",
        id="dec-shallow-first",
        description="concatenates [c1, c2, c3, c4] instead of deepest first",
        patch=[("torch.cat(maps[::-1], dim=1)", "torch.cat(maps, dim=1)")],
    ),
    dict(
        cell="AllMLPDecoder",
        id="dec-scale-factor",
        description="upsamples stage i by 2 ** i instead of to c1's size: right only when no size was rounded up",
        patch=[("F.interpolate(x, size=size, mode=", "F.interpolate(x, scale_factor=2 ** len(maps), mode=")],
    ),
    dict(
        cell="AllMLPDecoder",
        id="dec-align-corners",
        description="align_corners=True",
        patch=[("align_corners=False", "align_corners=True")],
    ),
    dict(
        cell="AllMLPDecoder",
        id="dec-dropout-after-pred",
        description="dropout after the classifier: the same in eval mode, different in training",
        patch=[("return self.linear_pred(self.dropout(x))", "return self.dropout(self.linear_pred(x))")],
    ),
    dict(
        cell="AllMLPDecoder",
        id="dec-no-dropout",
        description="never applies the dropout layer it builds",
        patch=[("return self.linear_pred(self.dropout(x))", "return self.linear_pred(x)")],
    ),
    dict(
        cell="AllMLPDecoder",
        id="dec-changes-input-list",
        description="writes the resized maps back into the caller's list of features",
        patch=[("maps.append(F.interpolate(x, size=size, mode=\"bilinear\", align_corners=False))",
                "features[len(maps)] = F.interpolate(x, size=size, mode=\"bilinear\", align_corners=False)\n"
                "            maps.append(features[len(maps)])")],
    ),
    dict(
        cell="AllMLPDecoder",
        id="dec-delegates",
        description="inherits segkit's AllMLPDecoder instead of writing it",
        source='''
class AllMLPDecoder(segkit.models.AllMLPDecoder):
    """[c1, c2, c3, c4] (N, C_i, h_i, w_i) -> scores (N, num_classes, h_1, w_1)."""
''',
    ),
]
