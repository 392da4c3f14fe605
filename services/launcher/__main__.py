"""``python -m lodestar_server.launcher``: the ``lodestar server`` command."""

import sys

from .cli import main

sys.exit(main())
