"""Distributed training where only rank 0 tracks the run.

Every rank trains; rank 0 calls ``lodestar.init`` and logs the loss averaged
over all ranks. The other ranks never touch Lodestar. Run it against a
started platform (or with LODESTAR_MODE=offline):

    python examples/ddp_rank0.py --steps 20
"""

from __future__ import annotations

import argparse

import lodestar
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from ddp_common import (
    WORLD_SIZE,
    free_port,
    global_mean,
    model_and_data,
    setup,
    train_step,
)

PROJECT = "ddp-example"


def worker(rank: int, port: int, steps: int, name: str) -> None:
    setup(rank, port)
    run = None
    if rank == 0:
        run = lodestar.init(
            project=PROJECT, name=name, config={"world_size": WORLD_SIZE, "lr": 0.05}
        )
    model, inputs, targets = model_and_data(rank)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for step in range(steps):
        loss = global_mean(train_step(model, optimizer, inputs, targets))
        if run is not None:
            run.log({"loss": loss}, step=step)
    if run is not None:
        run.finish()
    dist.barrier()  # no rank tears the group down while another still uses it
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--name", default="ddp-rank0")
    args = parser.parse_args()
    mp.spawn(worker, args=(free_port(), args.steps, args.name), nprocs=WORLD_SIZE)


if __name__ == "__main__":
    main()
