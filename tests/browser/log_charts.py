"""Log the runs the chart tests look at: ``python log_charts.py PROJECT``.

"dense" logs DENSE steps of ``wave`` (more points than a chart has buckets),
with +Infinity, -Infinity and NaN at known steps; "sparse" logs a few steps of
the same key; both log a small image under ``preview``, then finish.
"""

from __future__ import annotations

import math
import sys

import lodestar
import numpy as np

DENSE = 5000
NON_FINITE = {1000: math.inf, 2000: -math.inf, 3000: math.nan}


def wave(step: int) -> float:
    return math.sin(step / 80.0) + 0.3 * math.sin(step * 1.7)


def log_dense(project: str) -> None:
    run = lodestar.init(project=project, id="dense", name="dense",
                        config={"lr": 0.1}, reinit=True)
    for step in range(DENSE):
        run.log({"wave": NON_FINITE.get(step, wave(step))}, step=step)
    run.log({"preview": image(0)}, step=DENSE)
    run.summary["acc"] = 0.75
    run.finish()


def log_sparse(project: str) -> None:
    run = lodestar.init(project=project, id="sparse", name="sparse",
                        config={"lr": 0.01}, reinit=True)
    for step in range(0, DENSE, 250):
        run.log({"wave": 0.5 * wave(step)}, step=step)
    run.log({"preview": image(1)}, step=DENSE)
    run.summary["acc"] = 0.5
    run.finish()


def image(channel: int) -> lodestar.Image:
    pixels = np.zeros((24, 32, 3), dtype=np.uint8)
    pixels[:, :, channel] = 220
    return lodestar.Image(pixels, caption=f"channel {channel}")


def main() -> None:
    log_dense(sys.argv[1])
    log_sparse(sys.argv[1])


if __name__ == "__main__":
    main()
