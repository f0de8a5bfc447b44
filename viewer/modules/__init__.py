"""Feature modules, each Qt-free logic + a thin controller + its own widgets (3D Slicer's
Logic / Widget split). A module implements :class:`viewer.ui.module.Module` and is added to the
window by :func:`viewer.app.create_main_window` through ``MainWindow.add_module``."""
