"""Benchmark segkit.metrics and segkit.instances against torchmetrics and scipy, in one run.

    .venv/bin/python benchmarks/bench_metrics.py            # about a minute on a 2-core CPU
    .venv/bin/python benchmarks/bench_metrics.py --quick    # smaller batches, fewer repeats

For each batch of int64 labels it reports the time of segkit's confusion matrix + mIoU and of
torchmetrics' ``MulticlassJaccardIndex`` (update + compute), checks the two mIoU values agree,
and sets segkit's speed against the memory-bandwidth bound measured on the same tensors: a
plain ``.sum()`` of prediction and target (reads every label byte once, nothing else) and a
``copy_`` of them into a preallocated buffer (reads and writes them). "Achieved" is the label
bytes read divided by segkit's time. Timings are the best of ``--repeats`` runs, taken
round-robin so that other load on the machine hits every contender alike.

On a machine shared with other jobs, wall-clock times of multi-threaded ops swing by 10x or more
(a parallel op waits for its descheduled sibling thread). ``--cpu-time`` then gives steadier
figures: one torch thread, each call timed by the process's CPU clock.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from typing import Callable

import numpy as np
import scipy.ndimage as ndi
import torch
from torchmetrics.classification import MulticlassJaccardIndex

from segkit import instances, metrics


def best_times(contenders: dict[str, Callable[[], object]], repeats: int,
               clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """Best time in seconds of each callable, run round-robin after one warm-up call each."""
    for fn in contenders.values():
        fn()
    best = {name: float("inf") for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = clock()
            fn()
            best[name] = min(best[name], clock() - start)
    return best


def label_batch(shape: tuple[int, ...], num_classes: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """int64 target with 5 % void (255) and a prediction that is right on ~70 % of pixels."""
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, num_classes, shape, generator=g)
    pred = torch.where(torch.rand(shape, generator=g) < 0.7, target,
                       torch.randint(0, num_classes, shape, generator=g))
    target[torch.rand(shape, generator=g) < 0.05] = 255
    return pred, target


def bench_miou(name: str, shape: tuple[int, ...], num_classes: int, repeats: int,
               clock: Callable[[], float]) -> list[str]:
    pred, target = label_batch(shape, num_classes)
    label_bytes = pred.nbytes + target.nbytes
    reference = MulticlassJaccardIndex(num_classes, average="macro", ignore_index=255)
    buffer = torch.empty_like(pred)

    def segkit_miou() -> float:
        return metrics.mean_iou(metrics.confusion_matrix(pred, target, num_classes, ignore_index=255))

    def torchmetrics_miou() -> float:
        reference.reset()
        reference.update(pred, target)
        return float(reference.compute())

    def plain_bincount() -> torch.Tensor:  # no checks, no ignore handling: a speed reference
        return torch.bincount((target * num_classes + pred).view(-1))

    times = best_times({
        "segkit": segkit_miou,
        "torchmetrics": torchmetrics_miou,
        "plain bincount": plain_bincount,
        "sum": lambda: (pred.sum(), target.sum()),
        "copy": lambda: (buffer.copy_(pred), buffer.copy_(target)),
    }, repeats, clock)
    ours, theirs = segkit_miou(), torchmetrics_miou()
    assert abs(ours - theirs) < 1e-6, f"mIoU differs: segkit {ours} vs torchmetrics {theirs}"
    gbs = {k: label_bytes / times[k] / 1e9 for k in ("segkit", "sum", "copy")}
    return [
        f"| {name} | {ours:.6f} | {theirs:.6f} | {times['segkit'] * 1e3:.1f} | "
        f"{times['torchmetrics'] * 1e3:.1f} | **{times['torchmetrics'] / times['segkit']:.1f}x** | "
        f"{times['plain bincount'] * 1e3:.1f} | {gbs['segkit']:.1f} | {gbs['sum']:.1f} "
        f"(**{100 * gbs['segkit'] / gbs['sum']:.0f} %**) | {gbs['copy']:.1f} "
        f"(**{100 * gbs['segkit'] / gbs['copy']:.0f} %**) |"
    ]


def bench_components(name: str, mask: np.ndarray, repeats: int, clock: Callable[[], float]) -> list[str]:
    rows = []
    for connectivity, structure in ((4, None), (8, np.ones((3, 3), dtype=bool))):
        tensor = torch.from_numpy(mask)
        times = best_times({
            "segkit": lambda: instances.connected_components(tensor, connectivity),
            "scipy": lambda: ndi.label(mask, structure=structure),
        }, repeats, clock)
        labels, count = instances.connected_components(tensor, connectivity)
        ref, ref_count = ndi.label(mask, structure=structure)
        same = count == ref_count and np.array_equal(labels.numpy(), ref)
        rows.append(f"| {name} | {connectivity} | {count} | {'yes' if same else 'NO'} | "
                    f"{times['segkit'] * 1e3:.0f} | {times['scipy'] * 1e3:.1f} | "
                    f"{times['segkit'] / times['scipy']:.0f}x |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="smaller batches, 3 repeats")
    parser.add_argument("--cpu-time", action="store_true", help="1 thread, CPU-clock timings")
    args = parser.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter
    if args.cpu_time:
        torch.set_num_threads(1)
    repeats = 3 if args.quick else args.repeats
    scale = 4 if args.quick else 1

    print(f"{datetime.date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"best of {repeats}, {'CPU' if args.cpu_time else 'wall'} clock, load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| batch (int64 labels) | segkit mIoU | torchmetrics mIoU | segkit ms | torchmetrics ms "
          "| speed-up | plain bincount ms | segkit GB/s | sum GB/s (segkit %) | copy GB/s (segkit %) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    cases = [("8x512x512, 21 classes", (8, 512 // scale, 512 // scale), 21),
             ("2x1024x2048, 19 classes", (2, 1024 // scale, 2048 // scale), 19)]
    for name, shape, num_classes in cases:
        print(*bench_miou(name, shape, num_classes, repeats, clock), sep="\n")

    size = 1024 // scale
    rng = np.random.default_rng(0)
    noise = rng.random((size, size)) < 0.5
    smooth = ndi.gaussian_filter(rng.random((size, size)), 4) > 0.5  # blobs, many touching
    print("\n| mask 1024x1024 | connectivity | components | equal to scipy | segkit ms | scipy ms | segkit / scipy |")
    print("|---|---|---|---|---|---|---|")
    for name, mask in (("random, 50 % on", noise), ("smooth blobs", smooth)):
        print(*bench_components(name if size == 1024 else f"{name} ({size}x{size})", mask, repeats, clock), sep="\n")


if __name__ == "__main__":
    main()
