"""Multi-process training helpers: DistributedDataParallel on CPU (gloo) or GPUs (nccl).

``torchrun --nproc_per_node=N`` starts N copies of a script and tells each its ``RANK`` and
``WORLD_SIZE`` through environment variables; outside torchrun these helpers behave like a
single process of rank 0. Built in lessons/07-training-in-practice.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Sampler


def init_distributed(backend: str | None = None) -> tuple[int, int]:
    """Join the process group torchrun set up, if any.

    ``backend`` (``"nccl"`` or ``"gloo"``) defaults to nccl with CUDA, else gloo. A single
    torchrun process (``--nproc_per_node=1``) joins a group only when ``backend`` is given.

    Returns:
        ``(rank, world_size)``; ``(0, 1)`` when not started by torchrun.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    # One torchrun process joins a group only when a backend is asked for (to test nccl/gloo).
    wanted = world_size > 1 or (backend is not None and "RANK" in os.environ)
    if wanted and not dist.is_initialized():
        backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
        dist.init_process_group(backend)
    return get_rank(), get_world_size()


def is_distributed() -> bool:
    """True inside an initialised process group with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def get_rank() -> int:
    """This process's index in ``[0, world_size)``; 0 outside torchrun."""
    return dist.get_rank() if is_distributed() else 0


def get_world_size() -> int:
    """Number of training processes; 1 outside torchrun."""
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Rank 0: the only process that shows progress bars and writes files."""
    return get_rank() == 0


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over all processes, in place; a no-op in a single process."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model inside a ``DistributedDataParallel`` (or ``DataParallel``) wrapper."""
    return model.module if isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)) else model


class ShardSampler(Sampler[int]):
    """Deal indices ``rank, rank + world, ...`` to each process, without padding or repeats.

    For evaluation: every sample is seen exactly once across processes, so summed confusion
    matrices give exactly the single-process metrics (``DistributedSampler`` would repeat samples
    to even out the shards).
    """

    def __init__(self, num_samples: int, rank: int | None = None, world_size: int | None = None) -> None:
        self.num_samples = num_samples
        self.rank = get_rank() if rank is None else rank
        self.world_size = get_world_size() if world_size is None else world_size

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.num_samples, self.world_size))

    def __len__(self) -> int:
        return len(range(self.rank, self.num_samples, self.world_size))
