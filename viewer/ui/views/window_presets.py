"""Window presets of the slice view, in number-key order: 0 = the series' header window, then
(CT) the standard CT presets, then Auto (1-99 % of the loaded voxels, cached once every slice
is in), then further header presets, then the reader's own presets for the modality.

:class:`WindowPresets` is the part of a :class:`~viewer.ui.views.slice_view.SliceView` that
lists, applies and offers them in a menu; the view keeps thin ``presets``, ``apply_preset``,
``apply_preset_named`` and ``preset_menu`` methods and the ``preset_chosen`` signal.
Window values are (centre, width) in the volume's units (HU for CT).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from viewer.io.records import Volume, WindowPreset

if TYPE_CHECKING:
    from viewer.ui.views.slice_view import SliceView


def window_choices(volume: Volume, auto: WindowPreset | None) -> list[WindowPreset]:
    """Window presets in key order: 0 = header/default, then (CT) the standard CT presets,
    then Auto, then any further header presets. At most ten (keys 0-9)."""
    from viewer.io import CT_PRESETS

    out = [volume.window]
    if volume.modality.upper() == "CT":
        out.extend(CT_PRESETS)
    names = {p.name.lower() for p in out}
    if auto is not None and auto.name.lower() not in names:  # no header window: 0 is Auto
        out.append(auto)
        names.add(auto.name.lower())
    for preset in volume.presets:
        if preset.name.lower() not in names:
            out.append(preset)
            names.add(preset.name.lower())
    return out[:10]


class WindowPresets:
    """The presets of ``view``'s current volume (see the module docstring); the reader's own
    come from ``view.user_presets(modality)``, a choice is announced by
    ``view.preset_chosen(modality, name)``."""

    def __init__(self, view: SliceView) -> None:
        self.view, self.state = view, view.state
        self._auto: dict[int, WindowPreset] = {}

    def presets(self) -> list[WindowPreset]:
        """Window presets of the current volume, index = number key."""
        vol = self.state.volume
        if vol is None:
            return []
        return window_choices(vol, self.auto_window(vol)) + list(self.view.user_presets(vol.modality))

    def auto_window(self, vol: Volume) -> WindowPreset | None:
        """The Auto preset of ``vol`` (None for RGB): from the slices loaded so far, cached
        once every slice is in."""
        if vol.is_rgb:
            return None
        key = id(vol.voxels)
        if key not in self._auto:
            from viewer.io import auto_window

            loaded = self.state.loaded
            data = vol.voxels if loaded.all() else vol.voxels[loaded]
            if data.size == 0:
                return WindowPreset("Auto", vol.window.center, vol.window.width)
            preset = auto_window(data)
            if not loaded.all():
                return preset  # not cached until every slice is in
            self._auto = {key: preset}
        return self._auto[key]

    def apply(self, index: int) -> bool:
        """Apply preset number ``index`` (0 = header); False when there is none."""
        presets = self.presets()
        if not 0 <= index < len(presets):
            return False
        self.state.apply_preset(presets[index])
        self.view.preset_chosen.emit(self.state.volume.modality, presets[index].name)
        return True

    def apply_named(self, name: str) -> bool:
        """Apply the preset called ``name`` (case-insensitive); False when there is none."""
        for n, preset in enumerate(self.presets()):
            if preset.name.lower() == name.lower():
                return self.apply(n)
        return False

    def menu(self, parent: QWidget | None = None) -> QMenu:
        """A menu of the current presets with their number keys."""
        menu = QMenu("Window presets", parent or self.view)
        fill_preset_menu(menu, self.view)
        return menu


def fill_preset_menu(menu: QMenu, view: SliceView) -> None:
    """(Re)fill ``menu`` with the view's presets: "1  Brain  W 80 L 40" -> apply on trigger."""
    menu.clear()
    presets = view.presets()
    if not presets:
        menu.addAction("No series loaded").setEnabled(False)
        return
    for n, preset in enumerate(presets):
        act = menu.addAction(f"{preset.name}   W {preset.width:.0f} / L {preset.center:.0f}")
        if n < 10:
            act.setShortcut(QKeySequence(str(n)))
        act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # shown only; view owns keys
        act.triggered.connect(lambda _=False, n=n: view.apply_preset(n))
