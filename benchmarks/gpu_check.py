"""Run segkit's CUDA paths on a real GPU, in one go, and print a report.

1. the CUDA-only tests (``pytest -m cuda``);
2. mixed precision: the same small model trained with AMP (autocast float16 + GradScaler) and in
   float32 from the same seed: the loss must fall, and the final losses agree within ``AMP_RTOL``;
3. the training CLI under ``torchrun --nproc_per_node=1`` with the nccl and the gloo backend
   (DistributedDataParallel around one process), against a plain run;
4. ``predict`` and sliding-window inference on the GPU against the CPU, and float16 / bfloat16
   inference against float32 (share of pixels with the same label);
5. FCN-ResNet50 and DeepLabV3-ResNet50 forward, segkit against torchvision on the same GPU, same run;
6. every solution notebook graded on the GPU (points and seconds).

On a machine without CUDA each check runs its CPU fallback (AMP is then a no-op and must give
float32's losses exactly; only gloo; bfloat16 on the CPU), so this script is itself tested here
(``tests/test_gpu_check.py``); lines that need a GPU say so.

Usage::

    python benchmarks/gpu_check.py                     # everything (about 6 min on one H200, untested)
    python benchmarks/gpu_check.py --quick --skip-notebooks   # the CPU self-test (~1 min)
    python benchmarks/gpu_check.py --out report.md
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

AMP_RTOL = 0.10  # final AMP loss within 10 % of float32's (float16 rounding over ~60 steps)
PREDICT_AGREEMENT = 0.999  # share of pixels with the same label, GPU vs CPU
HALF_AGREEMENT = 0.99  # float16 / bfloat16 vs float32


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failures: list[str] = []

    def add(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def check(self, ok: bool, what: str) -> None:
        self.add(f"- {'PASS' if ok else 'FAIL'}: {what}")
        if not ok:
            self.failures.append(what)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cuda_tests(report: Report, cuda: bool) -> None:
    report.add("\n## 1. CUDA-only tests")
    if not cuda:
        report.add("- skipped: no CUDA on this machine (`pytest -m cuda` needs a GPU)")
        return
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider"],
                            cwd=ROOT, capture_output=True, text=True)
    summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
    report.check(result.returncode == 0, f"`pytest -m cuda`: {summary}")


def _train_losses(device: torch.device, amp: bool, steps: int, size: int, epochs: int = 3) -> list[float]:
    """Mean training loss of each of ``epochs`` epochs of ``steps`` batches of 4 (same seed)."""
    from segkit.data import load_dataset
    from segkit.device import seed_everything
    from segkit.models import build_model
    from segkit.train import fit

    seed_everything(0)
    data = load_dataset("shapes", "train", steps * 4, size, seed=0)
    loader = DataLoader(data, batch_size=4, shuffle=False)
    model = build_model("unet", len(data.classes), base_channels=8, depth=3)
    history = fit(model, loader, epochs=epochs, lr=3e-3, device=device, amp=amp, progress=False,
                  num_classes=len(data.classes))
    return list(history["train_loss"])


def amp_vs_fp32(report: Report, device: torch.device, quick: bool) -> None:
    report.add(f"\n## 2. Mixed precision vs float32 on {device}")
    steps, size = (6, 32) if quick else (40, 64)
    timings, losses = {}, {}
    for amp in (False, True):
        start = time.perf_counter()
        losses[amp] = _train_losses(device, amp, steps, size)
        timings[amp] = time.perf_counter() - start
    for amp, name in ((False, "float32"), (True, "AMP")):
        trail = " -> ".join(f"{x:.4f}" for x in losses[amp])
        report.add(f"- {name} epoch losses {trail} ({timings[amp]:.1f} s)")
    fp32, mixed = losses[False][-1], losses[True][-1]
    report.check(mixed < losses[True][0], "the AMP loss falls")
    if device.type == "cuda":
        report.check(abs(mixed - fp32) <= AMP_RTOL * fp32,
                     f"final AMP loss within {AMP_RTOL:.0%} of float32's ({abs(mixed - fp32) / fp32:.1%})")
    else:
        report.check(losses[True] == losses[False], "no CUDA: amp=True is a no-op, losses equal float32's exactly")


def _cli(args: list[str], out: Path, launcher: list[str]) -> tuple[bool, dict, str]:
    cmd = [*launcher, "-m", "segkit.train", "--dataset", "shapes", "--model", "fcn8s", "--epochs", "1",
           "--image-size", "32", "32", "--num-train", "16", "--num-val", "8", "--batch-size", "8",
           "--no-progress", "--out", str(out), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    metrics = json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").is_file() else {}
    return result.returncode == 0, metrics, result.stderr[-1500:]


def torchrun_backends(report: Report, cuda: bool) -> None:
    report.add("\n## 3. Training CLI under torchrun (one process)")
    backends = ["nccl", "gloo"] if cuda else ["gloo"]
    device = ["--device", "cuda"] if cuda else ["--device", "cpu", "--threads", "1"]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=1", "--master_addr=127.0.0.1"]
    with tempfile.TemporaryDirectory() as tmp:
        ok, plain, err = _cli(device, Path(tmp) / "plain", [sys.executable])
        report.check(ok, f"plain run: mIoU {plain.get('mean_iou', float('nan')):.4f}" + ("" if ok else f"\n{err}"))
        for backend in backends:
            start = time.perf_counter()
            ok, metrics, err = _cli([*device, "--backend", backend], Path(tmp) / backend,
                                    [*torchrun, f"--master_port={_free_port()}"])
            seconds = time.perf_counter() - start
            miou = metrics.get("mean_iou", float("nan"))
            report.check(ok and abs(miou - plain.get("mean_iou", -1)) < 0.02,
                         f"torchrun + {backend}: mIoU {miou:.4f} ({seconds:.1f} s)" + ("" if ok else f"\n{err}"))
    if not cuda:
        report.add("- nccl: needs a GPU")


def _agreement(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.cpu() == b.cpu()).float().mean().item()


def predict_on_device(report: Report, device: torch.device) -> None:
    import copy

    from segkit.data import load_dataset
    from segkit.zoo import load_model

    report.add(f"\n## 4. predict and sliding windows on {device} vs the CPU")
    model = load_model("cells-unet-small", device="cpu")
    image = load_dataset("cells", "val", 1, 256, seed=3)[0][0]  # (3, 256, 256)
    reference = model.predict(image)  # (256, 256)
    reference_windows = model.predict(image, max_size=128, window=128, overlap=0.25)
    moved = copy.deepcopy(model).to(device)
    report.check(_agreement(moved.predict(image.to(device)), reference) >= PREDICT_AGREEMENT,
                 f"predict on {device}: {_agreement(moved.predict(image.to(device)), reference):.5f} of pixels as on the CPU")
    windows = moved.predict(image.to(device), max_size=128, window=128, overlap=0.25)
    report.check(_agreement(windows, reference_windows) >= PREDICT_AGREEMENT,
                 f"sliding windows on {device}: {_agreement(windows, reference_windows):.5f} as on the CPU")
    dtypes = [torch.float16, torch.bfloat16] if device.type == "cuda" else [torch.bfloat16]
    for dtype in dtypes:
        low = copy.deepcopy(model).to(device=device, dtype=dtype)
        labels = low.predict(image.to(device=device, dtype=dtype))
        share = _agreement(labels, reference)
        report.check(share >= HALF_AGREEMENT, f"{dtype} inference on {device}: {share:.5f} of pixels as float32")
    if device.type != "cuda":
        report.add("- float16 inference: needs a GPU")


def parity_timings(report: Report, device: torch.device, quick: bool) -> None:
    from torchvision.models import segmentation as tvseg

    import segkit.models as M

    size, batch, repeats = (64, 1, 3) if quick else (512, 8, 20)
    report.add(f"\n## 5. segkit vs torchvision forward on {device} (input {batch}x3x{size}x{size}, median of {repeats})")
    report.add("\n| model | torchvision (ms) | segkit (ms) | ratio | max abs diff |\n|---|---:|---:|---:|---:|")
    for builder in ("fcn_resnet50", "deeplabv3_resnet50"):
        torch.manual_seed(0)
        theirs = getattr(tvseg, builder)(weights=None, weights_backbone=None, num_classes=21, aux_loss=False)
        ours = M.from_torchvision(theirs)
        theirs, ours = theirs.to(device).eval(), ours.to(device).eval()
        x = torch.randn(batch, 3, size, size, device=device)

        def timed(fn: Callable[[], torch.Tensor]) -> float:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize()
            return time.perf_counter() - start

        with torch.no_grad():
            tv = lambda: theirs(x)["out"]  # noqa: E731
            sk = lambda: ours(x)  # noqa: E731
            diff = (tv() - sk()).abs().max().item()
            for _ in range(2):
                tv(), sk()
            tv_times, sk_times = [], []
            for i in range(repeats):  # alternate who goes first
                pair = [(tv_times, tv), (sk_times, sk)]
                for times, fn in pair if i % 2 == 0 else pair[::-1]:
                    times.append(timed(fn))
        tv_ms, sk_ms = 1000 * statistics.median(tv_times), 1000 * statistics.median(sk_times)
        report.add(f"| {builder} | {tv_ms:.1f} | {sk_ms:.1f} | {sk_ms / tv_ms:.3f} | {diff:.1e} |")
        report.check(diff < 1e-3, f"{builder}: same outputs as torchvision (max diff {diff:.1e})")


def notebooks(report: Report) -> None:
    from segkit.course.config import Course
    from segkit.course.learner.submit import submit

    course = Course.find(ROOT)
    report.add("\n## 6. Solution notebooks on this machine\n\n| unit | points | seconds |\n|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for unit in course.units():
            result = submit(course, unit, course.source_notebook(unit), student="gpu", feedback_root=Path(tmp))
            points = "failed" if result.failure else f"{result.points:g} / {result.max_points:g}"
            report.add(f"| {unit} | {points} | {result.seconds:.1f} |")
            if result.failure or result.points < result.max_points:
                report.failures.append(f"{unit} did not earn full marks")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (the CPU self-test)")
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="also write the report (markdown) here")
    args = parser.parse_args(argv)

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    if not cuda:
        torch.set_num_threads(1)
    report = Report()
    name = torch.cuda.get_device_name(0) if cuda else "no CUDA: CPU fallbacks only"
    report.add(f"# GPU check: {name}; torch {torch.__version__}")
    cuda_tests(report, cuda)
    amp_vs_fp32(report, device, args.quick)
    torchrun_backends(report, cuda)
    predict_on_device(report, device)
    parity_timings(report, device, args.quick)
    if not args.skip_notebooks:
        notebooks(report)
    report.add(f"\n{len(report.failures)} failure(s)" + (": " + "; ".join(report.failures) if report.failures else ""))
    if args.out:
        args.out.write_text("\n".join(report.lines) + "\n")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
