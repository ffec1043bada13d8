"""Benchmark segkit's models on the CPU.

1. segkit vs torchvision, same weights, same input, same run: forward (eval, no grad) and
   forward+backward (train mode) of FCN-ResNet50 and DeepLabV3-ResNet50. The two are timed in
   alternation so that load from other processes hits both alike; the ratio segkit / torchvision
   is the figure of merit (goal <= 1.05).
2. Training throughput (images/s, forward+backward+Adam step) of the small models lessons train.

Usage::

    python benchmarks/bench_models.py                  # both parts, markdown tables on stdout
    python benchmarks/bench_models.py --part parity --models deeplabv3_resnet50 --repeats 9
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torchvision.models import segmentation as tvseg

import segkit.models as M


def _seconds(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def _steps(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor) -> dict[str, Callable[[], object]]:
    """Forward-only and forward+backward closures; torchvision returns a dict, segkit a tensor."""

    def logits() -> torch.Tensor:
        out = model(x)
        return out["out"] if isinstance(out, dict) else out

    def forward() -> object:
        model.eval()
        with torch.no_grad():
            return logits()

    def forward_backward() -> object:
        model.train()
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(logits(), target)
        loss.backward()
        return loss

    return {"forward": forward, "forward+backward": forward_backward}


def parity(builders: list[str], size: int, batch: int, warmup: int, repeats: int) -> list[str]:
    rows = [
        "| model | pass | torchvision (ms) | segkit (ms) | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for builder in builders:
        torch.manual_seed(0)
        theirs = getattr(tvseg, builder)(weights=None, weights_backbone=None, num_classes=21, aux_loss=False)
        ours = M.from_torchvision(theirs)
        x = torch.randn(batch, 3, size, size)
        target = torch.randint(0, 21, (batch, size, size))
        tv_steps, sk_steps = _steps(theirs, x, target), _steps(ours, x, target)
        for name in tv_steps:
            for _ in range(warmup):
                tv_steps[name](), sk_steps[name]()
            tv_times, sk_times = [], []
            for i in range(repeats):  # alternate who goes first
                pair = [(tv_times, tv_steps[name]), (sk_times, sk_steps[name])]
                for times, step in pair if i % 2 == 0 else pair[::-1]:
                    times.append(_seconds(step))
            tv_ms, sk_ms = 1000 * statistics.median(tv_times), 1000 * statistics.median(sk_times)
            rows.append(f"| {builder} | {name} | {tv_ms:.0f} | {sk_ms:.0f} | {sk_ms / tv_ms:.3f} |")
    return rows


SMALL_MODELS = {
    "UNet (base 16, depth 3)": lambda: M.UNet(3, 3, base_channels=16, depth=3),
    "UNet (base 8, depth 3)": lambda: M.UNet(3, 3, base_channels=8, depth=3),
    "FCN-8s tiny": lambda: M.FCN(3, "tiny", "8s"),
    "FCN-32s tiny": lambda: M.FCN(3, "tiny", "32s"),
    "DeepLabV3 tiny (OS 16)": lambda: M.DeepLabV3(3, "tiny", 16),
    "DeepLabV3+ tiny (OS 16)": lambda: M.DeepLabV3(3, "tiny", 16, plus=True),
}


def throughput(sizes: list[int], batch: int, warmup: int, steps: int) -> list[str]:
    header = " | ".join(f"{s}x{s} (img/s)" for s in sizes)
    rows = [f"| model | params | {header} |", "|---|---:|" + "---:|" * len(sizes)]
    for label, build in SMALL_MODELS.items():
        torch.manual_seed(0)
        model = build().train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        cells = []
        for size in sizes:
            x = torch.rand(batch, 3, size, size)
            target = torch.randint(0, 3, (batch, size, size))

            def step() -> None:
                optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(model(x), target).backward()
                optimizer.step()

            for _ in range(warmup):
                step()
            times = [_seconds(step) for _ in range(steps)]
            cells.append(f"{batch / statistics.median(times):.0f}")
        rows.append(f"| {label} | {M.count_parameters(model):,} | {' | '.join(cells)} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "parity", "throughput"), default="all")
    parser.add_argument(
        "--models", nargs="+", default=["fcn_resnet50", "deeplabv3_resnet50"], help="torchvision builders to compare"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared CPU)")
    parser.add_argument("--size", type=int, default=256, help="image side for the parity part")
    parser.add_argument("--batch", type=int, default=2, help="batch size for the parity part")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions (median)")
    parser.add_argument("--train-batch", type=int, default=8, help="batch size for the throughput part")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)\n")
    if args.part in ("all", "parity"):
        print(f"segkit vs torchvision, input {args.batch}x3x{args.size}x{args.size}, median of {args.repeats}\n")
        print("\n".join(parity(args.models, args.size, args.batch, args.warmup, args.repeats)) + "\n")
    if args.part in ("all", "throughput"):
        print(f"training throughput, batch {args.train_batch}, Adam, median of {args.repeats} steps\n")
        print("\n".join(throughput([64, 128], args.train_batch, args.warmup, args.repeats)))


if __name__ == "__main__":
    main()
