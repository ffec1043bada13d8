"""MaskFormer-style mask classification: a set of N (class, mask) predictions per image.

Per-pixel classification gives every pixel one of K classes; it cannot say how many objects
there are. Mask classification (Cheng et al., MaskFormer 2021 and Mask2Former 2022) predicts a
fixed-size *set* instead: N learned queries, each giving a class (K classes or "no object") and a
binary mask. Training matches the queries to the true objects one to one
(:func:`segkit.losses.match_queries`); inference turns the set into a semantic map
(:func:`semantic_inference`) or into instances and a panoptic map (:func:`panoptic_inference`)::

    image (N, 3, H, W) -> pixel decoder (any segkit model) -> appearance A (N, D, H, W)
                                                         \\-> pooled memory (N, h*w, C)
    pixel embedding E = [A; Fourier features of (y, x); 1]   (N, D + P + 1, H, W)
    queries (Q, C) -> [masked cross-attention to memory, self-attention, FFN] x L -> (N, Q, C)
        -> class logits (N, Q, K+1)
        -> mask embedding m (N, Q, D + P + 1);  mask logits = m . E  (N, Q, H, W)

Simplified from the papers for a CPU: the pixel decoder is an ordinary segkit segmentation model
whose ``num_classes`` outputs become the ``D``-dimensional appearance embedding (e.g. the zoo's
U-Net); the transformer decoder attends to one scale (the embedding average-pooled by
``memory_stride``), with Mask2Former's masked attention (a query attends only inside its current
mask) and a prediction after every layer (``aux``, for deep supervision). Two additions make it
learn within a CPU minute: the pixel embedding carries ``P`` Fourier features of the pixel's
coordinates (so a dot product can say *where*), and each query's mask embedding starts as a bump
around its own point of a grid (as anchor-based DETR variants start queries from points), so that
different queries compete for different objects from the first step.

Built in lessons/14-masks-as-queries.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segkit._checks import check_image_batch, check_num_classes
from segkit.models._utils import SegmentationModel
from segkit.models.registry import build_pixel_model


class MaskFormerOutput(NamedTuple):
    """What :meth:`MaskFormer.forward_sets` returns; the last layer's predictions come first."""

    class_logits: Tensor  # (N, Q, K+1), the last output is "no object"
    mask_logits: Tensor  # (N, Q, H, W)
    aux: list[tuple[Tensor, Tensor]]  # the same pair after each earlier decoder layer


def sine_position_encoding(height: int, width: int, channels: int, device: torch.device | None = None) -> Tensor:
    """DETR's 2-D sine position encoding of a ``height x width`` grid, coordinates normalised to [0, 2 pi].

    Returns float32 ``(height * width, channels)``: the first half of the channels encodes the
    row, the second the column, each as interleaved sines and cosines of geometric frequencies
    (``channels`` must be a multiple of 4).
    """
    if channels % 4:
        raise ValueError(f"channels must be a multiple of 4, got {channels}")
    quarter = channels // 4
    freqs = 10000 ** (-torch.arange(quarter, dtype=torch.float32, device=device) / quarter)  # (C/4,)
    ys = (torch.arange(height, dtype=torch.float32, device=device) + 0.5) / height * 2 * math.pi
    xs = (torch.arange(width, dtype=torch.float32, device=device) + 0.5) / width * 2 * math.pi

    def encode(v: Tensor) -> Tensor:  # (L,) -> (L, C/2)
        angles = v[:, None] * freqs[None, :]
        return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)

    rows = encode(ys)[:, None, :].expand(height, width, -1)  # (h, w, C/2)
    cols = encode(xs)[None, :, :].expand(height, width, -1)  # (h, w, C/2)
    return torch.cat([rows, cols], dim=-1).reshape(height * width, channels)


