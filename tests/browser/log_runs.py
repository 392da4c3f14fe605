"""Log the runs the browser tests look at: ``python log_runs.py SPEC_JSON``.

SPEC_JSON is a list of runs: ``{"project", "id", "name", "config", "group",
"job_type", "tags", "steps", "scale", "nan_at", "live_until"}``. A run with
``live_until`` (a file path) keeps logging one step every 0.2 s until that
file exists, so a test can watch it update; the others log all their steps
and finish.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time

import lodestar


def log_run(spec: dict) -> None:
    run = lodestar.init(
        project=spec["project"], id=spec["id"], name=spec["name"],
        config=spec.get("config"), group=spec.get("group"),
        job_type=spec.get("job_type"), tags=spec.get("tags"), reinit=True,
    )
    scale = spec.get("scale", 1.0)
    for step in range(spec.get("steps", 0)):
        loss = scale * math.exp(-step / 60.0) + 0.02 * math.sin(step / 3.0)
        if step == spec.get("nan_at"):
            loss = math.nan
        run.log({"train/loss": loss, "train/acc": 1.0 - loss / (2 * scale),
                 "val/loss": loss * 1.1, "lr": spec["config"]["lr"]}, step=step)
    run.summary["acc"] = round(1.0 - scale / 10.0, 4)
    stop = spec.get("live_until")
    step = spec.get("steps", 0)
    while stop and not os.path.exists(stop):
        run.log({"train/loss": 1.0 / (step + 1)}, step=step)
        step += 1
        time.sleep(0.2)
    run.finish()


def main() -> None:
    for spec in json.loads(sys.argv[1]):
        log_run(spec)


if __name__ == "__main__":
    main()
