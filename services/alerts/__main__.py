"""``python -m lodestar_server.alerts --config PATH``: the alerts service.

For now a placeholder that connects to NATS and reports healthy; see
`lodestar_server.launcher.skeleton`.
"""

import sys

from ..launcher.skeleton import main

sys.exit(main("alerts", "alerts_port"))