def fourier_features(height: int, width: int, channels: int, device: torch.device | None = None) -> Tensor:
    """Fourier features of pixel coordinates: ``sin, cos(2 pi f u)`` of the row and of the column,
    ``u`` in [0, 1), frequencies ``f = 1, 2, 4, ...`` (periods: the image, half of it, ...).

    Returns float32 ``(channels, height, width)`` (``channels`` a multiple of 4). The dot product
    of two pixels' features is a sum of cosines of their offset: a bump around the first pixel,
    which lets a query's mask embedding say *where* as well as *what*.
    """
    if channels % 4:
        raise ValueError(f"channels must be a multiple of 4, got {channels}")
    freqs = 2.0 ** torch.arange(channels // 4, dtype=torch.float32, device=device)  # (C/4,)
    ys = (torch.arange(height, dtype=torch.float32, device=device) + 0.5) / height
    xs = (torch.arange(width, dtype=torch.float32, device=device) + 0.5) / width

    def encode(u: Tensor) -> Tensor:  # (L,) -> (C/2, L)
        angles = 2 * math.pi * freqs[:, None] * u[None, :]
        return torch.cat([angles.sin(), angles.cos()])

    rows = encode(ys)[:, :, None].expand(-1, height, width)  # (C/2, H, W)
    cols = encode(xs)[:, None, :].expand(-1, height, width)  # (C/2, H, W)
    return torch.cat([rows, cols])  # (C, H, W)


def grid_anchors(num: int) -> Tensor:
    """``num`` points spread over the unit square on a near-square grid, float32 ``(num, 2)`` as (y, x)."""
    rows = max(1, round(math.sqrt(num)))
    cols = math.ceil(num / rows)
    ys = (torch.arange(rows, dtype=torch.float32) + 0.5) / rows
    xs = (torch.arange(cols, dtype=torch.float32) + 0.5) / cols
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1).reshape(-1, 2)  # (rows*cols, 2)
    return grid[:num]


class MLP(nn.Sequential):
    """``num_layers`` linear layers with ReLU between them (the mask-embedding head)."""

    def __init__(self, in_features: int, hidden: int, out_features: int, num_layers: int = 3) -> None:
        sizes = [in_features] + [hidden] * (num_layers - 1) + [out_features]
        layers: list[nn.Module] = []
        for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if k < num_layers - 1:
                layers.append(nn.ReLU())
        super().__init__(*layers)


class QueryDecoderLayer(nn.Module):
    """One Mask2Former decoder layer: masked cross-attention -> self-attention -> FFN, each
    followed by a residual connection and LayerNorm.

    ``forward(queries (N, Q, C), query_pos (Q, C), memory (N, S, C), memory_pos (S, C),
    attn_mask (N*heads, Q, S) bool or None) -> (N, Q, C)``; ``True`` in ``attn_mask`` hides a position.
    """

    def __init__(self, dim: int, num_heads: int, ffn_dim: int) -> None:
        super().__init__()
        self.cross_attn = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.norm1 = nn.LayerNorm(dim)
        self.self_attn = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.ReLU(), nn.Linear(ffn_dim, dim))
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, queries: Tensor, query_pos: Tensor, memory: Tensor, memory_pos: Tensor,
                attn_mask: Tensor | None = None) -> Tensor:
        attended, _ = self.cross_attn(queries + query_pos, memory + memory_pos, memory,
                                      attn_mask=attn_mask, need_weights=False)  # (N, Q, C)
        queries = self.norm1(queries + attended)
        q = queries + query_pos
        mixed, _ = self.self_attn(q, q, queries, need_weights=False)  # queries talk to each other
        queries = self.norm2(queries + mixed)
        return self.norm3(queries + self.ffn(queries))  # (N, Q, C)


