"""``python -m sgd_viewer``: the same as the ``sgd-viewer`` command."""

import sys

from sgd_viewer.cli import main

sys.exit(main())
