"""Two CPU processes (gloo, DistributedDataParallel) train exactly like one process with the same global batch.

The equality test runs the CLI's own ``run`` in 2 spawned processes with a model WITHOUT BatchNorm:
BatchNorm normalises with per-process batch statistics (SyncBatchNorm needs a GPU), which would make
the two runs legitimately differ. A second test runs the real command line under torchrun.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from segkit.train.cli import build_parser, run

pytestmark = pytest.mark.slow

ARGS = ["--dataset", "shapes", "--model", "unused", "--epochs", "2", "--image-size", "32", "32",
        "--num-train", "16", "--num-val", "6", "--batch-size", "8", "--lr", "0.01", "--no-progress"]


class NoBatchNormNet(nn.Module):
    """Conv-ReLU-conv with a stride-2 stage: deterministic, no batch statistics."""

    stride = 2
    num_classes = 4

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, self.num_classes, 2, stride=2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (N, 4, H, W)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE="2")
    torch.set_num_threads(1)
    args = build_parser().parse_args([*ARGS, "--out", out])
    try:
        run(args, model=NoBatchNormNet())
    finally:
        torch.distributed.destroy_process_group()


def _outputs(out: Path) -> tuple[dict, dict, dict]:
    weights = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
    return weights, json.loads((out / "history.json").read_text()), json.loads((out / "metrics.json").read_text())


def test_two_processes_equal_one_process_with_the_same_global_batch(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path / "ddp")), nprocs=2, join=True)
    assert "WORLD_SIZE" not in os.environ
    run(build_parser().parse_args([*ARGS, "--out", str(tmp_path / "single")]), model=NoBatchNormNet())

    ddp_weights, ddp_history, ddp_metrics = _outputs(tmp_path / "ddp")
    weights, history, metrics = _outputs(tmp_path / "single")
    assert ddp_metrics["world_size"] == 2 and metrics["world_size"] == 1
    max_diff = max((ddp_weights[k] - weights[k]).abs().max().item() for k in weights)
    assert max_diff < 1e-5, f"weights differ by {max_diff:.2e}"
    assert ddp_history["train_loss"] == pytest.approx(history["train_loss"], rel=1e-5)
    assert ddp_history["val_loss"] == pytest.approx(history["val_loss"], rel=1e-5)
    # 6 validation images over 2 processes: 3 each, summed confusion matrices = one-process metrics
    assert ddp_metrics["mean_iou"] == pytest.approx(metrics["mean_iou"], abs=1e-6)
    assert ddp_metrics["pixel_accuracy"] == pytest.approx(metrics["pixel_accuracy"], abs=1e-6)


def test_torchrun_runs_the_command_line_and_only_rank_0_writes(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={_free_port()}", "-m", "segkit.train", "--dataset", "shapes", "--model", "fcn8s",
           "--epochs", "1", "--image-size", "32", "32", "--num-train", "8", "--num-val", "4", "--batch-size", "4",
           "--no-progress", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["args.json", "checkpoint.pt", "history.json", "metrics.json"]
    assert json.loads((out / "metrics.json").read_text())["world_size"] == 2


def test_one_torchrun_process_with_an_explicit_backend_joins_a_group_and_matches_a_plain_run(tmp_path):
    """``--nproc_per_node=1 --backend gloo`` wraps the model in DDP (the path nccl takes on a GPU)."""
    common = ["-m", "segkit.train", "--dataset", "shapes", "--model", "fcn8s", "--epochs", "1",
              "--image-size", "32", "32", "--num-train", "8", "--num-val", "4", "--batch-size", "4",
              "--threads", "1", "--no-progress"]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=1", "--master_addr=127.0.0.1",
                f"--master_port={_free_port()}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = {"torchrun": [*launcher, *common, "--backend", "gloo"], "plain": [sys.executable, *common]}
    for name, cmd in runs.items():
        result = subprocess.run([*cmd, "--out", str(tmp_path / name)], capture_output=True, text=True,
                                timeout=120, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
    ddp = json.loads((tmp_path / "torchrun" / "metrics.json").read_text())
    plain = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    assert ddp["world_size"] == 1
    assert ddp["mean_iou"] == pytest.approx(plain["mean_iou"], abs=1e-6)
    assert json.loads((tmp_path / "torchrun" / "args.json").read_text())["backend"] == "gloo"
