"""CommandError: the one exception headless commands raise for a user-facing failure.

Kept apart from :mod:`viewer.cli.main` so commands and the parser import it without a cycle.
"""
from __future__ import annotations


class CommandError(Exception):
    """A user-facing failure of a command (bad arguments, nothing readable, wrong model)."""
