"""SegFormer (Xie et al., 2021): a Mix Transformer encoder and an all-MLP decoder.

The image is cut into overlapping patches that become tokens; four stages of transformer blocks
build a pyramid of features at strides 4, 8, 16 and 32, like a CNN backbone's; a decoder made of
linear layers only brings them to stride 4 and fuses them::

    image (N, 3, H, W)
      -> stage 1: OverlapPatchEmbed 7x7 stride 4 -> blocks -> LayerNorm -> c1 (N, C1, H/4, W/4)
      -> stage 2: OverlapPatchEmbed 3x3 stride 2 -> blocks -> LayerNorm -> c2 (N, C2, H/8, W/8)
      -> stage 3: ...                                                   -> c3 (N, C3, H/16, W/16)
      -> stage 4: ...                                                   -> c4 (N, C4, H/32, W/32)
    block: x + EfficientSelfAttention(LayerNorm(x)), then x + MixFFN(LayerNorm(x))
    AllMLPDecoder: Linear Ci -> D per stage, bilinear to H/4, concat [c4, c3, c2, c1],
                   1x1 conv -> BN -> ReLU, dropout, 1x1 classifier -> (N, K, H/4, W/4)

Efficient self-attention shrinks the keys and values by ``sr_ratio`` in each direction with a
strided convolution, so the attention matrix is ``L x L / R^2`` instead of ``L x L`` (L tokens).
Mix-FFN puts a 3x3 depthwise convolution between the two linear layers of the MLP: it leaks
position into the tokens, so no positional encoding is needed and any input size works.

Sizes are rounded up at each stage (``ceil(H / 4)``, then ``ceil(./2)``): the model accepts any
``H, W >= 32``. With the same weights, logits equal Hugging Face ``transformers``'
``SegformerForSemanticSegmentation`` upsampled bilinearly to the input size (see
``segkit.models.convert.from_transformers``). Built in lessons/13-transformers.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from segkit._checks import check_num_classes
from segkit.models._utils import SegmentationModel


@dataclass(frozen=True)
class SegFormerConfig:
    """The sizes of a SegFormer: one entry per stage for the tuples.

    Attributes:
        hidden_sizes: channels C_i of the four stages.
        depths: transformer blocks per stage.
        num_heads: attention heads per stage (each must divide its hidden size).
        sr_ratios: spatial-reduction ratio R_i of the keys and values (1 = plain attention).
        mlp_ratios: hidden width of Mix-FFN as a multiple of C_i.
        patch_sizes: kernel of each overlapping patch embedding.
        strides: stride of each overlapping patch embedding (their product is the output stride).
        decoder_channels: width D of the all-MLP decoder.
        drop_path_rate: stochastic depth of the last block (linearly from 0 at the first block).
        dropout: dropout before the decoder's classifier.
    """

    hidden_sizes: tuple[int, ...] = (32, 64, 160, 256)
    depths: tuple[int, ...] = (2, 2, 2, 2)
    num_heads: tuple[int, ...] = (1, 2, 5, 8)
    sr_ratios: tuple[int, ...] = (8, 4, 2, 1)
    mlp_ratios: tuple[int, ...] = (4, 4, 4, 4)
    patch_sizes: tuple[int, ...] = (7, 3, 3, 3)
    strides: tuple[int, ...] = (4, 2, 2, 2)
    decoder_channels: int = 256
    drop_path_rate: float = 0.1
    dropout: float = 0.1

    def __post_init__(self) -> None:
        stages = len(self.hidden_sizes)
        for field in ("hidden_sizes", "depths", "num_heads", "sr_ratios", "mlp_ratios", "patch_sizes", "strides"):
            value = tuple(getattr(self, field))
            object.__setattr__(self, field, value)
            if len(value) != stages or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in value):
                raise ValueError(f"{field} must be {stages} positive ints (one per stage), got {value!r}")
        for size, heads in zip(self.hidden_sizes, self.num_heads):
            if size % heads:
                raise ValueError(f"num_heads {self.num_heads} must divide hidden_sizes {self.hidden_sizes} stage by stage")
        if not isinstance(self.decoder_channels, int) or self.decoder_channels < 1:
            raise ValueError(f"decoder_channels must be a positive int, got {self.decoder_channels!r}")
        for field in ("drop_path_rate", "dropout"):
            if not 0.0 <= float(getattr(self, field)) < 1.0:
                raise ValueError(f"{field} must be in [0, 1), got {getattr(self, field)!r}")
        stride = 1
        for ratio, step in zip(self.sr_ratios, self.strides):
            stride *= step
            if ratio > max(self.output_stride // stride, 1):
                raise ValueError(
                    f"sr_ratios {self.sr_ratios}: an input of {self.output_stride}x{self.output_stride} pixels (the "
                    f"smallest accepted) leaves {self.output_stride // stride}x{self.output_stride // stride} tokens at stride "
                    f"{stride}, fewer than its ratio {ratio}"
                )

    @property
    def output_stride(self) -> int:
        """The stride of the last stage: 32 for the published configurations."""
        return math.prod(self.strides)


SEGFORMER_CONFIGS: dict[str, SegFormerConfig] = {
    # MiT-b0 with its decoder, as published (3.7 M parameters with ADE20K's 150 classes).
    "b0": SegFormerConfig(),
    # A CPU-sized model for the lessons: half of b0's widths, one block per stage.
    "tiny": SegFormerConfig(
        hidden_sizes=(16, 32, 64, 128),
        depths=(1, 1, 1, 1),
        num_heads=(1, 1, 2, 4),
        sr_ratios=(4, 2, 1, 1),
        decoder_channels=64,
        drop_path_rate=0.0,
        dropout=0.0,
    ),
}
"""Named configurations for ``SegFormer(num_classes, config=NAME)``."""


class OverlapPatchEmbed(nn.Module):
    """Image or feature map -> tokens: a ``patch_size`` conv with ``stride`` and padding ``patch_size // 2``.

    Patches overlap (7x7 windows every 4 pixels in stage 1) so that neighbouring tokens share
    pixels. ``(N, C_in, H, W) -> tokens (N, h * w, C), h, w`` with ``h = ceil(H / stride)`` for the
    published odd patch sizes; the tokens are row-major (``h`` rows of ``w`` tokens) and
    LayerNorm-ed over the channels.
    """

    def __init__(self, in_channels: int, embed_dim: int, patch_size: int = 7, stride: int = 4) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, patch_size, stride=stride, padding=patch_size // 2)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        x = self.proj(x)  # (N, C, h, w)
        height, width = x.shape[-2:]
        tokens = x.flatten(2).transpose(1, 2)  # (N, h * w, C)
        return self.norm(tokens), height, width


class EfficientSelfAttention(nn.Module):
    """Multi-head self-attention whose keys and values are spatially reduced ``sr_ratio`` times.

    Queries come from every token; keys and values from the token map shrunk by a
    ``sr_ratio x sr_ratio`` conv with stride ``sr_ratio`` (then LayerNorm), so each of the ``L``
    queries attends to ``L' = floor(h / R) * floor(w / R)`` tokens. ``sr_ratio=1`` is plain
    attention (no ``sr``/``norm`` layers). ``(N, L, C), h, w -> (N, L, C)`` with ``L = h * w``.
    """

    def __init__(self, dim: int, num_heads: int = 1, sr_ratio: int = 1) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"num_heads={num_heads} must divide dim={dim}")
        self.num_heads, self.sr_ratio = num_heads, sr_ratio
        self.scale = (dim // num_heads) ** -0.5
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, stride=sr_ratio)
            self.norm = nn.LayerNorm(dim)
        self.proj = nn.Linear(dim, dim)

    def reduce(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """The tokens keys and values are made from: ``(N, L, C) -> (N, L', C)``."""
        if self.sr_ratio == 1:
            return x
        n, length, channels = x.shape
        grid = x.transpose(1, 2).reshape(n, channels, height, width)  # (N, C, h, w)
        reduced = self.sr(grid).flatten(2).transpose(1, 2)  # (N, L', C), L' = (h // R) * (w // R)
        return self.norm(reduced)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        n, length, channels = x.shape
        return x.reshape(n, length, self.num_heads, channels // self.num_heads).transpose(1, 2)  # (N, heads, L, C/heads)

    def attention(self, x: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(weights (N, heads, L, L'), values (N, heads, L', C / heads))``; each row of weights sums to 1."""
        reduced = self.reduce(x, height, width)  # (N, L', C)
        q, k, v = self._heads(self.q(x)), self._heads(self.k(reduced)), self._heads(self.v(reduced))
        weights = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)  # (N, heads, L, L')
        return weights, v

    def forward(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        weights, v = self.attention(x, height, width)
        out = (weights @ v).transpose(1, 2).flatten(2)  # (N, L, C)
        return self.proj(out)

    def extra_repr(self) -> str:
        return f"num_heads={self.num_heads}, sr_ratio={self.sr_ratio}"


class MixFFN(nn.Module):
    """The MLP of a block with a 3x3 depthwise conv inside: Linear -> DWConv -> GELU -> Linear.

    The depthwise conv mixes each token with its 8 neighbours, which tells the network where a
    token is (zero padding at the border) without a positional encoding.
    ``(N, L, C), h, w -> (N, L, C)``; the hidden width is ``hidden_dim``.
    """

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.dwconv = nn.Conv2d(hidden_dim, hidden_dim, 3, padding=1, groups=hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        x = self.fc1(x)  # (N, L, hidden)
        n, length, hidden = x.shape
        grid = x.transpose(1, 2).reshape(n, hidden, height, width)  # (N, hidden, h, w)
        x = self.dwconv(grid).flatten(2).transpose(1, 2)  # (N, L, hidden)
        return self.fc2(F.gelu(x))  # (N, L, C)


class DropPath(nn.Module):
    """Stochastic depth: in training, zero a residual branch for a random ``p`` of the samples
    (and scale the others by ``1 / (1 - p)``); identity in eval mode or with ``p = 0``."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device) >= self.p
        return x * keep / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MixTransformerBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``; keeps (N, L, C)."""

    def __init__(self, dim: int, num_heads: int, sr_ratio: int, mlp_ratio: int, drop_path: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = EfficientSelfAttention(dim, num_heads, sr_ratio)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MixFFN(dim, dim * mlp_ratio)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), height, width))  # (N, L, C)
        return x + self.drop_path(self.mlp(self.norm2(x), height, width))  # (N, L, C)


class MixTransformerStage(nn.Module):
    """OverlapPatchEmbed -> blocks -> LayerNorm -> back to a map: ``(N, C_in, H, W) -> (N, C, h, w)``."""

    def __init__(
        self,
        in_channels: int,
        dim: int,
        *,
        depth: int,
        num_heads: int,
        sr_ratio: int,
        mlp_ratio: int,
        patch_size: int,
        stride: int,
        drop_paths: Sequence[float] = (),
    ) -> None:
        super().__init__()
        drop_paths = tuple(drop_paths) or (0.0,) * depth
        self.patch_embed = OverlapPatchEmbed(in_channels, dim, patch_size, stride)
        self.blocks = nn.ModuleList(
            [MixTransformerBlock(dim, num_heads, sr_ratio, mlp_ratio, p) for p in drop_paths]
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens, height, width = self.patch_embed(x)  # (N, h * w, C)
        for block in self.blocks:
            tokens = block(tokens, height, width)
        tokens = self.norm(tokens)
        return tokens.transpose(1, 2).reshape(x.shape[0], -1, height, width)  # (N, C, h, w)


class MixTransformer(nn.Module):
    """The hierarchical encoder (MiT): four stages, features at strides 4, 8, 16, 32.

    ``(N, C_in, H, W) -> [c1 (N, C1, H/4, W/4), c2 (N, C2, H/8, W/8), c3 (.., H/16, ..), c4 (.., H/32, ..)]``
    (sizes rounded up). ``channels`` lists ``C1..C4``.
    """

    def __init__(self, config: SegFormerConfig, in_channels: int = 3) -> None:
        super().__init__()
        total = sum(config.depths)
        rates = [config.drop_path_rate * i / max(total - 1, 1) for i in range(total)]  # 0 -> rate, block by block
        self.channels = list(config.hidden_sizes)
        self.stages = nn.ModuleList()
        start = 0
        for i, dim in enumerate(config.hidden_sizes):
            depth = config.depths[i]
            self.stages.append(
                MixTransformerStage(
                    in_channels if i == 0 else config.hidden_sizes[i - 1],
                    dim,
                    depth=depth,
                    num_heads=config.num_heads[i],
                    sr_ratio=config.sr_ratios[i],
                    mlp_ratio=config.mlp_ratios[i],
                    patch_size=config.patch_sizes[i],
                    stride=config.strides[i],
                    drop_paths=rates[start : start + depth],
                )
            )
            start += depth

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for stage in self.stages:
            x = stage(x)  # (N, C_i, H / stride_i, W / stride_i)
            features.append(x)
        return features


class AllMLPDecoder(nn.Module):
    """SegFormer's decoder: per-stage Linear to ``channels``, upsample to c1, concat, fuse, classify.

    ``forward([c1, c2, c3, c4]) -> (N, num_classes, h1, w1)`` where ``(h1, w1)`` is c1's size.
    The maps are concatenated deepest first, ``[c4, c3, c2, c1]``, as in the paper's code (and
    ``transformers``), so that published weights load.
    """

    def __init__(self, in_channels: Sequence[int], channels: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.linear_c = nn.ModuleList([nn.Linear(c, channels) for c in in_channels])
        self.linear_fuse = nn.Sequential(
            nn.Conv2d(len(in_channels) * channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
        )
        self.dropout = nn.Dropout(dropout)
        self.linear_pred = nn.Conv2d(channels, num_classes, 1)

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        size = features[0].shape[-2:]  # (h1, w1) = (H/4, W/4)
        maps = []
        for feature, linear in zip(features, self.linear_c):
            n, _, height, width = feature.shape
            x = linear(feature.flatten(2).transpose(1, 2))  # (N, h_i * w_i, D)
            x = x.transpose(1, 2).reshape(n, -1, height, width)  # (N, D, h_i, w_i)
            maps.append(F.interpolate(x, size=size, mode="bilinear", align_corners=False))  # (N, D, h1, w1)
        x = self.linear_fuse(torch.cat(maps[::-1], dim=1))  # (N, 4D, h1, w1) -> (N, D, h1, w1)
        return self.linear_pred(self.dropout(x))  # (N, K, h1, w1)


def resolve_config(config: str | SegFormerConfig | Mapping[str, Any]) -> SegFormerConfig:
    """A :class:`SegFormerConfig` from a name in ``SEGFORMER_CONFIGS``, a config, or a dict of its fields."""
    if isinstance(config, SegFormerConfig):
        return config
    if isinstance(config, str):
        if config not in SEGFORMER_CONFIGS:
            raise ValueError(f"unknown SegFormer config {config!r}; choose one of {sorted(SEGFORMER_CONFIGS)} or pass a SegFormerConfig")
        return SEGFORMER_CONFIGS[config]
    if isinstance(config, Mapping):
        unknown = set(config) - {f.name for f in dataclasses.fields(SegFormerConfig)}
        if unknown:
            raise ValueError(f"unknown SegFormerConfig fields {sorted(unknown)}")
        return SegFormerConfig(**config)
    raise TypeError(f"config must be a name, a SegFormerConfig or a dict, got {type(config).__name__}")


class SegFormer(SegmentationModel):
    """SegFormer: Mix Transformer encoder + all-MLP decoder, logits at input resolution.

    Args:
        num_classes: number of classes K.
        config: ``"tiny"`` (CPU-sized, the lessons'), ``"b0"`` (MiT-b0 as published), a
            :class:`SegFormerConfig`, or a dict of its fields.
        in_channels: channels of the input image.

    ``forward``: float ``(N, in_channels, H, W)`` with ``H, W >= 32`` (the output stride) -> logits ``(N, K, H, W)``,
    the decoder's stride-4 scores upsampled bilinearly (``align_corners=False``). Weights are
    initialised as in the paper's code (truncated normal 0.02 for linear layers, He for convs).
    Built in lessons/13-transformers.
    """

    def __init__(self, num_classes: int, config: str | SegFormerConfig | Mapping[str, Any] = "tiny", in_channels: int = 3) -> None:
        super().__init__()
        check_num_classes(num_classes)
        cfg = resolve_config(config)
        self.num_classes, self.in_channels = num_classes, in_channels
        self.stride, self.pad_input = cfg.output_stride, False
        self.config = {
            "name": "segformer",
            "num_classes": num_classes,
            "config": config if isinstance(config, str) else dataclasses.asdict(cfg),
            "in_channels": in_channels,
        }
        self.encoder = MixTransformer(cfg, in_channels)
        self.decoder = AllMLPDecoder(cfg.hidden_sizes, cfg.decoder_channels, num_classes, cfg.dropout)
        self.apply(_init_weights)

    def segment(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))  # (N, K, H/4, W/4); the base class upsamples to (N, K, H, W)


def _init_weights(module: nn.Module) -> None:
    """The paper's initialisation (mmsegmentation's MiT)."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Conv2d):
        fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels // module.groups
        nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_out))
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.LayerNorm, nn.BatchNorm2d)):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
