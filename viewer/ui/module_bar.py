"""ModuleBar: a 3D-Slicer-style module selector in a toolbar that switches the module panel.

Each entry names a module ("Data", "AI", "Teaching", "Workspace tools", "PACS", ...) and what
choosing it shows: the module's panel docks (shown and raised, so a dock tabbed with others on
the left comes to the front) or, for a module without a panel, its menu (popped up under the
bar). Entries are chosen in the combo box or with Ctrl+Alt+1, Ctrl+Alt+2, ... in the order
they were added. The box also follows the reader: when a module's panel comes to the front by
another way (its tab clicked, a panel key such as Ctrl+4), the box names that module. Knows
nothing about any particular module (``viewer.ui`` never imports one).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QDockWidget, QLabel, QMenu, QToolBar, QWidget

MAX_KEYED = 9


@dataclass
class ModuleEntry:
    """One module of the bar: ``name`` (key), ``title`` (shown), its panel ``docks`` and
    ``menu`` (popped up when it has no dock), and its key action."""

    name: str
    title: str
    docks: list[QDockWidget] = field(default_factory=list)
    menu: QMenu | None = None
    action: QAction | None = None


class ModuleBar(QToolBar):
    """Toolbar with the module selector (see the module docstring).

    Signal: ``module_selected(str name)`` after a module's panel (or menu) was brought up.
    """

    module_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Modules", parent)
        self.setObjectName("module_toolbar")
        self.entries: dict[str, ModuleEntry] = {}
        self.addWidget(QLabel(" Module: "))
        self.combo = QComboBox()
        self.combo.setAccessibleName("Module")
        self.combo.setToolTip("Switch the module panel (Ctrl+Alt+1, Ctrl+Alt+2, ...)")
        self.combo.setMinimumContentsLength(14)
        self.combo.activated.connect(lambda index: self.select(self.combo.itemData(index)))
        self.addWidget(self.combo)
        self.current = ""

    def add_module(self, name: str, title: str, docks: list[QDockWidget] | None = None,
                   menu: QMenu | None = None) -> ModuleEntry:
        """Add a module entry (or extend one of the same ``name`` with more docks)."""
        entry = self.entries.get(name)
        if entry is not None:
            had_panel = bool(entry.docks)
            entry.docks.extend(d for d in docks or [] if d not in entry.docks)
            entry.menu = entry.menu or menu
            if entry.docks and not had_panel:
                self._follow(entry.docks[0], name)
            return entry
        entry = ModuleEntry(name, title.replace("&", ""), list(docks or []), menu)
        if entry.docks:
            self._follow(entry.docks[0], name)
        number = len(self.entries) + 1
        act = QAction(f"Module: {entry.title}", self)
        if number <= MAX_KEYED:
            act.setShortcut(QKeySequence(f"Ctrl+Alt+{number}"))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda _=False, n=name: self.select(n))
        entry.action = act
        self.entries[name] = entry
        self.combo.addItem(entry.title, name)
        if not self.current:
            self._show_current(name)
        return entry

    def actions_list(self) -> list[QAction]:
        """The key actions of the entries, in order (for the window's shortcut registry)."""
        return [e.action for e in self.entries.values() if e.action is not None]

    def select(self, name: str) -> None:
        """Bring module ``name`` up: show and raise its docks, or pop up its menu."""
        entry = self.entries.get(name)
        if entry is None:
            return
        self._show_current(name)
        if entry.docks:
            for dock in entry.docks:
                dock.show()
                dock.raise_()
            widget = entry.docks[0].widget()
            if widget is not None:
                widget.setFocus(Qt.FocusReason.OtherFocusReason)
        elif entry.menu is not None:
            entry.menu.popup(self.mapToGlobal(QPoint(self.combo.x(), self.height())))
        self.module_selected.emit(name)

    def _follow(self, panel: QDockWidget, name: str) -> None:
        """Name module ``name`` in the box whenever its panel dock comes into view."""
        panel.visibilityChanged.connect(
            lambda visible, n=name: self._show_current(n) if visible else None)

    def _show_current(self, name: str) -> None:
        self.current = name
        index = self.combo.findData(name)
        if index >= 0 and index != self.combo.currentIndex():
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(index)
            self.combo.blockSignals(False)
