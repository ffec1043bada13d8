"""A promptable segmenter in the style of Segment Anything (SAM): clicks and boxes in, masks out.

Three parts, named as in the SAM paper (Kirillov et al., 2023) and its code:

* :class:`ImageEncoder` -- any segkit backbone plus SAM's neck (1x1 conv, LayerNorm, 3x3 conv,
  LayerNorm), image ``(N, 3, H, W)`` -> image embedding ``(N, C, H/s, W/s)``. It runs **once per
  image**; every prompt on that image reuses the embedding.
* :class:`PromptEncoder` -- prompts as tokens. A point is the random-Fourier positional encoding of
  its ``(x, y)`` plus a learned embedding of its type (negative click, positive click, box corner
  top-left, box corner bottom-right); a box is its two corners; padding points ("not a point") get
  their own learned token. An optional dense mask prompt (the previous prediction's logits) is
  downscaled by convolutions and added to the image embedding; without one, a learned "no mask"
  vector is added everywhere.
* :class:`MaskDecoder` -- a two-way transformer: output tokens (one IoU token, K + 1 mask tokens)
  plus the prompt tokens attend to the image embedding and the image attends back; the image
  embedding is upscaled 4x, and each mask token, through its own MLP, becomes the weights of a
  dot product with every upscaled pixel: K candidate masks and a predicted IoU for each.

The prompt encoder and mask decoder have the layers of SAM's; :func:`sam_parts_from_transformers`
copies the weights of ``transformers``' ``SamModel`` into them (its ViT image encoder is not
rebuilt here), and the outputs are equal up to float rounding (``tests/test_models_promptable.py``).

Coordinates follow SAM: points are ``(x, y)`` in pixels of the input image (column first), boxes
``(x1, y1, x2, y2)``; point labels are 1 (positive: on the object), 0 (negative: not on it) and
-1 (padding, "not a point"). Built in lessons/15-promptable-segmentation.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segkit.models.backbones import build_backbone

__all__ = [
    "Attention",
    "ImageEncoder",
    "LayerNorm2d",
    "MLP",
    "MLPBlock",
    "MaskDecoder",
    "PositionEmbeddingRandom",
    "PromptEncoder",
    "PromptableSegmenter",
    "TwoWayAttentionBlock",
    "TwoWayTransformer",
    "sam_parts_from_transformers",
]

POINT_LABELS = (-1, 0, 1)  # padding ("not a point"), negative, positive


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of a ``(N, C, H, W)`` map, at every pixel (SAM's ``LayerNorm2d``)."""

    def __init__(self, num_channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        x = F.layer_norm(x.permute(0, 2, 3, 1), x.shape[1:2], self.weight, self.bias, self.eps)  # (N, H, W, C)
        return x.permute(0, 3, 1, 2)  # (N, C, H, W)


class PositionEmbeddingRandom(nn.Module):
    """Random Fourier features of positions (Tancik et al., 2020), as in SAM.

    A position ``p = (x, y)`` in ``[0, 1]^2`` becomes ``[sin(2 pi (2p - 1) G), cos(2 pi (2p - 1) G)]``
    with a fixed Gaussian matrix ``G`` of shape ``(2, num_pos_feats)`` (std ``scale``): ``2 *
    num_pos_feats`` numbers that vary smoothly with the position, at many frequencies at once.

    Args:
        num_pos_feats: the number of random frequencies; the encoding has twice as many channels.
        scale: standard deviation of ``G`` (higher = finer detail, less smoothness).
    """

    def __init__(self, num_pos_feats: int = 128, scale: float = 1.0) -> None:
        super().__init__()
        if num_pos_feats < 1:
            raise ValueError(f"num_pos_feats must be a positive int, got {num_pos_feats!r}")
        self.register_buffer("positional_encoding_gaussian_matrix", scale * torch.randn(2, num_pos_feats))

    def forward(self, coords: Tensor) -> Tensor:
        """``(..., 2)`` positions ``(x, y)`` in ``[0, 1]`` -> ``(..., 2 * num_pos_feats)`` float."""
        gaussian = self.positional_encoding_gaussian_matrix
        projected = 2 * math.pi * ((2 * coords.to(gaussian.dtype) - 1) @ gaussian)  # (..., F)
        return torch.cat([projected.sin(), projected.cos()], dim=-1)  # (..., 2F)

    def grid(self, size: tuple[int, int]) -> Tensor:
        """The encoding of every cell centre of an ``h x w`` grid: ``(2F, h, w)``."""
        height, width = size
        gaussian = self.positional_encoding_gaussian_matrix
        y = (torch.arange(height, device=gaussian.device, dtype=gaussian.dtype) + 0.5) / height
        x = (torch.arange(width, device=gaussian.device, dtype=gaussian.dtype) + 0.5) / width
        coords = torch.stack(torch.meshgrid(x, y, indexing="xy"), dim=-1)  # (h, w, 2) as (x, y)
        return self(coords).permute(2, 0, 1)  # (2F, h, w)


class PromptEncoder(nn.Module):
    """Points, boxes and an optional mask prompt -> sparse tokens and a dense embedding (SAM's).

    Args:
        embed_dim: the token width ``C`` (even: the positional encoding has ``C / 2`` frequencies).
        image_embedding_size: ``(h, w)`` of the image embedding (the dense output's size).
        input_image_size: ``(H, W)`` of the image the coordinates refer to.
        mask_in_chans: hidden channels of the mask-prompt downscaler.
        pe_scale: std of the random Fourier matrix.
        layer_norm_eps: epsilon of the downscaler's LayerNorms.

    ``forward`` may override both sizes per call (a segmenter that accepts any image size does).
    """

    def __init__(
        self,
        embed_dim: int = 256,
        image_embedding_size: tuple[int, int] = (64, 64),
        input_image_size: tuple[int, int] = (1024, 1024),
        mask_in_chans: int = 16,
        pe_scale: float = 1.0,
        layer_norm_eps: float = 1e-6,
    ) -> None:
        super().__init__()
        if embed_dim < 2 or embed_dim % 2:
            raise ValueError(f"embed_dim must be a positive even int, got {embed_dim!r}")
        if mask_in_chans < 4 or mask_in_chans % 4:
            raise ValueError(f"mask_in_chans must be a positive multiple of 4, got {mask_in_chans!r}")
        self.embed_dim = embed_dim
        self.image_embedding_size = tuple(image_embedding_size)
        self.input_image_size = tuple(input_image_size)
        self.pe_layer = PositionEmbeddingRandom(embed_dim // 2, pe_scale)
        # 0 negative point, 1 positive point, 2 box top-left corner, 3 box bottom-right corner
        self.point_embeddings = nn.ModuleList([nn.Embedding(1, embed_dim) for _ in range(4)])
        self.not_a_point_embed = nn.Embedding(1, embed_dim)
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, mask_in_chans // 4, kernel_size=2, stride=2),  # (N, c/4, 2h, 2w)
            LayerNorm2d(mask_in_chans // 4, layer_norm_eps),
            nn.GELU(),
            nn.Conv2d(mask_in_chans // 4, mask_in_chans, kernel_size=2, stride=2),  # (N, c, h, w)
            LayerNorm2d(mask_in_chans, layer_norm_eps),
            nn.GELU(),
            nn.Conv2d(mask_in_chans, embed_dim, kernel_size=1),  # (N, C, h, w)
        )
        self.no_mask_embed = nn.Embedding(1, embed_dim)

    def get_dense_pe(self, size: tuple[int, int] | None = None) -> Tensor:
        """Positional encoding of the image embedding's grid, ``(1, C, h, w)``."""
        return self.pe_layer.grid(tuple(size or self.image_embedding_size))[None]

    def _normalise(self, coords: Tensor, image_size: tuple[int, int]) -> Tensor:
        """Pixel coordinates ``(..., 2)`` as ``(x, y)`` -> ``[0, 1]``, at pixel centres (+0.5)."""
        height, width = image_size
        coords = coords + 0.5
        return torch.stack([coords[..., 0] / width, coords[..., 1] / height], dim=-1)

    def _embed_points(self, points: Tensor, labels: Tensor, pad: bool, image_size: tuple[int, int]) -> Tensor:
        if pad:  # SAM adds one "not a point" when there is no box
            points = torch.cat([points, points.new_zeros(points.shape[0], 1, 2)], dim=1)  # (N, P + 1, 2)
            labels = torch.cat([labels, -labels.new_ones(labels.shape[0], 1)], dim=1)  # (N, P + 1)
        embedding = self.pe_layer(self._normalise(points.float(), image_size))  # (N, P, C)
        labels = labels[..., None]  # (N, P, 1)
        embedding = torch.where(labels == -1, self.not_a_point_embed.weight, embedding)
        embedding = embedding + torch.where(labels == 0, self.point_embeddings[0].weight, 0.0)
        embedding = embedding + torch.where(labels == 1, self.point_embeddings[1].weight, 0.0)
        return embedding

    def _embed_boxes(self, boxes: Tensor, image_size: tuple[int, int]) -> Tensor:
        corners = self._normalise(boxes.float().reshape(-1, 2, 2), image_size)  # (N, 2, 2): top-left, bottom-right
        embedding = self.pe_layer(corners)  # (N, 2, C)
        corner_types = torch.cat([self.point_embeddings[2].weight, self.point_embeddings[3].weight])  # (2, C)
        return embedding + corner_types

    def forward(
        self,
        points: Tensor | None = None,
        labels: Tensor | None = None,
        boxes: Tensor | None = None,
        masks: Tensor | None = None,
        image_size: tuple[int, int] | None = None,
        embedding_size: tuple[int, int] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Embed the prompts of a batch of ``N`` prompt sets.

        Args:
            points: float ``(N, P, 2)`` pixel coordinates ``(x, y)``, or None.
            labels: int ``(N, P)`` in {1 positive, 0 negative, -1 padding}; required with points.
            boxes: float ``(N, 4)`` as ``(x1, y1, x2, y2)``, or None.
            masks: float ``(N, 1, 4h, 4w)`` mask logits, or None.
            image_size, embedding_size: override ``input_image_size`` / ``image_embedding_size``.

        Returns:
            ``(sparse, dense)``: tokens ``(N, T, C)`` with ``T = P (+1 padding point when there is no
            box) (+2 box corners)``, and ``(N, C, h, w)``.

        Raises:
            ValueError: no prompt at all, points without labels, bad shapes or labels.
        """
        image_size = tuple(image_size or self.input_image_size)
        embedding_size = tuple(embedding_size or self.image_embedding_size)
        if points is None and boxes is None and masks is None:
            raise ValueError("give at least one prompt: points (with labels), boxes or masks")
        tokens, batch = [], None
        if points is not None:
            if labels is None:
                raise ValueError("points need labels (1 positive, 0 negative, -1 padding)")
            if points.dim() != 3 or points.shape[-1] != 2:
                raise ValueError(f"points must be (N, P, 2) as (x, y), got shape {tuple(points.shape)}")
            if tuple(labels.shape) != tuple(points.shape[:2]):
                raise ValueError(f"labels must be (N, P) = {tuple(points.shape[:2])}, got shape {tuple(labels.shape)}")
            bad = labels[(labels != -1) & (labels != 0) & (labels != 1)]
            if bad.numel():
                raise ValueError(f"point labels must be 1, 0 or -1, got {bad.unique().tolist()}")
            batch = points.shape[0]
            tokens.append(self._embed_points(points, labels, pad=boxes is None, image_size=image_size))
        if boxes is not None:
            if boxes.dim() != 2 or boxes.shape[-1] != 4 or (batch is not None and boxes.shape[0] != batch):
                raise ValueError(f"boxes must be (N, 4) as (x1, y1, x2, y2) with N = {batch}, got shape {tuple(boxes.shape)}")
            batch = boxes.shape[0]
            tokens.append(self._embed_boxes(boxes, image_size))
        if masks is not None:
            expected = (4 * embedding_size[0], 4 * embedding_size[1])
            if masks.dim() != 4 or masks.shape[1] != 1 or tuple(masks.shape[-2:]) != expected:
                raise ValueError(f"masks must be (N, 1, {expected[0]}, {expected[1]}), got shape {tuple(masks.shape)}")
            if batch is not None and masks.shape[0] != batch:
                raise ValueError(f"masks has batch {masks.shape[0]}, the other prompts {batch}")
            batch = masks.shape[0]
            dense = self.mask_downscaling(masks)  # (N, C, h, w)
        else:
            dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(batch, -1, *embedding_size)
        weight = self.no_mask_embed.weight
        sparse = torch.cat(tokens, dim=1) if tokens else weight.new_zeros(batch, 0, self.embed_dim)
        return sparse, dense


class MLPBlock(nn.Module):
    """The transformer's feed-forward block: Linear -> activation -> Linear."""

    def __init__(self, embedding_dim: int, mlp_dim: int, activation: type[nn.Module] = nn.ReLU) -> None:
        super().__init__()
        self.lin1 = nn.Linear(embedding_dim, mlp_dim)
        self.lin2 = nn.Linear(mlp_dim, embedding_dim)
        self.act = activation()

    def forward(self, x: Tensor) -> Tensor:
        return self.lin2(self.act(self.lin1(x)))


class MLP(nn.Module):
    """``num_layers`` Linear layers with ReLU between them (the hypernetworks and the IoU head)."""

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, num_layers: int,
                 sigmoid_output: bool = False) -> None:
        super().__init__()
        dims = [input_dim] + [hidden_dim] * (num_layers - 1) + [output_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.sigmoid_output = sigmoid_output

    def forward(self, x: Tensor) -> Tensor:
        for index, layer in enumerate(self.layers):
            x = layer(x) if index == len(self.layers) - 1 else F.relu(layer(x))
        return torch.sigmoid(x) if self.sigmoid_output else x


class Attention(nn.Module):
    """Multi-head attention whose queries, keys and values may be projected to ``C / downsample_rate``
    channels (cheaper cross-attention over the many image tokens), as in SAM."""

    def __init__(self, embedding_dim: int, num_heads: int, downsample_rate: int = 1) -> None:
        super().__init__()
        self.internal_dim = embedding_dim // downsample_rate
        if self.internal_dim % num_heads:
            raise ValueError(f"num_heads ({num_heads}) must divide embedding_dim / downsample_rate ({self.internal_dim})")
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embedding_dim, self.internal_dim)
        self.k_proj = nn.Linear(embedding_dim, self.internal_dim)
        self.v_proj = nn.Linear(embedding_dim, self.internal_dim)
        self.out_proj = nn.Linear(self.internal_dim, embedding_dim)

    def _separate_heads(self, x: Tensor) -> Tensor:
        n, tokens, channels = x.shape
        return x.reshape(n, tokens, self.num_heads, channels // self.num_heads).transpose(1, 2)  # (N, h, T, c)

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """``q (N, Tq, C)``, ``k, v (N, Tk, C)`` -> ``(N, Tq, C)``."""
        q = self._separate_heads(self.q_proj(q))  # (N, heads, Tq, c)
        k = self._separate_heads(self.k_proj(k))  # (N, heads, Tk, c)
        v = self._separate_heads(self.v_proj(v))
        weights = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(dim=-1)  # (N, heads, Tq, Tk)
        out = (weights @ v).transpose(1, 2).flatten(2)  # (N, Tq, internal_dim)
        return self.out_proj(out)


class TwoWayAttentionBlock(nn.Module):
    """Tokens attend to themselves, tokens attend to the image, an MLP on the tokens, and the image
    attends to the tokens (each with a residual and a LayerNorm). Positional encodings are added to
    queries and keys at every attention, never to the values."""

    def __init__(self, embedding_dim: int, num_heads: int, mlp_dim: int = 2048,
                 activation: type[nn.Module] = nn.ReLU, attention_downsample_rate: int = 2,
                 skip_first_layer_pe: bool = False, layer_norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.self_attn = Attention(embedding_dim, num_heads)
        self.norm1 = nn.LayerNorm(embedding_dim, eps=layer_norm_eps)
        self.cross_attn_token_to_image = Attention(embedding_dim, num_heads, attention_downsample_rate)
        self.norm2 = nn.LayerNorm(embedding_dim, eps=layer_norm_eps)
        self.mlp = MLPBlock(embedding_dim, mlp_dim, activation)
        self.norm3 = nn.LayerNorm(embedding_dim, eps=layer_norm_eps)
        self.norm4 = nn.LayerNorm(embedding_dim, eps=layer_norm_eps)
        self.cross_attn_image_to_token = Attention(embedding_dim, num_heads, attention_downsample_rate)
        self.skip_first_layer_pe = skip_first_layer_pe

    def forward(self, queries: Tensor, keys: Tensor, query_pe: Tensor, key_pe: Tensor) -> tuple[Tensor, Tensor]:
        """``queries (N, T, C)`` tokens, ``keys (N, hw, C)`` image; the same shapes out."""
        if self.skip_first_layer_pe:  # the first layer's queries are the prompt encodings themselves
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.norm1(queries)
        q, k = queries + query_pe, keys + key_pe
        queries = self.norm2(queries + self.cross_attn_token_to_image(q, k, keys))  # tokens read the image
        queries = self.norm3(queries + self.mlp(queries))
        q, k = queries + query_pe, keys + key_pe
        keys = self.norm4(keys + self.cross_attn_image_to_token(k, q, queries))  # the image reads the tokens
        return queries, keys


class TwoWayTransformer(nn.Module):
    """``depth`` two-way blocks, then a last attention of the tokens to the image."""

    def __init__(self, depth: int, embedding_dim: int, num_heads: int, mlp_dim: int,
                 activation: type[nn.Module] = nn.ReLU, attention_downsample_rate: int = 2,
                 layer_norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            TwoWayAttentionBlock(embedding_dim, num_heads, mlp_dim, activation, attention_downsample_rate,
                                 skip_first_layer_pe=(index == 0), layer_norm_eps=layer_norm_eps)
            for index in range(depth)
        )
        self.final_attn_token_to_image = Attention(embedding_dim, num_heads, attention_downsample_rate)
        self.norm_final_attn = nn.LayerNorm(embedding_dim)

    def forward(self, image_embedding: Tensor, image_pe: Tensor, point_embedding: Tensor) -> tuple[Tensor, Tensor]:
        """``image_embedding, image_pe (N, C, h, w)``, ``point_embedding (N, T, C)`` ->
        tokens ``(N, T, C)`` and image tokens ``(N, hw, C)``."""
        keys = image_embedding.flatten(2).transpose(1, 2)  # (N, hw, C)
        key_pe = image_pe.flatten(2).transpose(1, 2)  # (N, hw, C)
        queries = point_embedding
        for layer in self.layers:
            queries, keys = layer(queries, keys, point_embedding, key_pe)
        q, k = queries + point_embedding, keys + key_pe
        queries = self.norm_final_attn(queries + self.final_attn_token_to_image(q, k, keys))
        return queries, keys


class MaskDecoder(nn.Module):
    """SAM's mask decoder: image embedding + prompt tokens -> K candidate masks and their predicted IoU.

    Args:
        transformer_dim: the token width ``C`` (divisible by 8).
        num_multimask_outputs: ``K``, the candidate masks for an ambiguous prompt (SAM: 3). A
            ``K + 1``-th mask token gives the single mask of ``multimask_output=False``.
        depth, num_heads, mlp_dim, attention_downsample_rate, activation, layer_norm_eps: the
            two-way transformer's.
        iou_head_depth, iou_head_hidden_dim: the MLP that predicts each mask's IoU.
    """

    def __init__(self, transformer_dim: int = 256, num_multimask_outputs: int = 3, depth: int = 2,
                 num_heads: int = 8, mlp_dim: int = 2048, attention_downsample_rate: int = 2,
                 activation: type[nn.Module] = nn.ReLU, iou_head_depth: int = 3, iou_head_hidden_dim: int = 256,
                 layer_norm_eps: float = 1e-6) -> None:
        super().__init__()
        if transformer_dim < 8 or transformer_dim % 8:
            raise ValueError(f"transformer_dim must be a positive multiple of 8, got {transformer_dim!r}")
        if num_multimask_outputs < 1:
            raise ValueError(f"num_multimask_outputs must be >= 1, got {num_multimask_outputs!r}")
        self.transformer_dim = transformer_dim
        self.num_multimask_outputs = num_multimask_outputs
        self.num_mask_tokens = num_multimask_outputs + 1
        self.transformer = TwoWayTransformer(depth, transformer_dim, num_heads, mlp_dim, activation,
                                             attention_downsample_rate, layer_norm_eps)
        self.iou_token = nn.Embedding(1, transformer_dim)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, transformer_dim)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(transformer_dim, transformer_dim // 4, kernel_size=2, stride=2),  # (N, C/4, 2h, 2w)
            LayerNorm2d(transformer_dim // 4),
            nn.GELU(),
            nn.ConvTranspose2d(transformer_dim // 4, transformer_dim // 8, kernel_size=2, stride=2),  # (N, C/8, 4h, 4w)
            nn.GELU(),
        )
        self.output_hypernetworks_mlps = nn.ModuleList(
            MLP(transformer_dim, transformer_dim, transformer_dim // 8, 3) for _ in range(self.num_mask_tokens)
        )
        self.iou_prediction_head = MLP(transformer_dim, iou_head_hidden_dim, self.num_mask_tokens, iou_head_depth)

    def forward(self, image_embeddings: Tensor, image_pe: Tensor, sparse_prompt_embeddings: Tensor,
                dense_prompt_embeddings: Tensor, multimask_output: bool = True) -> tuple[Tensor, Tensor]:
        """Decode masks for ``N`` prompt sets.

        Args:
            image_embeddings: ``(N, C, h, w)``, or ``(1, C, h, w)`` shared by all prompt sets.
            image_pe: ``(1, C, h, w)`` positional encoding of the grid (``PromptEncoder.get_dense_pe``).
            sparse_prompt_embeddings: ``(N, T, C)`` prompt tokens.
            dense_prompt_embeddings: ``(N, C, h, w)``.
            multimask_output: True -> the ``K`` candidates, False -> the single-mask output.

        Returns:
            ``(masks, iou_pred)``: mask logits ``(N, K or 1, 4h, 4w)`` and predicted IoUs ``(N, K or 1)``.
        """
        n = sparse_prompt_embeddings.shape[0]
        if image_embeddings.shape[0] not in (1, n):
            raise ValueError(f"image_embeddings has batch {image_embeddings.shape[0]}; expected 1 or N = {n}")
        output_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0)  # (1 + K + 1, C)
        tokens = torch.cat([output_tokens.expand(n, -1, -1), sparse_prompt_embeddings], dim=1)  # (N, T', C)
        src = image_embeddings.expand(n, -1, -1, -1) + dense_prompt_embeddings  # (N, C, h, w)
        pos = image_pe.expand(n, -1, -1, -1)
        _, channels, height, width = src.shape
        hs, src = self.transformer(src, pos, tokens)  # (N, T', C), (N, hw, C)
        iou_token_out = hs[:, 0]  # (N, C)
        mask_tokens_out = hs[:, 1 : 1 + self.num_mask_tokens]  # (N, K + 1, C)

        src = src.transpose(1, 2).reshape(n, channels, height, width)
        upscaled = self.output_upscaling(src)  # (N, C/8, 4h, 4w)
        hyper_in = torch.stack(
            [mlp(mask_tokens_out[:, i]) for i, mlp in enumerate(self.output_hypernetworks_mlps)], dim=1
        )  # (N, K + 1, C/8): one per-pixel linear classifier per mask token
        masks = (hyper_in @ upscaled.flatten(2)).reshape(n, -1, *upscaled.shape[-2:])  # (N, K + 1, 4h, 4w)
        iou_pred = self.iou_prediction_head(iou_token_out)  # (N, K + 1)
        keep = slice(1, None) if multimask_output else slice(0, 1)
        return masks[:, keep], iou_pred[:, keep]


class ImageEncoder(nn.Module):
    """A segkit backbone's deepest features plus SAM's neck: ``(N, 3, H, W)`` -> ``(N, C, H/s, W/s)``.

    Args:
        embed_dim: ``C``.
        backbone: a name of ``segkit.models.BACKBONES``.
        output_stride: ``s``, 8, 16 or 32.
        pretrained_backbone: start from torchvision's ImageNet weights (not for ``tiny``).
    """

    def __init__(self, embed_dim: int = 64, backbone: str = "tiny", output_stride: int = 16,
                 pretrained_backbone: bool = False) -> None:
        super().__init__()
        self.backbone = build_backbone(backbone, output_stride, pretrained_backbone)
        self.stride = output_stride
        self.neck = nn.Sequential(
            nn.Conv2d(self.backbone.channels["c5"], embed_dim, kernel_size=1, bias=False),
            LayerNorm2d(embed_dim),
            nn.Conv2d(embed_dim, embed_dim, kernel_size=3, padding=1, bias=False),
            LayerNorm2d(embed_dim),
        )

    def forward(self, images: Tensor) -> Tensor:
        return self.neck(self.backbone(images)["c5"])  # (N, C, H/s, W/s)


class PromptableSegmenter(nn.Module):
    """Image encoder + prompt encoder + mask decoder, for images of any size divisible by the stride.

    ``embed(images)`` once per image, then ``decode(embedding, points=..., labels=..., boxes=...)``
    once per prompt (cheap); ``forward`` does both. Masks come back as logits at the image's size.

    Args:
        embed_dim: the token width of all three parts (a multiple of 8).
        backbone, output_stride, pretrained_backbone: the image encoder's.
        num_multimask_outputs: ``K`` candidate masks.
        depth, num_heads, mlp_dim: the mask decoder's two-way transformer.
        pe_scale: std of the prompt encoder's random Fourier matrix.
        seed: if given, the weights are initialised from ``torch.manual_seed(seed)`` (deterministic).
    """

    def __init__(self, embed_dim: int = 64, backbone: str = "tiny", output_stride: int = 16,
                 pretrained_backbone: bool = False, num_multimask_outputs: int = 3, depth: int = 2,
                 num_heads: int = 4, mlp_dim: int = 256, pe_scale: float = 1.0, seed: int | None = None) -> None:
        super().__init__()
        self.config: dict[str, Any] = dict(
            embed_dim=embed_dim, backbone=backbone, output_stride=output_stride, num_multimask_outputs=num_multimask_outputs,
            depth=depth, num_heads=num_heads, mlp_dim=mlp_dim, pe_scale=pe_scale,
        )
        with torch.random.fork_rng(enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.image_encoder = ImageEncoder(embed_dim, backbone, output_stride, pretrained_backbone)
            self.prompt_encoder = PromptEncoder(embed_dim, pe_scale=pe_scale)
            self.mask_decoder = MaskDecoder(embed_dim, num_multimask_outputs, depth, num_heads, mlp_dim,
                                            iou_head_hidden_dim=embed_dim)
        self.stride = output_stride

    def embed(self, images: Tensor) -> Tensor:
        """Float images ``(N, 3, H, W)``, ``H`` and ``W`` multiples of ``stride`` -> ``(N, C, H/s, W/s)``."""
        if not isinstance(images, Tensor) or not images.is_floating_point() or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be a float tensor (N, 3, H, W), got "
                             f"{getattr(images, 'dtype', type(images).__name__)} {tuple(getattr(images, 'shape', ()))}")
        height, width = images.shape[-2:]
        if height % self.stride or width % self.stride:
            raise ValueError(f"image size {height}x{width} must be a multiple of the stride {self.stride}; pad it first")
        return self.image_encoder(images)

    def decode(self, embedding: Tensor, points: Tensor | None = None, labels: Tensor | None = None,
               boxes: Tensor | None = None, mask_input: Tensor | None = None,
               multimask_output: bool = True) -> tuple[Tensor, Tensor]:
        """Masks for ``N`` prompt sets on one image (``embedding`` batch 1) or on ``N`` images.

        Args:
            embedding: ``(1 or N, C, h, w)`` from :meth:`embed`.
            points, labels, boxes: as :meth:`PromptEncoder.forward` (coordinates in image pixels).
            mask_input: ``(N, 1, 4h, 4w)`` logits, e.g. the previous prediction's low-res mask.
            multimask_output: the ``K`` candidates (True) or the single mask (False).

        Returns:
            ``(masks, iou_pred)``: logits ``(N, K, H, W)`` at the image's size (``H = h * stride``) and
            ``(N, K)`` predicted IoUs. Threshold the logits at 0.
        """
        size = tuple(embedding.shape[-2:])
        image_size = (size[0] * self.stride, size[1] * self.stride)
        sparse, dense = self.prompt_encoder(points, labels, boxes, mask_input, image_size, size)
        if embedding.shape[0] != 1 and embedding.shape[0] != sparse.shape[0]:
            raise ValueError(f"embedding has batch {embedding.shape[0]}, the prompts {sparse.shape[0]}")
        low_res, iou_pred = self.mask_decoder(embedding, self.prompt_encoder.get_dense_pe(size), sparse, dense,
                                              multimask_output)  # (N, K, 4h, 4w), (N, K)
        masks = F.interpolate(low_res, size=image_size, mode="bilinear", align_corners=False)  # (N, K, H, W)
        return masks, iou_pred

    def forward(self, images: Tensor, points: Tensor | None = None, labels: Tensor | None = None,
                boxes: Tensor | None = None, multimask_output: bool = True) -> tuple[Tensor, Tensor]:
        """``decode(embed(images), ...)`` with one prompt set per image."""
        return self.decode(self.embed(images), points, labels, boxes, None, multimask_output)


# ------------------------------------------------------------------ transformers' SAM -> segkit

def _activation(name: str) -> type[nn.Module]:
    activations = {"relu": nn.ReLU, "gelu": nn.GELU}
    if name not in activations:
        raise ValueError(f"unsupported activation {name!r}; expected one of {sorted(activations)}")
    return activations[name]


def _copy(ours: nn.Module, theirs: nn.Module) -> None:
    """Copy the parameters of ``theirs`` into ``ours`` (same names: Linear, Conv, LayerNorm, Attention)."""
    ours.load_state_dict({k: v.detach().clone() for k, v in theirs.state_dict().items()})


def _copy_mlp(ours: MLP, theirs: nn.Module) -> None:
    """transformers' SamFeedForward keeps ``proj_in``, ``layers``, ``proj_out``; segkit one ``layers`` list."""
    linears = [theirs.proj_in, *theirs.layers, theirs.proj_out]
    if len(linears) != len(ours.layers):
        raise ValueError(f"MLP depth differs: {len(linears)} in transformers, {len(ours.layers)} here")
    for mine, other in zip(ours.layers, linears):
        _copy(mine, other)


def sam_parts_from_transformers(hf_sam: nn.Module) -> tuple[PromptEncoder, MaskDecoder]:
    """segkit's :class:`PromptEncoder` and :class:`MaskDecoder` with the weights of a ``transformers``
    ``SamModel`` (e.g. ``SamModel.from_pretrained("facebook/sam-vit-base")``).

    The ViT image encoder is not converted: feed the decoder ``hf_sam.get_image_embeddings(...)``.
    Given the same image embeddings, points, labels and boxes, the outputs equal ``hf_sam.prompt_encoder``
    and ``hf_sam.mask_decoder``'s up to float rounding (transformers adds a "point batch" axis that
    segkit does not have: its ``(B, 1, T, C)`` is segkit's ``(B, T, C)``).

    Raises:
        TypeError: ``hf_sam`` is not a ``SamModel``.
        ValueError: a configuration segkit's parts cannot express (another activation).
    """
    if type(hf_sam).__name__ != "SamModel" or not hasattr(hf_sam, "mask_decoder"):
        raise TypeError(f"sam_parts_from_transformers expects a transformers SamModel, got {type(hf_sam).__name__}")
    pe_cfg, dec_cfg = hf_sam.config.prompt_encoder_config, hf_sam.config.mask_decoder_config
    if _activation(pe_cfg.hidden_act) is not nn.GELU:
        raise ValueError(f"segkit's mask-prompt downscaler uses GELU, the checkpoint {pe_cfg.hidden_act!r}")
    size = pe_cfg.image_embedding_size
    prompt_encoder = PromptEncoder(pe_cfg.hidden_size, (size, size), (pe_cfg.image_size, pe_cfg.image_size),
                                   pe_cfg.mask_input_channels, layer_norm_eps=pe_cfg.layer_norm_eps)
    theirs = hf_sam.prompt_encoder
    with torch.no_grad():
        prompt_encoder.pe_layer.positional_encoding_gaussian_matrix.copy_(theirs.shared_embedding.positional_embedding)
    for mine, other in zip(prompt_encoder.point_embeddings, theirs.point_embed):
        _copy(mine, other)
    _copy(prompt_encoder.not_a_point_embed, theirs.not_a_point_embed)
    _copy(prompt_encoder.no_mask_embed, theirs.no_mask_embed)
    down = prompt_encoder.mask_downscaling  # conv, norm, GELU, conv, norm, GELU, conv
    for index, name in ((0, "conv1"), (1, "layer_norm1"), (3, "conv2"), (4, "layer_norm2"), (6, "conv3")):
        _copy(down[index], getattr(theirs.mask_embed, name))

    mask_decoder = MaskDecoder(
        dec_cfg.hidden_size, dec_cfg.num_multimask_outputs, dec_cfg.num_hidden_layers, dec_cfg.num_attention_heads,
        dec_cfg.mlp_dim, dec_cfg.attention_downsample_rate, _activation(dec_cfg.hidden_act), dec_cfg.iou_head_depth,
        dec_cfg.iou_head_hidden_dim, dec_cfg.layer_norm_eps,
    )
    theirs = hf_sam.mask_decoder
    _copy(mask_decoder.iou_token, theirs.iou_token)
    _copy(mask_decoder.mask_tokens, theirs.mask_tokens)
    for mine, other in zip(mask_decoder.transformer.layers, theirs.transformer.layers):
        for name in ("self_attn", "cross_attn_token_to_image", "cross_attn_image_to_token", "mlp"):
            _copy(getattr(mine, name), getattr(other, name))
        for index in range(1, 5):
            _copy(getattr(mine, f"norm{index}"), getattr(other, f"layer_norm{index}"))
    _copy(mask_decoder.transformer.final_attn_token_to_image, theirs.transformer.final_attn_token_to_image)
    _copy(mask_decoder.transformer.norm_final_attn, theirs.transformer.layer_norm_final_attn)
    up = mask_decoder.output_upscaling  # convT, norm, GELU, convT, GELU
    for index, name in ((0, "upscale_conv1"), (1, "upscale_layer_norm"), (3, "upscale_conv2")):
        _copy(up[index], getattr(theirs, name))
    for mine, other in zip(mask_decoder.output_hypernetworks_mlps, theirs.output_hypernetworks_mlps):
        _copy_mlp(mine, other)
    _copy_mlp(mask_decoder.iou_prediction_head, theirs.iou_prediction_head)
    return prompt_encoder.train(hf_sam.training), mask_decoder.train(hf_sam.training)
