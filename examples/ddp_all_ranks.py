"""Distributed training where every rank tracks a run of one group.

Each rank calls ``lodestar.init`` with the same ``group`` and
``job_type=f"rank{rank}"``, and logs its own loss; the dashboard and
``Api().runs(...)`` show the ranks side by side. Run it against a started
platform (or with LODESTAR_MODE=offline):

    python examples/ddp_all_ranks.py --steps 20
"""

from __future__ import annotations

import argparse

import lodestar
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from ddp_common import WORLD_SIZE, free_port, model_and_data, setup, train_step

PROJECT = "ddp-example"


def worker(rank: int, port: int, steps: int, group: str) -> None:
    setup(rank, port)
    run = lodestar.init(
        project=PROJECT,
        group=group,
        job_type=f"rank{rank}",
        name=f"{group}-rank{rank}",
        config={"world_size": WORLD_SIZE, "rank": rank, "lr": 0.05},
    )
    model, inputs, targets = model_and_data(rank)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for step in range(steps):
        run.log({"loss": train_step(model, optimizer, inputs, targets)}, step=step)
    dist.barrier()
    run.finish()
    dist.barrier()  # no rank tears the group down while another still uses it
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--group", default=None, help="default: a new random name")
    args = parser.parse_args()
    group = args.group or "ddp-" + lodestar.util.generate_id()
    mp.spawn(worker, args=(free_port(), args.steps, group), nprocs=WORLD_SIZE)


if __name__ == "__main__":
    main()