class MaskFormer(SegmentationModel):
    """A small mask-classification model: N queries, each a class (K + "no object") and a mask.

    Args:
        num_classes: K, the real classes (the class head has K + 1 outputs).
        num_queries: Q, the most objects (stuff regions included) one image can hold.
        pixel_decoder: a per-pixel model name (``registry.build_pixel_model(pixel_decoder, embed_dim, **decoder_args)``)
            or a segkit model whose ``num_classes`` equals ``embed_dim``; its output is the pixel embedding.
        embed_dim: D, channels of the pixel and mask embeddings.
        hidden_dim: C, width of the queries and of the transformer decoder (multiple of 4).
        num_layers: L, decoder layers (a prediction after each: deep supervision).
        num_heads: attention heads.
        memory_stride: the pixel embedding is average-pooled by this factor into the decoder's
            memory (``ceil(H / s) * ceil(W / s)`` tokens).
        masked_attention: Mask2Former's masked cross-attention (a query attends only where its
            previous mask is above 0.5; everywhere if that mask is empty).
        position_channels: P, Fourier features of the pixel coordinates in the pixel embedding
            (frequencies 1, 2, ... per image side; a multiple of 4, 0 for none).
        decoder_args: keyword arguments for ``build_pixel_model`` when ``pixel_decoder`` is a name.

    ``forward(x)``: float ``(N, 3, H, W)`` -> semantic class scores ``(N, K, H, W)`` in [0, 1]
    (:func:`semantic_inference`; argmax gives the labels), so the model works with
    ``segkit.train.evaluate`` and ``Segmenter``. Training uses :meth:`forward_sets`.
    Built in lessons/14-masks-as-queries.
    """

    def __init__(self, num_classes: int, num_queries: int = 50, pixel_decoder: str | SegmentationModel = "unet",
                 embed_dim: int = 32, hidden_dim: int = 64, num_layers: int = 3, num_heads: int = 4,
                 memory_stride: int = 8, masked_attention: bool = True, position_channels: int = 8,
                 decoder_args: dict[str, Any] | None = None) -> None:
        super().__init__()
        check_num_classes(num_classes)
        for name, value in (("num_queries", num_queries), ("embed_dim", embed_dim), ("hidden_dim", hidden_dim),
                            ("num_layers", num_layers), ("num_heads", num_heads), ("memory_stride", memory_stride)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if isinstance(position_channels, bool) or not isinstance(position_channels, int) or position_channels < 0 \
                or position_channels % 4:
            raise ValueError(f"position_channels must be a multiple of 4 >= 0, got {position_channels!r}")
        if hidden_dim % 4 or hidden_dim % num_heads:
            raise ValueError(f"hidden_dim must be a multiple of 4 and of num_heads={num_heads}, got {hidden_dim}")
        if isinstance(pixel_decoder, str):
            args = {"base_channels": 16, "depth": 3} if pixel_decoder == "unet" and decoder_args is None else decoder_args
            pixel_decoder = build_pixel_model(pixel_decoder, embed_dim, **(args or {}))
            decoder_config: dict[str, Any] = {"pixel_decoder": pixel_decoder.config["name"], "decoder_args": args}
        elif isinstance(pixel_decoder, SegmentationModel):
            if pixel_decoder.num_classes != embed_dim:
                raise ValueError(f"the pixel decoder must output embed_dim={embed_dim} channels, "
                                 f"got num_classes={pixel_decoder.num_classes}")
            decoder_config = {"pixel_decoder": pixel_decoder.config.get("name"),
                              "decoder_args": {k: v for k, v in pixel_decoder.config.items() if k not in ("name", "num_classes")}}
        else:
            raise TypeError(f"pixel_decoder must be a model name or a segkit SegmentationModel, "
                            f"got {type(pixel_decoder).__name__}")
        self.num_classes, self.in_channels = num_classes, pixel_decoder.in_channels
        self.num_queries, self.memory_stride, self.masked_attention = num_queries, memory_stride, masked_attention
        self.stride, self.pad_input = pixel_decoder.stride, False
        self.config = {"name": "maskformer", "num_classes": num_classes, "num_queries": num_queries,
                       "embed_dim": embed_dim, "hidden_dim": hidden_dim, "num_layers": num_layers,
                       "num_heads": num_heads, "memory_stride": memory_stride,
                       "masked_attention": masked_attention, "position_channels": position_channels,
                       **decoder_config}
        self.pixel_decoder = pixel_decoder
        self.memory_proj = nn.Linear(embed_dim, hidden_dim)
        self.query_feat = nn.Embedding(num_queries, hidden_dim)  # what each query starts as
        self.query_pos = nn.Embedding(num_queries, hidden_dim)  # each query's learned "position"
        self.layers = nn.ModuleList(QueryDecoderLayer(hidden_dim, num_heads, 2 * hidden_dim) for _ in range(num_layers))
        self.decoder_norm = nn.LayerNorm(hidden_dim)
        self.class_head = nn.Linear(hidden_dim, num_classes + 1)  # K classes + "no object"
        self.position_channels = position_channels
        mask_dim = embed_dim + position_channels + 1  # appearance, Fourier features, a constant
        self.mask_head = MLP(hidden_dim, hidden_dim, mask_dim)
        self.mask_anchor = nn.Parameter(self._anchor_bumps(num_queries, embed_dim, position_channels))

    @staticmethod
    def _anchor_bumps(num_queries: int, embed_dim: int, position_channels: int) -> Tensor:
        """Initial mask embeddings ``(Q, D + P + 1)``: query q's mask starts as a bump around the
        q-th point of a grid (its dot product with a pixel's Fourier features peaks there), minus a
        constant, so that the queries start out spread over the image instead of all alike."""
        anchors = grid_anchors(num_queries)  # (Q, 2) in [0, 1)
        bumps = torch.zeros(num_queries, embed_dim + position_channels + 1)
        if position_channels:
            quarter = position_channels // 4
            freqs = 2.0 ** torch.arange(quarter, dtype=torch.float32)
            angles = 2 * math.pi * anchors[:, :, None] * freqs  # (Q, 2, P/4)
            rows = torch.cat([angles[:, 0].sin(), angles[:, 0].cos()], dim=1)  # (Q, P/2)
            cols = torch.cat([angles[:, 1].sin(), angles[:, 1].cos()], dim=1)
            bumps[:, embed_dim:-1] = torch.cat([rows, cols], dim=1)  # peak P/2 at the anchor
            bumps[:, -1] = -position_channels / 4  # half the peak: positive within a few pixels
        return bumps

    def predict_sets(self, queries: Tensor, pixel_embedding: Tensor) -> tuple[Tensor, Tensor]:
        """Class logits ``(N, Q, K+1)`` and mask logits ``(N, Q, H, W)`` from queries ``(N, Q, C)``
        and the pixel embedding ``(N, D, H, W)``: the mask logit is a dot product."""
        queries = self.decoder_norm(queries)
        mask_embedding = self.mask_head(queries) + self.mask_anchor  # (N, Q, D + P + 1)
        mask_logits = torch.einsum("nqd,ndhw->nqhw", mask_embedding, pixel_embedding)  # (N, Q, H, W)
        return self.class_head(queries), mask_logits

    def _attention_mask(self, mask_logits: Tensor, size: tuple[int, int]) -> Tensor:
        """Masked attention: True where a query may not look, (N * heads, Q, h * w)."""
        small = F.adaptive_avg_pool2d(mask_logits.detach(), size)  # (N, Q, h, w)
        hidden = (small.sigmoid() < 0.5).flatten(2)  # (N, Q, h*w)
        hidden &= ~hidden.all(-1, keepdim=True)  # an empty mask may look everywhere
        return hidden.repeat_interleave(self.layers[0].cross_attn.num_heads, dim=0)

    def forward_sets(self, x: Tensor) -> MaskFormerOutput:
        """The set prediction for a batch ``(N, 3, H, W)``: class logits ``(N, Q, K+1)``, mask
        logits ``(N, Q, H, W)`` and the same pair after every earlier layer (``aux``)."""
        check_image_batch(x, self.in_channels, self.stride, type(self).__name__)
        appearance = self.pixel_decoder(x)  # (N, D, H, W)
        pooled = F.avg_pool2d(appearance, self.memory_stride, ceil_mode=True)  # (N, D, h, w)
        size = (pooled.shape[-2], pooled.shape[-1])
        memory = self.memory_proj(pooled.flatten(2).transpose(1, 2))  # (N, h*w, C)
        memory_pos = sine_position_encoding(*size, memory.shape[-1], device=x.device)  # (h*w, C)
        batch, _, height, width = x.shape
        where = fourier_features(height, width, self.position_channels, device=x.device)  # (P, H, W)
        constant = torch.ones(1, height, width, device=x.device)
        position = torch.cat([where, constant]).to(appearance.dtype).expand(batch, -1, -1, -1)
        pixel_embedding = torch.cat([appearance, position], dim=1)  # (N, D + P + 1, H, W)
        queries = self.query_feat.weight[None].expand(batch, -1, -1)  # (N, Q, C)
        query_pos = self.query_pos.weight  # (Q, C)
        predictions = [self.predict_sets(queries, pixel_embedding)]  # before the first layer
        for layer in self.layers:
            attn_mask = self._attention_mask(predictions[-1][1], size) if self.masked_attention else None
            queries = layer(queries, query_pos, memory, memory_pos, attn_mask)
            predictions.append(self.predict_sets(queries, pixel_embedding))
        class_logits, mask_logits = predictions[-1]
        return MaskFormerOutput(class_logits, mask_logits, predictions[:-1])

    def segment(self, x: Tensor) -> Tensor:
        out = self.forward_sets(x)
        return semantic_inference(out.class_logits, out.mask_logits)  # (N, K, H, W)


def _check_set_logits(class_logits: Tensor, mask_logits: Tensor, batched: bool) -> None:
    dims = 3 if batched else 2
    shape = "(N, Q, K+1)" if batched else "(Q, K+1)"
    for name, x in (("class_logits", class_logits), ("mask_logits", mask_logits)):
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"{name} must be a float tensor, got "
                            f"{x.dtype if isinstance(x, Tensor) else type(x).__name__}")
    if class_logits.dim() != dims or class_logits.shape[-1] < 2:
        raise ValueError(f"class_logits must be {shape} with K >= 1, got shape {tuple(class_logits.shape)}")
    if mask_logits.dim() != dims + 1 or mask_logits.shape[:-2] != class_logits.shape[:-1]:
        want = "(N, Q, H, W)" if batched else "(Q, H, W)"
        raise ValueError(f"mask_logits must be {want} matching class_logits {tuple(class_logits.shape)}, "
                         f"got {tuple(mask_logits.shape)}")
    if not bool(torch.isfinite(class_logits).all()) or not bool(torch.isfinite(mask_logits).all()):
        raise ValueError("class_logits or mask_logits contain NaN or inf")


