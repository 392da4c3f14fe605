"""One run that raises a user alert: ``python log_alert.py PROJECT TITLE``.

The alerts browser tests use it to put an entry in the delivery log.
"""

from __future__ import annotations

import sys

import lodestar


def main() -> None:
    project, title = sys.argv[1], sys.argv[2]
    run = lodestar.init(project=project, name="alerting")
    run.log({"loss": 1.0})
    run.alert(title, "raised by the browser test's training script")
    run.finish()


if __name__ == "__main__":
    main()
