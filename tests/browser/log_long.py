"""Log two runs with very long values: ``python log_long.py PROJECT``.

The first run ("long1") has a 5,000-character name, a 300-character tag, a
10,000-character config key and a 256-character metric name (also its summary
key); the second ("long2") shares the metric and config key, so compare shows
both lines and a differing config row. Both finish.
"""

from __future__ import annotations

import sys

import lodestar

NAME = "N" * 5000
TAG = "t" * 300
CONFIG_KEY = "k" * 10_000
METRIC = "m" * 256
STEPS = 10


def log_run(project: str, run_id: str, name: str, scale: float) -> None:
    run = lodestar.init(
        project=project, id=run_id, name=name, tags=[TAG, "short"],
        config={CONFIG_KEY: scale, "value": "v" * 2000}, reinit=True,
    )
    for step in range(STEPS):
        run.log({METRIC: scale * step, "loss": 1.0 / (step + 1)}, step=step)
    run.finish()


def main() -> None:
    project = sys.argv[1]
    log_run(project, "long1", NAME, 1.0)
    log_run(project, "long2", NAME + "2", 2.0)


if __name__ == "__main__":
    main()
