"""``python -m lodestar_server.artifacts --config PATH``: the artifacts service.

For now a placeholder that connects to NATS and reports healthy; see
`lodestar_server.launcher.skeleton`.
"""

import sys

from ..launcher.skeleton import main

sys.exit(main("artifacts", "artifacts_port"))
