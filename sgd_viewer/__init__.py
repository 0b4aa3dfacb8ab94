"""sgd_viewer: watch gradient descent fit a line ``y = a·x + b``.

The package is split in two: ``sgd_viewer.core`` (numpy, torch and the standard
library only) and ``sgd_viewer.gui`` (everything Qt). Importing this package
imports neither torch nor Qt.
"""

__version__ = "0.1.0"
