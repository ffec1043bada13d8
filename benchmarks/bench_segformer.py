"""SegFormer against DeepLabV3+ at the capstone's CPU budget, and the cost of attention (lessons/13-transformers).

Two tables for ``benchmarks/README.md``:

- ``--compare`` (default): the tiny SegFormer and the tiny DeepLabV3+ trained with the capstone's
  loop (``bench_capstone.train``: batches of 8 from the same 512 street scenes at 96x128, flips,
  AdamW, poly on a CPU-time budget, one thread), two seeds each, scored by the capstone's hand-in
  check on the public split and on a hidden split: mIoU, the IoU of the small classes, parameters
  and latency per image (median CPU time of single-image passes, one thread: robust to other load).
- ``--attention``: time and memory of one attention layer of SegFormer's first stage (64
  channels, one head) against image size, with spatial reduction 8 (SegFormer) and without
  (plain attention, as in ViT): the attention matrix grows as L^2 without it and as L^2 / 64 with it.

Usage::

    python benchmarks/bench_segformer.py                         # 60 CPU s, seeds 0 and 1: about 5 min
    python benchmarks/bench_segformer.py --seconds 30 --seeds 0 --recipes segformer
    python benchmarks/bench_segformer.py --attention             # a few seconds
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from bench_capstone import train  # the capstone's training loop (same folder)

SMALL_CLASSES = ("lane_marking", "pedestrian", "vehicle")
RECIPES = {
    "segformer": {"model": ("segformer", {"config": "tiny"}), "lr": 4e-3, "data": "pool"},
    "deeplabv3plus": {"model": ("deeplabv3plus", {"backbone": "tiny"}), "lr": 6e-3, "data": "pool"},  # as bench_capstone
}


def compare(seconds: float, seeds: list[int], recipes: list[str], hidden_seed: int) -> None:
    from segkit.course.kernel.capstone import check_handin, street_split
    from segkit.data import load_dataset

    pool = load_dataset("street", split="train", num_samples=512, image_size=(96, 128), seed=0)
    pairs = [pool[i] for i in range(len(pool))]
    data = {"pool": (torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])), "public": street_split()}
    print(f"{seconds:g} CPU s of training per run (the capstone's loop), one thread; hidden split: seed {hidden_seed}, 128 scenes")
    small = " | ".join(f"IoU {c}" for c in SMALL_CLASSES)
    print(f"| model | lr | seed | steps | public mIoU | hidden mIoU | {small} | parameters | CPU ms / image |")
    print("|---|---:|---:|---:|---:|---:|" + "---:|" * len(SMALL_CLASSES) + "---:|---:|")
    for name in recipes:
        recipe = RECIPES[name]
        for seed in seeds:
            model, steps = train(recipe, seconds, seed, *data[recipe["data"]])
            public, hidden = check_handin(model), check_handin(model, seed=hidden_seed)
            ious = " | ".join(f"{hidden.iou[c]:.3f}" for c in SMALL_CLASSES)
            print(f"| {name} | {recipe['lr']:g} | {seed} | {steps} | {public.miou:.3f} | {hidden.miou:.3f} | {ious} | "
                  f"{hidden.parameters:,} | {cpu_latency_ms(model, data['public'][0][:1]):.1f} |", flush=True)


def cpu_latency_ms(model: torch.nn.Module, image: torch.Tensor, repeats: int = 21) -> float:
    """Median CPU time of one forward pass on ``image`` (1, 3, H, W), eval mode, no gradients."""
    times = []
    with torch.inference_mode():
        model(image)
        for _ in range(repeats):
            start = time.process_time()
            model(image)
            times.append(time.process_time() - start)
    return statistics.median(times) * 1000


def attention_cost(sizes: list[int], channels: int = 64, reduction: int = 8, repeats: int = 3) -> None:
    """Forward time (median CPU ms) and the attention matrix's memory of one attention layer."""
    from segkit.models import EfficientSelfAttention

    print(f"one attention layer on stage 1's tokens (stride 4, {channels} channels, one head), one image, one thread")
    print("| image | tokens L | keys (R=1) | keys (R=8) | CPU ms R=1 | CPU ms R=8 | attention matrix MB R=1 | attention matrix MB R=8 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    torch.manual_seed(0)
    layers = {r: EfficientSelfAttention(channels, 1, r).eval() for r in (1, reduction)}
    for size in sizes:
        h = w = size // 4
        x = torch.randn(1, h * w, channels)
        row = []
        for r, layer in layers.items():
            times = []
            with torch.no_grad():
                weights = layer.attention(x, h, w)[0]  # (1, 1, L, L'): the matrix a forward pass creates
                for _ in range(repeats):
                    start = time.process_time()
                    layer(x, h, w)
                    times.append(time.process_time() - start)
            row.append((weights.shape[-1], statistics.median(times) * 1000, weights.numel() * weights.element_size() / 2**20))
        (k1, t1, m1), (k8, t8, m8) = row
        print(f"| {size}x{size} | {h * w:,} | {k1:,} | {k8:,} | {t1:.1f} | {t8:.1f} | {m1:,.1f} | {m8:,.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attention", action="store_true", help="print the attention cost table instead")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 384, 512])
    parser.add_argument("--seconds", type=float, default=60.0, help="CPU seconds of training per run (default 60)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--recipes", nargs="+", choices=sorted(RECIPES), default=list(RECIPES))
    parser.add_argument("--lr", type=float, default=None, help="override the recipes' learning rate")
    parser.add_argument("--hidden-seed", type=int, default=271828, help="seed of the hidden split (as bench_capstone)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.lr is not None:
        for recipe in RECIPES.values():
            recipe["lr"] = args.lr
    if args.attention:
        attention_cost(args.sizes)
    else:
        compare(args.seconds, args.seeds, args.recipes, args.hidden_seed)


if __name__ == "__main__":
    main()
