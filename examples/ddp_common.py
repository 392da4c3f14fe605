"""What both distributed examples share: a tiny DDP model trained with gloo.

Two processes on the CPU, started with ``torch.multiprocessing.spawn``; each
trains the same linear model on its own shard of a synthetic regression, and
DistributedDataParallel averages the gradients between them.
"""

from __future__ import annotations

import socket

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

WORLD_SIZE = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup(rank: int, port: int) -> None:
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=WORLD_SIZE,
    )


Batch = tuple[DistributedDataParallel, torch.Tensor, torch.Tensor]


def model_and_data(rank: int) -> Batch:
    torch.manual_seed(0)
    model = DistributedDataParallel(torch.nn.Linear(4, 1))
    generator = torch.Generator().manual_seed(100 + rank)
    inputs = torch.randn(64, 4, generator=generator)
    targets = inputs @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1
    return model, inputs, targets


def train_step(
    model: DistributedDataParallel,
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    targets: torch.Tensor,
) -> float:
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def global_mean(value: float) -> float:
    """`value` averaged over every rank."""
    tensor = torch.tensor([value])
    dist.all_reduce(tensor)
    return float(tensor.item()) / WORLD_SIZE
