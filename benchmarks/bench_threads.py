"""CPU threads for the lessons' training cells: torch's default against the alternatives.

On a small machine with other work running, PyTorch's default (one thread per core, waiting
threads spinning) made the training cells of lessons 02 and 04 several times slower than one
thread. This runs those two cells' training code (the same models, batch sizes and image sizes,
for a few steps, extrapolated to the whole cell) in a fresh process per thread setting, once on
an idle machine and once with a busy-loop process it starts on one core, and prints a table.

Usage (one command, a few minutes on a 2-core machine)::

    python benchmarks/bench_threads.py
    python benchmarks/bench_threads.py --steps 60     # more steps, less noise, longer
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name -> (extra environment, torch.set_num_threads argument; None keeps torch's default,
# "segkit" applies what segkit.get_device() applies, as the lessons' setup cells do)
SETTINGS: dict[str, tuple[dict[str, str], int | str | None]] = {
    "torch default": ({}, None),
    "1 thread": ({}, 1),
    "2 threads": ({}, 2),
    "default + OMP_WAIT_POLICY=PASSIVE": ({"OMP_WAIT_POLICY": "PASSIVE"}, None),
    "segkit.get_device(), plain Python / Colab": ({}, "segkit"),
    "segkit.get_device(), make lab / grader": ({"OMP_WAIT_POLICY": "PASSIVE"}, "segkit"),
}


# ---- the lessons' training code (worker side) ----------------------------------------------------

def lesson02(steps: int) -> dict[str, float]:
    """02-workflow, cell "train": TinySegNet on 48x48 shapes, batch 16, AdamW; 20 epochs of
    75 steps, each followed by an evaluation of 200 images in batches of 100."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from segkit.data import load_dataset
    from segkit.train import evaluate

    def conv_bn_relu(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    class TinySegNet(nn.Module):
        def __init__(self, num_classes: int, width: int = 32) -> None:
            super().__init__()
            self.features = nn.Sequential(conv_bn_relu(3, 16), conv_bn_relu(16, width, stride=2),
                                          conv_bn_relu(width, width, dilation=2), conv_bn_relu(width, width, dilation=4),
                                          conv_bn_relu(width, width, dilation=8))
            self.classifier = nn.Conv2d(width, num_classes, kernel_size=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.interpolate(self.classifier(self.features(x)), size=x.shape[-2:], mode="bilinear", align_corners=False)

    options = dict(image_size=48, objects=(1, 2), radius=(0.2, 0.35))
    train = _tensors(load_dataset("shapes", split="train", num_samples=64, **options))
    val = _tensors(load_dataset("shapes", split="val", num_samples=200, **options))
    num_classes = len(load_dataset("shapes", split="val", num_samples=1, **options).classes)
    model = TinySegNet(num_classes)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)

    def step(i: int) -> None:
        k = (i * 16) % 64
        loss = F.cross_entropy(model(train[0][k:k + 16]), train[1][k:k + 16])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def score() -> None:
        evaluate(model, _batches(val, 100), num_classes, device="cpu")
        model.train()

    return _time(step, score, steps, epochs=20, steps_per_epoch=75)


def lesson04(steps: int) -> dict[str, float]:
    """04-fcn, cell "train": FCN-8s then FCN-32s on 96x128 street scenes, batch 16, 12 epochs of
    13 steps each, an evaluation of 100 images in batches of 50 after each epoch."""
    import torch

    from segkit.data import load_dataset
    from segkit.losses import CrossEntropyLoss
    from segkit.models import FCN
    from segkit.train import evaluate

    street = load_dataset("street", split="train", num_samples=32, image_size=(96, 128), seed=0)
    train = _tensors(street)
    val = _tensors(load_dataset("street", split="val", num_samples=100, image_size=(96, 128), seed=0))
    num_classes = len(street.classes)
    loss_fn = CrossEntropyLoss()
    timings = []
    for variant in ("8s", "32s"):  # the learner's FCN8s has FCN(K, variant="8s")'s layers and logits
        model = FCN(num_classes, variant=variant)
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)

        def step(i: int) -> None:
            k = (i * 16) % 32
            loss = loss_fn(model(train[0][k:k + 16]), train[1][k:k + 16])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        def score() -> None:
            evaluate(model, _batches(val, 50), num_classes, device="cpu")
            model.train()

        timings.append(_time(step, score, max(2, steps // 4), epochs=12, steps_per_epoch=13))
    return {key: sum(t[key] for t in timings) for key in timings[0]}


def _tensors(dataset):  # noqa: ANN001, ANN202 - (images (N, 3, H, W), masks (N, H, W))
    import torch

    images, masks = zip(*(dataset[i] for i in range(len(dataset))))
    return torch.stack(images), torch.stack(masks)


def _batches(data, size: int) -> list:  # noqa: ANN001
    return [(data[0][i:i + size], data[1][i:i + size]) for i in range(0, len(data[0]), size)]


def _time(step: Callable[[int], None], score: Callable[[], None], steps: int, epochs: int, steps_per_epoch: int) -> dict[str, float]:
    """Wall and CPU seconds of ``steps`` training steps and one evaluation, and the whole cell's
    estimate ``epochs * (steps_per_epoch * step + evaluation)``."""
    step(0)  # warm-up: first-call allocations
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(1, steps + 1):
        step(i)
    step_wall, step_cpu = (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps
    wall, cpu = time.perf_counter(), time.process_time()
    score()
    eval_wall, eval_cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "cell_s": epochs * (steps_per_epoch * step_wall + eval_wall),
        "cell_cpu_s": epochs * (steps_per_epoch * step_cpu + eval_cpu),
    }


def worker(setting: str, steps: int) -> None:
    import torch

    _, threads = SETTINGS[setting]
    if threads == "segkit":
        import segkit

        segkit.get_device()
    elif threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    result = {"threads": torch.get_num_threads(), "02": lesson02(steps), "04": lesson04(steps)}
    print(json.dumps(result))


# ---- the driver ----------------------------------------------------------------------------------

def busy_loop() -> subprocess.Popen:
    """A process that keeps one core busy (the first core this process may use)."""
    code = "import os\nif hasattr(os, 'sched_setaffinity'): os.sched_setaffinity(0, {%d})\nwhile True: pass" % min(_cpus())
    return subprocess.Popen([sys.executable, "-c", code])


def _cpus() -> set[int]:
    return os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))


def run_setting(setting: str, steps: int) -> dict:
    env = {**os.environ, **SETTINGS[setting][0], "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "SEGKIT_THREADS"):
        if name not in SETTINGS[setting][0]:
            env.pop(name, None)
    out = subprocess.run([sys.executable, __file__, "--worker", setting, "--steps", str(steps)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _same_as_default(setting: str, default_threads: int) -> str | None:
    env, threads = SETTINGS[setting]
    return "torch default" if not env and threads == default_threads else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24, help="timed training steps per lesson-02 model (04: a quarter)")
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS), metavar="SETTING")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps)
        return

    import torch

    started = time.perf_counter()
    print(f"{len(_cpus())} CPUs, torch {torch.__version__} (default {torch.get_num_threads()} threads), "
          f"load average {os.getloadavg()[0]:.1f} at start")
    print("estimated seconds for the whole training cell (wall; CPU time in brackets)\n")
    rows = {}
    for condition in ("idle", "one core busy"):
        loop = busy_loop() if condition != "idle" else None
        try:
            if loop:
                time.sleep(1.0)
            for setting in args.settings:
                same = _same_as_default(setting, torch.get_num_threads())
                if same and same in args.settings and (same, condition) in rows:
                    rows[setting, condition] = rows[same, condition]  # e.g. "2 threads" where the default is 2
                else:
                    rows[setting, condition] = run_setting(setting, args.steps)
        finally:
            if loop:
                loop.kill()
                loop.wait()

    header = f"{'setting':<42} {'thr':>3}  " + "  ".join(f"{lesson + ' ' + c:>22}" for c in ("idle", "busy") for lesson in ("02", "04"))
    print(header)
    print("-" * len(header))
    for setting in args.settings:
        idle, busy = rows[setting, "idle"], rows[setting, "one core busy"]
        cells = [f"{r[lesson]['cell_s']:>8.0f} s ({r[lesson]['cell_cpu_s']:>5.0f} s)" for r in (idle, busy) for lesson in ("02", "04")]
        print(f"{setting:<42} {idle['threads']:>3}  " + "  ".join(f"{c:>22}" for c in cells))
    best = {key: min(rows[s, key[1]][key[0]]["cell_s"] for s in args.settings) for key in
            [(lesson, c) for c in ("idle", "one core busy") for lesson in ("02", "04")]}
    print("\nslowdown against the best setting in each column:")
    for setting in args.settings:
        ratios = [rows[setting, c][lesson]["cell_s"] / best[lesson, c] for c in ("idle", "one core busy") for lesson in ("02", "04")]
        print(f"{setting:<42}      " + "  ".join(f"{r:>21.2f}x" for r in ratios))
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end; benchmark took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
