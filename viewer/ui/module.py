"""The feature-module protocol (3D Slicer's modules, in small) and the window's action registry.

A feature module (``viewer.modules.*``) is built by the composition root with what it needs as
typed arguments and handed to ``MainWindow.add_module``, which registers its window-wide actions
(so the shortcut list and its no-conflict test see them), inserts its menu before Help, and calls
its ``shutdown`` when the window closes. Modules find the window's menus by ``objectName``
(:data:`MENU_FILE`, ...), never by their translatable text.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

MENU_FILE = "menu-file"
MENU_VIEW = "menu-view"
MENU_HELP = "menu-help"


@runtime_checkable
class Module(Protocol):
    """What ``MainWindow.add_module`` needs of a feature module."""

    name: str
    title: str   # shown in the module bar ("AI", "Workspace tools", ...)

    def actions(self) -> Sequence[QAction]:
        """Window-wide actions with shortcuts (registered once; listed in Help > Shortcuts)."""
        ...

    def menu(self) -> QMenu | None:
        """The module's own menu (inserted before Help), or None."""
        ...

    def shutdown(self) -> None:
        """Stop the module's jobs and save what must not be lost (called on close)."""
        ...


class ActionRegistry:
    """Ordered, duplicate-free list of the actions modules registered (some come and go, such as
    the quiz keys while a quiz runs)."""

    def __init__(self) -> None:
        self._actions: list[QAction] = []

    def add(self, actions: Sequence[QAction]) -> None:
        for act in actions:
            if all(act is not a for a in self._actions):
                self._actions.append(act)

    def remove(self, actions: Sequence[QAction]) -> None:
        self._actions = [a for a in self._actions if all(a is not b for b in actions)]

    def __iter__(self):
        return iter(list(self._actions))

    def __len__(self) -> int:
        return len(self._actions)
