"""Time to a target mIoU, from the training runs that made the model zoo.

For every model in ``segkit/zoo/manifest.json`` this reads the run folder its recipe wrote
(``runs/NAME/history.json`` and ``args.json``) and reports the end-to-end throughput (training
images per second of wall time, data generation and validation included) and the wall time until
the validation mIoU first reached the target. With ``--train`` it first re-runs missing recipes
(without ``--export``, so the zoo is left alone) on this machine.

Usage::

    python benchmarks/bench_training.py                      # tabulate existing runs/NAME folders
    python benchmarks/bench_training.py --train --runs /tmp/runs --target 0.5
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

from segkit.zoo import ZOO_DIR

ROOT = Path(__file__).resolve().parents[1]


def _recipe_argv(recipe: str, out: Path) -> list[str]:
    """The recipe's arguments with ``--out`` replaced and ``--export`` removed."""
    args = shlex.split(recipe)[3:]  # drop "python -m segkit.train"
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--out", "--export"):
            skip = True
        else:
            kept.append(arg)
    return [*kept, "--out", str(out), "--no-progress"]


def time_to_target(history: dict[str, list[float]], target: float) -> float | None:
    """Seconds of wall time (summed epoch times) until ``val_miou`` first reached ``target``."""
    elapsed = 0.0
    for seconds, miou in zip(history["epoch_time"], history["val_miou"]):
        elapsed += seconds
        if miou is not None and miou >= target:
            return elapsed
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs", help="folder holding one run folder per zoo model")
    parser.add_argument("--target", type=float, default=0.5, help="validation mIoU to reach")
    parser.add_argument("--train", action="store_true", help="re-run the recipes whose run folder is missing")
    args = parser.parse_args()

    manifest = json.loads((ZOO_DIR / "manifest.json").read_text())
    print(f"| model | params | epochs x images | wall time (s) | images/s | val mIoU | time to mIoU {args.target} (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, entry in sorted(manifest.items()):
        run = args.runs / name
        if not (run / "history.json").is_file():
            if not args.train:
                print(f"| {name} | run folder {run} missing (use --train) |||||")
                continue
            subprocess.run([sys.executable, "-m", "segkit.train", *_recipe_argv(entry["recipe"], run)], check=True, cwd=ROOT)
        history = json.loads((run / "history.json").read_text())
        run_args = json.loads((run / "args.json").read_text())
        epochs, images = len(history["epoch"]), run_args["num_train"]
        wall = sum(history["epoch_time"])
        reached = time_to_target(history, args.target)
        print(f"| {name} | {entry['parameters'] / 1e3:.0f} k | {epochs} x {images} | {wall:.0f} | "
              f"{epochs * images / wall:.1f} | {history['val_miou'][-1]:.3f} | "
              f"{'not reached' if reached is None else f'{reached:.0f}'} |")


if __name__ == "__main__":
    main()
