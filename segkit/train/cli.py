"""The training command line: ``python -m segkit.train --dataset street --model deeplabv3 ...``.

Under ``torchrun --nproc_per_node=N -m segkit.train ...`` the same command trains with
DistributedDataParallel (gloo on CPU, nccl on GPUs): each process gets ``--batch-size / N``
images per step from a ``DistributedSampler``, gradients are averaged, metrics are summed over
processes, and only rank 0 writes files. Built in lessons/07-training-in-practice.
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from segkit.device import get_device, seed_everything, set_cpu_threads
from segkit.transforms import AUGMENTATIONS, augmentation
from segkit.train.distributed import ShardSampler, init_distributed, is_main_process
from segkit.train.export import export_to_zoo
from segkit.train.loop import evaluate, fit


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m segkit.train`` (``--help`` lists every option)."""
    p = argparse.ArgumentParser(prog="python -m segkit.train", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True, help="a segkit dataset: shapes, street, cells, ...")
    p.add_argument("--model", required=True, help="a segkit.models.build_model name: fcn8s, unet, deeplabv3, ...")
    p.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="extra keyword for build_model, e.g. --model-arg base_channels=16 (repeatable)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--image-size", type=int, nargs=2, default=(128, 128), metavar=("H", "W"))
    p.add_argument("--num-train", type=int, default=512, help="training images (generated on the fly)")
    p.add_argument("--num-val", type=int, default=64, help="validation images")
    p.add_argument("--augment", choices=AUGMENTATIONS, default="none",
                   help="joint image/mask augmentation of the training set (segkit.transforms.augmentation): "
                        "flip, crop-flip (random resized crop + flip) or standard (+ rotation, colour jitter)")
    p.add_argument("--batch-size", type=int, default=16, help="global batch, split over processes")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--optimizer", choices=("adamw", "sgd"), default="adamw")
    p.add_argument("--scheduler", choices=("poly", "cosine", "none"), default="poly")
    p.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="mixed precision (CUDA only; default: on if CUDA)")
    p.add_argument("--backend", choices=("nccl", "gloo"), default=None,
                   help="process-group backend under torchrun (default: nccl with CUDA, else gloo)")
    p.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm across GPUs (CUDA only)")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: automatic)")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads per process (default: segkit.device.choose_cpu_threads(), e.g. 1 "
                        "on a 2-core machine; torch's one per core is many times slower on a busy machine)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, type=Path, help="run folder: checkpoint.pt, history.json, metrics.json")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--export", type=Path, default=None, metavar="ZOO_FILE",
                   help="also publish float16 weights to a zoo file (e.g. segkit/zoo/NAME.pt) "
                        "and record them in the manifest beside it, with the frozen-split mIoU")
    return p


def parse_model_args(pairs: Sequence[str]) -> dict[str, Any]:
    """``["base_channels=16", "bilinear=True"]`` -> ``{"base_channels": 16, "bilinear": True}``."""
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--model-arg expects KEY=VALUE, got {pair!r}")
        try:
            kwargs[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            kwargs[key] = text  # a bare word such as resnet18
    return kwargs


def _jsonable(value: Any) -> Any:
    if isinstance(value, (torch.Tensor, np.ndarray)):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN
    return value


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(_jsonable(data), indent=2) + "\n")


def _pick_device(args: argparse.Namespace, world_size: int) -> torch.device:
    device = get_device(args.device)
    if device.type == "cuda" and torch.distributed.is_initialized():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return device


def run(args: argparse.Namespace, model: nn.Module | None = None) -> dict[str, Any]:
    """Train as ``args`` say and return the final validation metrics (same dict on every rank).

    ``model`` replaces ``build_model(args.model, ...)``; tests use it to train a model of their own.
    """
    from segkit.data import load_dataset
    from segkit.models import build_model

    set_cpu_threads(args.threads)  # None: segkit's choice (see segkit.device.choose_cpu_threads)
    rank, world_size = init_distributed(args.backend)
    if args.batch_size % world_size:
        raise ValueError(f"--batch-size {args.batch_size} must be divisible by the {world_size} processes")
    device = _pick_device(args, world_size)
    seed_everything(args.seed)
    size = tuple(args.image_size)
    val_set = load_dataset(args.dataset, "val", args.num_val, size, args.seed)
    ignore_index = getattr(val_set, "ignore_index", None)
    transform = None
    if args.augment != "none":
        # Pixels rotated in from outside the image get the dataset's ignore label (255 if it has none).
        ignore_index = 255 if ignore_index is None else ignore_index
        transform = augmentation(args.augment, size, ignore_index)
    train_set = load_dataset(args.dataset, "train", args.num_train, size, args.seed, transform=transform)
    num_classes = len(train_set.classes)
    if model is None:
        model = build_model(args.model, num_classes, **parse_model_args(args.model_arg))
    model.to(device)
    if torch.distributed.is_initialized():
        if args.sync_bn:
            if device.type != "cuda":
                raise ValueError("--sync-bn needs CUDA: SyncBatchNorm does not run on the CPU")
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    # The same sampler in one process (num_replicas=1) keeps the order equal to a torchrun run.
    sampler = DistributedSampler(train_set, num_replicas=world_size, rank=rank, shuffle=True, seed=args.seed)
    per_rank = args.batch_size // world_size
    train_loader = DataLoader(train_set, per_rank, sampler=sampler, num_workers=args.workers,
                              pin_memory=device.type == "cuda")
    val_loader = DataLoader(val_set, per_rank, sampler=ShardSampler(len(val_set)), num_workers=args.workers)
    params = model.parameters()
    optimizer = (torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay) if args.optimizer == "adamw"
                 else torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=args.weight_decay))
    history = fit(
        model, train_loader, val_loader, epochs=args.epochs, optimizer=optimizer, device=device,
        amp=args.amp, scheduler=None if args.scheduler == "none" else args.scheduler,
        num_classes=num_classes, ignore_index=ignore_index, checkpoint=args.out / "checkpoint.pt",
        resume=args.resume, early_stopping=args.early_stopping, progress=not args.no_progress,
    )
    metrics = evaluate(model, val_loader, num_classes, ignore_index, device, amp=args.amp)
    metrics["train_time_s"] = sum(history["epoch_time"])
    metrics["world_size"] = world_size
    if is_main_process():
        args.out.mkdir(parents=True, exist_ok=True)
        _write_json(args.out / "history.json", history)
        _write_json(args.out / "metrics.json", metrics)
        _write_json(args.out / "args.json", {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()})
        if args.export is not None:
            export_to_zoo(model, args.export, dataset=args.dataset, architecture=args.model,
                          model_kwargs=parse_model_args(args.model_arg), classes=list(train_set.classes),
                          palette=_jsonable(getattr(train_set, "palette", None)),
                          recipe=args.recipe, train_time_s=metrics["train_time_s"])
    return metrics


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Entry point of ``python -m segkit.train``; ``argv`` defaults to ``sys.argv[1:]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.recipe = "python -m segkit.train " + shlex.join(argv)
    try:
        return run(args)
    finally:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
