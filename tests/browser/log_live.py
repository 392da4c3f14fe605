"""A run that trains until told to stop: ``python log_live.py RUN_ID STOP_FILE``.

It prints one console line and logs ``train/loss`` every 0.2 s until
STOP_FILE exists, then finishes. Start it with a short
``LODESTAR_SYSTEM_METRICS_INTERVAL`` to watch system charts grow.
"""

from __future__ import annotations

import os
import sys
import time

import lodestar


def main() -> None:
    run_id, stop = sys.argv[1], sys.argv[2]
    run = lodestar.init(project=os.environ["LIVE_PROJECT"], id=run_id, name=run_id,
                        config={"lr": 0.3})
    step = 0
    while not os.path.exists(stop):
        loss = 1.0 / (step + 1)
        print(f"step {step} loss {loss:.4f}", flush=True)
        run.log({"train/loss": loss}, step=step)
        step += 1
        time.sleep(0.2)
    run.finish()


if __name__ == "__main__":
    main()