def semantic_inference(class_logits: Tensor, mask_logits: Tensor) -> Tensor:
    """Per-class scores from a set of (class, mask) predictions (MaskFormer's semantic inference).

    ``scores[c, y, x] = sum_q softmax(class_logits[q])[c] * sigmoid(mask_logits[q, y, x])``, for the
    K real classes (the "no object" probability is dropped after the softmax over all K + 1).
    ``scores.argmax(-3)`` is the semantic map.

    Args:
        class_logits: float ``(N, Q, K+1)``.
        mask_logits: float ``(N, Q, H, W)``.

    Returns:
        float ``(N, K, H, W)``, each value in ``[0, Q]``.

    Built in lessons/14-masks-as-queries.
    """
    _check_set_logits(class_logits, mask_logits, batched=True)
    probs = class_logits.softmax(-1)[..., :-1]  # (N, Q, K)
    return torch.einsum("nqk,nqhw->nkhw", probs, mask_logits.sigmoid())


class PanopticPrediction(NamedTuple):
    """What :func:`panoptic_inference` returns, for one image."""

    semantic: Tensor  # (H, W) int64 class per pixel; ``num_classes`` (= K) where no segment is kept
    instances: Tensor  # (H, W) int64: 1..I on "thing" segments, 0 on stuff and uncovered pixels
    scores: Tensor  # (I,) float: the class probability of instance k at index k - 1
    classes: Tensor  # (I,) int64: the class of instance k at index k - 1


