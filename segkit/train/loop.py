"""``fit`` and ``evaluate``: the training loop a learner can read in one sitting.

Built in lessons/02-workflow (the loop) and lessons/07-training-in-practice (schedules,
checkpoints, early stopping, mixed precision, several processes).
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from segkit._checks import positive_int
from segkit.device import get_device, seed_everything
from segkit.losses import CrossEntropyLoss
from segkit.metrics import SegmentationMetrics
from segkit.train.checkpoint import load_checkpoint, save_checkpoint
from segkit.train.distributed import all_reduce_sum, is_main_process, unwrap
from segkit.train.schedules import make_scheduler

History = dict[str, list[float]]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def show_progress(progress: bool) -> bool:
    """Whether to draw a progress bar: asked for, on the main process, and not turned off with
    ``TQDM_DISABLE`` (the course's grader sets it; tqdm itself ignores it once ``disable=`` is given)."""
    quiet = os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no")
    return bool(progress) and is_main_process() and not quiet


def split_batch(batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, masks)`` from a batch that is a tuple/list ``(image, mask, ...)`` or a dict."""
    if isinstance(batch, Mapping):
        return batch["image"], batch["mask"]
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return batch[0], batch[1]
    raise TypeError(
        "a batch must be (images, masks, ...) or a dict with 'image' and 'mask', "
        f"got {type(batch).__name__}"
    )


def _use_amp(amp: bool | None, device: torch.device) -> bool:
    # Mixed precision only on CUDA: CPU autocast in float16 is slow and bfloat16 changes results.
    return device.type == "cuda" and (amp is None or bool(amp))


def evaluate(
    model: nn.Module,
    loader: Iterable,
    num_classes: int,
    ignore_index: int | None = None,
    device: str | torch.device | None = None,
    *,
    loss: LossFn | None = None,
    amp: bool | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Score ``model`` on every batch of ``loader``, accumulating one dataset-level confusion matrix.

    Args:
        model: maps images ``(N, 3, H, W)`` float to logits ``(N, num_classes, H, W)``.
        loader: yields ``(images, masks)`` with masks ``(N, H, W)`` int64 in ``[0, num_classes)``
            or ``ignore_index``.
        num_classes: number of classes C.
        ignore_index: label excluded from every metric (``None``: every pixel counts).
        device: where to run; ``None`` picks with :func:`segkit.get_device`.
        loss: if given, the mean loss over the dataset is returned under "loss".
        amp: mixed precision (CUDA only; ``None`` means on if CUDA).

    Returns:
        The dict of :class:`segkit.metrics.SegmentationMetrics` ("mean_iou", "pixel_accuracy", ...),
        reduced over all processes when run under torchrun. The model is left in eval mode.
    """
    device = torch.device(device) if device is not None else get_device()
    net = unwrap(model)  # no DDP forward: shards may differ in length, and eval needs no sync
    net.to(device).eval()
    metrics = SegmentationMetrics(num_classes, ignore_index=ignore_index)
    loss_sum = torch.zeros(2, dtype=torch.float64)  # (sum of batch losses x batch size, images)
    with torch.no_grad():
        for batch in tqdm(loader, desc="eval", leave=False, disable=not show_progress(progress)):
            images, masks = (t.to(device, non_blocking=True) for t in split_batch(batch))
            with torch.autocast(device.type, enabled=_use_amp(amp, device)):
                logits = net(images)  # (N, C, H, W)
            if loss is not None:
                loss_sum += torch.tensor([float(loss(logits.float(), masks)) * len(images), len(images)])
            metrics.update(logits.argmax(dim=1), masks)  # (N, H, W) vs (N, H, W)
    _reduce_metrics(metrics)
    result = dict(metrics.compute())
    if loss is not None:
        total, count = all_reduce_sum(loss_sum).tolist()
        result["loss"] = total / max(count, 1.0)
    return result


def _reduce_metrics(metrics: SegmentationMetrics) -> None:
    """Sum the accumulated confusion matrix over processes (no-op in one process)."""
    confusion = metrics.confusion  # (C, C) int64, None if this process saw no batch
    if confusion is None:
        confusion = torch.zeros(metrics.num_classes, metrics.num_classes, dtype=torch.int64)
    metrics.confusion = all_reduce_sum(confusion.cpu().clone())


def _train_one_epoch(
    model: nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    criterion: LossFn,
    device: torch.device,
    scaler: torch.amp.GradScaler,
    scheduler: Any,
    amp: bool,
    bar: tqdm,
) -> float:
    """One pass over ``loader``; returns the mean training loss (over all processes)."""
    model.train()
    loss_sum = torch.zeros(2, dtype=torch.float64)  # (sum of batch losses x batch size, images)
    for batch in loader:
        images, masks = (t.to(device, non_blocking=True) for t in split_batch(batch))
        with torch.autocast(device.type, enabled=amp):
            logits = model(images)  # (N, C, H, W)
            loss = criterion(logits.float(), masks)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scale = scaler.get_scale() if amp else None
        scaler.step(optimizer)  # skipped by the scaler if gradients overflowed in float16
        scaler.update()
        if scheduler is not None and not (amp and scaler.get_scale() < scale):
            scheduler.step()
        loss_sum += torch.tensor([loss.item() * len(images), len(images)], dtype=torch.float64)
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
    total, count = all_reduce_sum(loss_sum).tolist()
    return total / max(count, 1.0)


class EarlyStopping:
    """Stop when the watched score has not improved for ``patience`` epochs in a row."""

    def __init__(self, patience: int | None) -> None:
        self.patience = None if patience is None else positive_int(patience, "early_stopping (patience in epochs, or None)")
        self.best = float("-inf")
        self.bad_epochs = 0

    def step(self, score: float) -> bool:
        """Record this epoch's score; True means stop now."""
        if score > self.best:
            self.best, self.bad_epochs = score, 0
        else:
            self.bad_epochs += 1
        return self.patience is not None and self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, float]:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        self.best, self.bad_epochs = float(state["best"]), int(state["bad_epochs"])


