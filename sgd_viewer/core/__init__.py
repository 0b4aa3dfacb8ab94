"""The Qt-free engine of sgd_viewer: data, the least-squares problem, the trainer.

Must never import PySide6, pyqtgraph or ``sgd_viewer.gui``. Submodules that need
torch (``trainer``) import it themselves; importing this package does not.
"""