def panoptic_inference(class_logits: Tensor, mask_logits: Tensor, stuff_classes: tuple[int, ...] | list[int] = (),
                       score_threshold: float = 0.8, overlap_threshold: float = 0.8) -> PanopticPrediction:
    """Turn one image's set of (class, mask) predictions into a panoptic map (Mask2Former's rule).

    1. Each query's class is its most likely output ``c_q`` with probability ``p_q`` (softmax over
       the K + 1 outputs); queries whose ``c_q`` is "no object", or with ``p_q <= score_threshold``,
       are dropped.
    2. Overlaps: every pixel goes to the kept query with the highest ``p_q * sigmoid(mask_q)``.
    3. A query's segment is the pixels it won where its own ``sigmoid(mask_q) >= 0.5``. It is
       dropped when that is empty, or when the pixels it won are fewer than ``overlap_threshold``
       times the pixels of its own mask (``>= 0.5``): most of it lies under more confident queries.
    4. Queries of a class in ``stuff_classes`` merge into one segment per class, instance id 0;
       the others ("things") become instances ``1..I`` in order of decreasing ``p_q``.

    This is the published Mask2Former ``panoptic_inference`` (instances renumbered by score).

    Args:
        class_logits: float ``(Q, K+1)``; mask_logits: float ``(Q, H, W)``.
        stuff_classes: classes that are regions, not countable objects (e.g. background, road).
        score_threshold: in ``[0, 1)``; overlap_threshold: in ``[0, 1]``.

    Returns:
        :class:`PanopticPrediction` ``(semantic, instances, scores, classes)``; pixels no kept
        query covers get class ``K`` in ``semantic``: pass ``ignore_index=K`` to
        :func:`segkit.instances.panoptic_quality`. The inputs are not modified.

    Built in lessons/14-masks-as-queries.
    """
    _check_set_logits(class_logits, mask_logits, batched=False)
    if isinstance(score_threshold, bool) or not isinstance(score_threshold, (int, float)) or not 0 <= score_threshold < 1:
        raise ValueError(f"score_threshold must be in [0, 1), got {score_threshold!r}")
    if isinstance(overlap_threshold, bool) or not isinstance(overlap_threshold, (int, float)) \
            or not 0 <= overlap_threshold <= 1:
        raise ValueError(f"overlap_threshold must be in [0, 1], got {overlap_threshold!r}")
    num_classes = class_logits.shape[-1] - 1
    stuff = {int(c) for c in stuff_classes}
    bad = sorted(c for c in stuff if not 0 <= c < num_classes)
    if bad:
        raise ValueError(f"stuff_classes {bad} are outside [0, {num_classes})")
    height, width = mask_logits.shape[-2:]
    device = mask_logits.device
    scores, labels = class_logits.detach().softmax(-1).max(-1)  # (Q,), (Q,) over K + 1 outputs
    keep = (labels != num_classes) & (scores > score_threshold)
    order = torch.argsort(scores.masked_fill(~keep, -1), descending=True, stable=True)[: int(keep.sum())]
    scores, labels = scores[order], labels[order]  # kept queries, most confident first
    masks = mask_logits.detach()[order].sigmoid()  # (P, H, W)
    semantic = torch.full((height, width), num_classes, dtype=torch.int64, device=device)
    instances = torch.zeros((height, width), dtype=torch.int64, device=device)
    kept_scores, kept_classes = [], []
    owner = (scores[:, None, None] * masks).argmax(0) if len(order) else None  # (H, W) winning query
    for k in range(len(order)):
        won = owner == k
        own = masks[k] >= 0.5
        segment = won & own
        won_area, own_area = int(won.sum()), int(own.sum())
        if won_area == 0 or own_area == 0 or not bool(segment.any()) or won_area / own_area < overlap_threshold:
            continue
        semantic[segment] = labels[k]
        if int(labels[k]) not in stuff:
            kept_scores.append(scores[k])
            kept_classes.append(labels[k])
            instances[segment] = len(kept_scores)
    return PanopticPrediction(
        semantic, instances,
        torch.stack(kept_scores) if kept_scores else torch.zeros(0, device=device),
        torch.stack(kept_classes) if kept_classes else torch.zeros(0, dtype=torch.int64, device=device),
    )


