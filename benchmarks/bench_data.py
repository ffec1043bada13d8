"""Is data generation ever the bottleneck? Generation vs training throughput, on one CPU core.

For every procedural dataset at its default size this measures, in the same run:
  generation  images/s of ``ds[i]`` (a fresh sample each time),
  training    images/s of forward + backward + SGD step of a small CNN (4 conv layers, 32 channels,
              the size of the lessons' first models) on batches of those images,
and prints their ratio: above 1 the generator outruns training even in the main process, so
one DataLoader worker (or none) is enough. Times are CPU seconds of this process
(``time.process_time``) with ``torch.set_num_threads(1)``, so other jobs on a shared machine do
not distort them.

    python benchmarks/bench_data.py            # print the table
    python benchmarks/bench_data.py --write    # also update the "Data" section of benchmarks/README.md
"""
from __future__ import annotations

import argparse
import platform
import re
import time
from pathlib import Path

import torch
from torch import nn

from segkit.data import DATASETS, load_dataset

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- bench_data:begin -->", "<!-- bench_data:end -->"


def small_cnn(num_classes: int, width: int = 32) -> nn.Module:
    """Four 3x3 conv + BN + ReLU layers (one dilated) and a 1x1 classifier; logits at input size."""
    layers, channels = [], 3
    for dilation in (1, 1, 2, 1):
        layers += [nn.Conv2d(channels, width, 3, padding=dilation, dilation=dilation), nn.BatchNorm2d(width), nn.ReLU()]
        channels = width
    return nn.Sequential(*layers, nn.Conv2d(width, num_classes, 1))


def generation_rate(ds, seconds: float) -> float:
    """Images per CPU second of ``ds[i]`` over distinct indices."""
    ds[0]  # warm-up (caches, lazy imports)
    count, start = 0, time.process_time()
    while time.process_time() - start < seconds or count < 5:
        ds[1 + count]
        count += 1
    return count / (time.process_time() - start)


def training_rate(ds, seconds: float, batch_size: int = 8) -> float:
    """Images per CPU second of a training step (forward, cross-entropy, backward, SGD) of ``small_cnn``."""
    images, masks = map(torch.stack, zip(*(ds[i] for i in range(batch_size))))
    model = small_cnn(len(ds.classes))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        optimiser.zero_grad()
        nn.functional.cross_entropy(model(images), masks).backward()
        optimiser.step()

    step()  # warm-up
    count, start = 0, time.process_time()
    while time.process_time() - start < seconds or count < 2:
        step()
        count += batch_size
    return count / (time.process_time() - start)


def run(seconds: float) -> list[dict]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cases = [(name, {}) for name in DATASETS] + [("cells", {"lesion": True})]
    rows = []
    for name, options in cases:
        ds = load_dataset(name, num_samples=10**6, seed=0, **options)
        gen, train = generation_rate(ds, seconds), training_rate(ds, seconds)
        label = name + (" (lesion)" if options else "")
        rows.append({"dataset": label, "size": ds.image_size, "gen": gen, "train": train})
    tile = load_dataset("aerial", num_samples=100, image_size=1024, seed=0)
    rows.append({"dataset": "aerial 1024² tile", "size": tile.image_size, "gen": generation_rate(tile, seconds)})
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| dataset | size (H×W) | generation img/s | training img/s (small CNN, fwd+bwd) | generation / training |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        h, w = r["size"]
        train = f"{r['train']:.1f}" if "train" in r else "—"
        ratio = f"{r['gen'] / r['train']:.0f}×" if "train" in r else "—"
        lines.append(f"| {r['dataset']} | {h}×{w} | {r['gen']:.0f} | {train} | {ratio} |")
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace (or append) the data section of benchmarks/README.md, leaving other sections alone."""
    section = f"{BEGIN}\n{text}\n{END}"
    current = README.read_text() if README.exists() else "# Benchmarks\n\nEach section is written by its own script.\n"
    if BEGIN in current:
        current = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: section, current, flags=re.S)
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    README.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="CPU seconds per measurement")
    parser.add_argument("--write", action="store_true", help="update the data section of benchmarks/README.md")
    args = parser.parse_args()
    rows = run(args.seconds)
    result = table(rows)
    print(result)
    if args.write:
        machine = f"{platform.processor() or platform.machine()}, torch {torch.__version__}, one thread"
        text = (
            "## Data: generation vs training throughput\n\n"
            "`python benchmarks/bench_data.py --write` (CPU time of one process, `torch.set_num_threads(1)`; "
            f"{machine}). Generation is `ds[i]` at the default size; training is one SGD step of a 4-layer, "
            "32-channel CNN on batches of 8 of the same images. A ratio above 1 means the generator is never "
            "the bottleneck, even without DataLoader workers.\n\n" + result
        )
        write_section(text)


if __name__ == "__main__":
    main()
