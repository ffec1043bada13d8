"""Calibrate the capstone's tiers (lessons/12-capstone) on the machine that will grade it.

Trains a few recipes the way the capstone's training cell does (a loop on a CPU-time budget, one
thread, the same 512-scene training pool) and scores each with the hand-in check on the public
split and on a hidden split, so an instructor can see what the baseline and a better recipe reach
*here* before setting the tiers of a graded class. The recipes:

- ``baseline``: the solution's FCN-8s (tiny backbone), cross-entropy, flips, AdamW 3e-3, poly;
- ``deeplabv3plus``: the same loop with DeepLabV3+ (tiny backbone), AdamW 6e-3;
- ``unet``: the same loop with the U-Net the latency ceiling is measured against;
- ``on-public``: the baseline trained on the 64 public scenes (what training on the validation
  split does to the hidden score).

Usage (about one budget per recipe and seed, plus a few seconds each)::

    python benchmarks/bench_capstone.py                        # 60 CPU s, seeds 0 and 1
    python benchmarks/bench_capstone.py --seconds 30 --seeds 0 --recipes baseline unet
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

TIERS = {"bronze": 0.55, "silver": 0.65, "gold": 0.76}  # as in the capstone's test cells
RECIPES = {
    "baseline": {"model": ("fcn8s", {"backbone": "tiny"}), "lr": 3e-3, "data": "pool"},
    "deeplabv3plus": {"model": ("deeplabv3plus", {"backbone": "tiny"}), "lr": 6e-3, "data": "pool"},
    "unet": {"model": ("unet", {"base_channels": 16, "depth": 3}), "lr": 3e-3, "data": "pool"},
    "on-public": {"model": ("fcn8s", {"backbone": "tiny"}), "lr": 3e-3, "data": "public"},
}


def train(recipe: dict, seconds: float, seed: int, images: torch.Tensor, masks: torch.Tensor) -> tuple[torch.nn.Module, int]:
    """The capstone's training loop: batches of 8, random flips, AdamW, poly on the CPU-time budget."""
    import segkit
    from segkit.models import build_model
    from segkit.train import TimeBudget

    segkit.seed_everything(seed)
    name, kwargs = recipe["model"]
    model = build_model(name, 8, **kwargs)
    base_lr = recipe["lr"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=base_lr, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(seed)
    budget = TimeBudget(seconds, clock=time.process_time)
    steps = 0
    model.train()
    while not budget.expired:
        for group in optimizer.param_groups:
            group["lr"] = base_lr * (1 - budget.fraction) ** 0.9
        index = torch.randint(len(images), (8,), generator=generator)
        x, y = images[index], masks[index]  # (8, 3, 96, 128), (8, 96, 128)
        flip = torch.rand(8, generator=generator) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        y = torch.where(flip[:, None, None], y.flip(-1), y)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps += 1
    return model.eval(), steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="CPU seconds of training per run (default 60)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--recipes", nargs="+", choices=sorted(RECIPES), default=list(RECIPES))
    parser.add_argument("--hidden-seed", type=int, default=271828,
                        help="seed of the hidden split scored here (not a graded class's seed)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from segkit.course.kernel.capstone import check_handin, street_split
    from segkit.data import load_dataset

    pool = load_dataset("street", split="train", num_samples=512, image_size=(96, 128), seed=0)
    pairs = [pool[i] for i in range(len(pool))]
    data = {"pool": (torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])), "public": street_split()}
    print(f"{args.seconds:g} CPU s of training per run, one thread; hidden split: seed {args.hidden_seed}, 128 scenes")
    print(f"| recipe | seed | steps | public mIoU | hidden mIoU | latency / reference | tier (hidden) |")
    print(f"|---|---:|---:|---:|---:|---:|---|")
    for name in args.recipes:
        for seed in args.seeds:
            model, steps = train(RECIPES[name], args.seconds, seed, *data[RECIPES[name]["data"]])
            public, hidden = check_handin(model), check_handin(model, seed=args.hidden_seed)
            tier = hidden.tier(TIERS) if hidden.latency_ratio <= 2.0 else "none (too slow)"
            print(f"| {name} | {seed} | {steps} | {public.miou:.3f} | {hidden.miou:.3f} | "
                  f"{hidden.latency_ratio:.2f} | {tier or 'none'} |", flush=True)


if __name__ == "__main__":
    main()
