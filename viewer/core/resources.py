"""Locates files shipped in the ``resources`` package (icons, desktop entry, model manifests)."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Filesystem path of a shipped resource, e.g. ``resource_path("icons", "slicewise.svg")``."""
    base = Path(str(resources.files("resources")))
    return base.joinpath(*parts)
