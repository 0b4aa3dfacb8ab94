"""Bundled data files of sgd_viewer (datasets, icon, desktop entry).

Shipped inside the wheel as ``sgd_viewer.resources``; read them through
``importlib.resources`` only, never through paths relative to the source tree.
"""