def _loader_generators(loader: Any) -> list[torch.Generator]:
    """Generators that decide a DataLoader's shuffling, saved so a resumed run shuffles the same."""
    found = [getattr(loader, "generator", None), getattr(getattr(loader, "sampler", None), "generator", None)]
    unique: list[torch.Generator] = []
    for gen in found:
        if isinstance(gen, torch.Generator) and all(gen is not g for g in unique):
            unique.append(gen)
    return unique


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    loss: LossFn | None = None,
    device: str | torch.device | None = None,
    amp: bool | None = None,
    scheduler: str | torch.optim.lr_scheduler.LRScheduler | None = None,
    num_classes: int | None = None,
    ignore_index: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    early_stopping: int | None = None,
    progress: bool = True,
    seed: int | None = None,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``, validating after each.

    Args:
        model: images ``(N, 3, H, W)`` float -> logits ``(N, C, H, W)``; may be wrapped in
            ``DistributedDataParallel`` (then metrics and losses are reduced over processes).
        train_loader, val_loader: yield ``(images, masks)``, masks ``(N, H, W)`` int64.
        epochs: total number of epochs (when resuming, counted from the very first).
        optimizer: defaults to ``AdamW(model.parameters(), lr=lr)``.
        loss: ``loss(logits, masks) -> scalar``; default pixel-wise cross-entropy that skips
            ``ignore_index``.
        device: ``None`` picks CUDA / MPS / CPU with :func:`segkit.get_device`.
        amp: mixed precision (autocast float16 + GradScaler), CUDA only; ``None`` means on if
            CUDA. On other devices it is always off.
        scheduler: "poly" (power 0.9), "cosine", ``None`` or an ``LRScheduler``; stepped per iteration.
        num_classes: defaults to ``model.num_classes``.
        ignore_index: label that counts in neither the loss nor the metrics.
        checkpoint: file written at the end of every epoch (model, optimizer, schedule, epoch,
            history, RNG states); only rank 0 writes.
        resume: continue from ``checkpoint``; the result equals an uninterrupted run.
        early_stopping: patience in epochs on validation mIoU (needs ``val_loader``).
        progress: show one tqdm bar over all steps (loss, then train_loss and val_miou, in the postfix);
            ``TQDM_DISABLE=1`` in the environment turns it off too.
        seed: if given, :func:`segkit.seed_everything` is called first.

    Returns:
        History: equal-length lists "epoch", "train_loss", "lr" (at the epoch's first step),
        "epoch_time" (seconds, validation included) and, with ``val_loader``, "val_loss",
        "val_miou", "val_pixel_accuracy". :func:`segkit.viz.plot_history` plots it.
    """
    epochs = positive_int(epochs, "epochs")
    if early_stopping is not None and val_loader is None:
        raise ValueError("early_stopping watches the validation mIoU: pass a val_loader too")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs the checkpoint path to resume from")
    if seed is not None:
        seed_everything(seed)
    device = torch.device(device) if device is not None else get_device()
    num_classes = num_classes if num_classes is not None else getattr(unwrap(model), "num_classes", None)
    if num_classes is None:
        raise ValueError("num_classes is needed: pass it, or give the model a .num_classes attribute")
    amp_on = _use_amp(amp, device)
    model.to(device)
    optimizer = optimizer if optimizer is not None else torch.optim.AdamW(model.parameters(), lr=lr)
    sched = make_scheduler(scheduler, optimizer, epochs * len(train_loader))
    scaler = torch.amp.GradScaler(device.type, enabled=amp_on)
    # segkit's own cross-entropy: a batch whose pixels are all ignored gives 0, not NaN.
    criterion = loss if loss is not None else CrossEntropyLoss(ignore_index=ignore_index)
    stopper = EarlyStopping(early_stopping)
    keys = ["epoch", "train_loss", "lr", "epoch_time"]
    keys += ["val_loss", "val_miou", "val_pixel_accuracy"] if val_loader is not None else []
    history: History = {key: [] for key in keys}
    generators = _loader_generators(train_loader)
    first = 1
    if resume:
        state = load_checkpoint(checkpoint, model, optimizer=optimizer, scheduler=sched, scaler=scaler, early_stopping=stopper)
        for gen, gen_state in zip(generators, state.get("generators", [])):
            gen.set_state(gen_state)
        history, first = state["history"], state["epoch"] + 1

    # One bar for the whole run (steps of all epochs): a bar per epoch would leave one output per
    # epoch in a saved notebook.
    steps = len(train_loader)
    bar = tqdm(total=epochs * steps, initial=(first - 1) * steps, desc=f"epoch {first}/{epochs}",
               disable=not show_progress(progress))
    for epoch in range(first, epochs + 1):
        if hasattr(getattr(train_loader, "sampler", None), "set_epoch"):
            train_loader.sampler.set_epoch(epoch)  # DistributedSampler: a new shuffle every epoch
        start = time.perf_counter()
        lr_now = optimizer.param_groups[0]["lr"]
        bar.set_description(f"epoch {epoch}/{epochs}", refresh=False)
        train_loss = _train_one_epoch(model, train_loader, optimizer, criterion, device, scaler, sched, amp_on, bar)
        row = {"epoch": epoch, "train_loss": train_loss, "lr": lr_now}
        if val_loader is not None:
            scores = evaluate(model, val_loader, num_classes, ignore_index, device, loss=criterion, amp=amp)
            row.update(val_loss=scores["loss"], val_miou=float(scores["mean_iou"]),
                       val_pixel_accuracy=float(scores["pixel_accuracy"]))
        row["epoch_time"] = time.perf_counter() - start
        for key in keys:
            history[key].append(row[key])
        bar.set_postfix({k: f"{row[k]:.4f}" for k in ("train_loss", "val_miou") if k in row})
        stop = stopper.step(row["val_miou"]) if val_loader is not None else False
        if checkpoint is not None and is_main_process():
            save_checkpoint(checkpoint, model, optimizer=optimizer, scheduler=sched, scaler=scaler,
                            early_stopping=stopper, epoch=epoch, history=history,
                            generators=[gen.get_state() for gen in generators])
        if stop:
            break
    bar.close()
    return history
