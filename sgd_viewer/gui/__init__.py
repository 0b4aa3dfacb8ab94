"""Everything Qt: the main window, its views, controls and the trainer worker."""
