"""PACS feature module: query/retrieve browser (File > Query PACS…). The clients themselves are
Qt-free in :mod:`viewer.io.pacs`."""
from __future__ import annotations
