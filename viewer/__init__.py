"""SliceWise viewer: the desktop application and its data layer (viewer.io)."""
from __future__ import annotations

try:
    from importlib.metadata import version as _version

    __version__ = _version("slicewise")
except Exception:  # noqa: BLE001 - running from a source tree without installation
    __version__ = "0.1.0"
