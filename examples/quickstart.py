"""Five simulated training runs: the smallest complete use of Lodestar.

Each run gets a config, logs ``acc`` and ``loss`` for eight epochs, and
finishes. Run it against a started platform (``make demo`` does both):

    python examples/quickstart.py
"""

import math
import random

import lodestar

PROJECT = "basic-intro"
RUNS = 5
EPOCHS = 8


def simulated_epoch(epoch: int, offset: float, rng: random.Random) -> dict:
    """Accuracy that climbs and loss that falls, with a little noise."""
    progress = 1.0 - math.exp(-epoch / 2.5)
    noise = rng.uniform(-0.02, 0.02)
    return {
        "acc": round(0.1 + 0.85 * progress - offset + noise, 4),
        "loss": round(2.3 * (1.0 - progress) + offset + 0.1 + noise, 4),
    }


def main() -> None:
    rng = random.Random(7)
    for index in range(RUNS):
        config = {
            "learning_rate": 0.02,
            "architecture": "CNN",
            "dataset": "CIFAR-100",
            "epochs": EPOCHS,
        }
        run = lodestar.init(project=PROJECT, name=f"experiment_{index}", config=config)
        offset = rng.random() / 5
        for epoch in range(1, EPOCHS + 1):
            lodestar.log(simulated_epoch(epoch, offset, rng))
        lodestar.finish()
        print(f"logged {run.name} ({run.id})")


if __name__ == "__main__":
    main()
