"""Numpy-only logic shared by the viewer's layers and modules: reformatting, measurements, the one
overlay rule (heat map + style -> colours and alpha), the map cache, exports, session files and
the sample study. Imports neither Qt nor torch (checked by import-linter)."""