def set_targets(semantic: Tensor, instances: Tensor, stuff_classes: tuple[int, ...] | list[int] = ()) -> tuple[Tensor, Tensor]:
    """The true set of (class, mask) pairs of one image, from its semantic and instance maps.

    Each stuff class present is one mask (its whole region); every other pixel group with one
    instance id ``> 0`` is one mask whose class is its most frequent semantic label. Pixels of a
    thing class with instance id 0 belong to no mask.

    Args:
        semantic: int64 ``(H, W)`` class labels; instances: int64 ``(H, W)``, 0 = none.
        stuff_classes: the classes that are regions (e.g. ``(0,)``: background).

    Returns:
        ``(classes (T,) int64, masks (T, H, W) bool)``: stuff classes first (increasing class), then
        instances by increasing id.

    Built in lessons/14-masks-as-queries.
    """
    if not isinstance(semantic, Tensor) or not isinstance(instances, Tensor):
        raise TypeError("semantic and instances must be tensors")
    if semantic.dim() != 2 or semantic.shape != instances.shape:
        raise ValueError(f"semantic and instances must be two (H, W) maps of one shape, got "
                         f"{tuple(semantic.shape)} and {tuple(instances.shape)}")
    if semantic.is_floating_point() or instances.is_floating_point():
        raise TypeError(f"semantic and instances must be integer maps, got {semantic.dtype} and {instances.dtype}")
    classes, masks = [], []
    stuff = sorted(set(int(c) for c in stuff_classes))
    for c in stuff:
        region = semantic == c
        if bool(region.any()):
            classes.append(c)
            masks.append(region)
    is_stuff = torch.isin(semantic, torch.tensor(stuff, dtype=semantic.dtype, device=semantic.device))
    for k in instances.unique().tolist():
        region = (instances == k) & ~is_stuff
        if k == 0 or not bool(region.any()):
            continue
        classes.append(int(semantic[region].mode().values))
        masks.append(region)
    if not masks:
        return torch.zeros(0, dtype=torch.int64), torch.zeros((0, *semantic.shape), dtype=torch.bool)
    return torch.tensor(classes, dtype=torch.int64), torch.stack(masks)


def _tile_starts(length: int, tile: int, stride: int) -> list[int]:
    starts = list(range(0, max(length - tile, 0) + 1, stride))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


def _owners(length: int, starts: list[int], tile: int) -> Tensor:
    """For each position ``0..length-1``, the tile whose centre is nearest (the tiles' cores)."""
    centres = torch.tensor([s + tile / 2 for s in starts])
    return (torch.arange(length)[:, None] + 0.5 - centres[None, :]).abs().argmin(1)  # (length,)


@torch.no_grad()
def tiled_panoptic_inference(model: MaskFormer, image: Tensor, tile: int, stride: int,
                             stuff_classes: tuple[int, ...] | list[int] = (), **thresholds: float) -> PanopticPrediction:
    """Panoptic inference on an image larger than the model's training size, tile by tile.

    A set predictor has at most ``num_queries`` objects per input and its queries know positions
    relative to the input, so a large image is cut into ``tile x tile`` windows every ``stride``
    pixels (overlapping when ``stride < tile``); each window is predicted by
    :func:`panoptic_inference`. Every pixel belongs to the *core* of the window whose centre is
    nearest: an instance is taken from the window that owns its centroid (where it is seen
    whole, if the overlap is wider than an object), stuff and uncovered pixels from the window
    that owns the pixel. Instances are pasted by decreasing score onto pixels no instance has yet.

    Args:
        model: a trained :class:`MaskFormer` (put in eval mode by the caller).
        image: float ``(3, H, W)`` with ``H, W >= tile``.
        tile, stride: window size and step in pixels (``stride <= tile``).
        stuff_classes, thresholds: passed to :func:`panoptic_inference`.

    Returns:
        :class:`PanopticPrediction` for the whole image (instances ``1..I`` by decreasing score).

    Built in lessons/14-masks-as-queries.
    """
    if not isinstance(image, Tensor) or image.dim() != 3:
        raise ValueError(f"image must be a (3, H, W) tensor, got "
                         f"{tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__}")
    height, width = image.shape[-2:]
    if not 1 <= stride <= tile <= min(height, width):
        raise ValueError(f"need 1 <= stride <= tile <= min(H, W) = {min(height, width)}, got tile={tile}, stride={stride}")
    rows, cols = _tile_starts(height, tile, stride), _tile_starts(width, tile, stride)
    own_row, own_col = _owners(height, rows, tile), _owners(width, cols, tile)
    windows = [(i, j) for i in range(len(rows)) for j in range(len(cols))]
    crops = torch.stack([image[:, rows[i]:rows[i] + tile, cols[j]:cols[j] + tile] for i, j in windows])
    out = model.forward_sets(crops)  # (T, Q, K+1), (T, Q, tile, tile)
    num_classes = out.class_logits.shape[-1] - 1
    semantic = torch.full((height, width), num_classes, dtype=torch.int64, device=image.device)
    candidates = []  # (score, class, global mask) of the instances each window owns
    for w, (i, j) in enumerate(windows):
        pred = panoptic_inference(out.class_logits[w], out.mask_logits[w], stuff_classes, **thresholds)
        top, left = rows[i], cols[j]
        core_rows, core_cols = own_row[top:top + tile] == i, own_col[left:left + tile] == j
        core = core_rows[:, None] & core_cols[None, :]  # (tile, tile)
        semantic[top:top + tile, left:left + tile][core] = pred.semantic[core]
        for k in range(1, int(pred.instances.max()) + 1):
            ys, xs = torch.nonzero(pred.instances == k, as_tuple=True)
            cy, cx = int(ys.float().mean().round()), int(xs.float().mean().round())
            if core_rows[cy] and core_cols[cx]:
                mask = torch.zeros(height, width, dtype=torch.bool, device=image.device)
                mask[top + ys, left + xs] = True
                candidates.append((float(pred.scores[k - 1]), int(pred.classes[k - 1]), mask))
    instances = torch.zeros(height, width, dtype=torch.int64, device=image.device)
    scores, classes = [], []
    for score, cls, mask in sorted(candidates, key=lambda c: -c[0]):
        free = mask & (instances == 0)
        if bool(free.any()):
            scores.append(score)
            classes.append(cls)
            instances[free] = len(scores)
            semantic[free] = cls
    return PanopticPrediction(semantic, instances, torch.tensor(scores, device=image.device),
                              torch.tensor(classes, dtype=torch.int64, device=image.device))
