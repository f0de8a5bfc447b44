"""The Compare feature module: series side by side, synchronised; reference lines; hanging
protocols.

It puts the window's central widget (the workspace's layouts) in a stack with the compare grid
(:class:`~viewer.modules.compare.viewports.CompareGrid`) and switches between them (Shift+C).
Each viewport has its own ViewerState and SliceView; :class:`~viewer.modules.compare.sync.
CompareSync` keeps them together. When a study opens, the first matching hanging protocol
(:mod:`viewer.modules.compare.protocols`) picks the layout and the series; Shift+H cycles through
the others. Every action has a key (listed in Help > Keyboard Shortcuts).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStackedWidget

from viewer.io.records import DiscoveryResult, SeriesInfo, Volume
from viewer.modules.compare import protocols as hp
from viewer.modules.compare.sync import CompareSync
from viewer.modules.compare.viewports import CompareGrid, CompareViewport


class CompareModule(QObject):
    """Compare view, reference lines and hanging protocols of one MainWindow (a feature
    module, :class:`viewer.ui.module.Module`). ``workspace``: the Workspace whose layouts the
    protocols set (None: protocols only pick the series)."""

    name = "compare"
    title = "Compare"

    def __init__(self, window, workspace=None) -> None:
        super().__init__(window)
        self.window, self.state, self.workspace = window, window.state, workspace
        self.grid = CompareGrid()
        self.viewports: list[CompareViewport] = self.grid.viewports
        self.sync = CompareSync(self.viewports, window.settings.q, self)
        self.sync.count = self.grid.count
        self.active = 0
        self.stack = QStackedWidget()
        self.main_view = window.takeCentralWidget()
        self.stack.addWidget(self.main_view)
        self.stack.addWidget(self.grid)
        self.stack.setFocusProxy(self.main_view)
        window.setCentralWidget(self.stack)
        self.rules_folder = Path(window.settings.q.fileName()).parent
        self.user_rules: list[hp.Protocol] = self._read_rules()
        self.protocols: list[hp.Protocol] = []
        self.protocol_index = -1
        self._pending: hp.Protocol | None = None
        for vp in self.viewports:
            vp.activated.connect(self.set_active)
            vp.series_dropped.connect(self._on_series_dropped)
            vp.state.slice_changed.connect(lambda _k, vp=vp: self._mirror_to_main(vp))
            vp.state.slice_changed.connect(lambda _k, vp=vp: self._show_ai(vp))
            vp.state.volume_opened.connect(lambda _v, vp=vp: self._show_ai(vp))
        self._overlay: tuple = (None, None)   # (map volume of the main series, style)
        self._marks: tuple = ((), (), "")     # the AI sweep's (flagged, muted, why) of the main series
        window.series_browser.setDragEnabled(True)
        self.state.series_found.connect(self._on_state_series_found)
        self.state.slice_changed.connect(self._follow_main)
        self.state.volume_opened.connect(self._on_state_volume_opened)
        self.state.volume_loaded.connect(self._on_state_volume_loaded)
        self._make_actions()
        self._make_menu()

    # -- actions and menu ------------------------------------------------------------------
    def _act(self, text: str, key: str, slot, checkable: bool = False,
             checked: bool = False) -> QAction:
        act = QAction(text, self.window)
        act.setShortcut(QKeySequence(key))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.setCheckable(checkable)
        act.setChecked(checked)
        (act.toggled if checkable else act.triggered).connect(slot)
        return act

    def _make_actions(self) -> None:
        s = self.sync
        self.act_compare = self._act("&Compare series side by side", "Shift+C",
                                     self.set_compare, True)
        self.act_count = self._act("Compare: 2 / 3 / 4 &viewports", "Shift+V",
                                   lambda: self.set_count(self.grid.count % 4 + 1 or 2))
        self.act_next = self._act("Compare: next viewport", "Alt+Right",
                                  lambda: self.set_active((self.active + 1) % self.grid.count))
        self.act_link = self._act("Compare: &link scrolling", "Shift+L", self.set_linked,
                                  True, s.linked)
        self.act_link_view = self._act("Compare: link window, zoom and pan", "Ctrl+Shift+L",
                                       lambda on: setattr(s, "link_view", bool(on)), True,
                                       s.link_view)
        self.act_offset_up = self._act("Compare: offset −1 slice (active viewport)", "Alt+Up",
                                       lambda: s.nudge(self.active_viewport(), -1))
        self.act_offset_down = self._act("Compare: offset +1 slice (active viewport)",
                                         "Alt+Down", lambda: s.nudge(self.active_viewport(), 1))
        self.act_offset_reset = self._act("Compare: reset slice offsets", "Alt+0",
                                          lambda: s.reset_offsets(self.active_viewport()))
        self.act_lines = self._act("&Reference lines", "Shift+R", self.set_reference_lines,
                                   True, s.reference_lines)
        self.act_prior = self._act("Compare with &prior study", "Shift+P",
                                   self.compare_with_prior)
        self.act_protocol = self._act("Next &hanging protocol", "Shift+H", self.next_protocol)
        self.act_rules = self._act("&Edit hanging protocols…", "Ctrl+Shift+H", self.edit_rules)
        self.action_list = [self.act_compare, self.act_count, self.act_next, self.act_link,
                            self.act_link_view, self.act_offset_up, self.act_offset_down,
                            self.act_offset_reset, self.act_lines, self.act_prior,
                            self.act_protocol, self.act_rules]

    def _make_menu(self) -> None:
        self.compare_menu = QMenu("&Compare", self.window)
        self.compare_menu.setObjectName("menu-compare")
        self.compare_menu.addActions(self.action_list[:10])
        self.series_menu = self.compare_menu.addMenu("&Series in active viewport")
        self.series_menu.aboutToShow.connect(self._fill_series_menu)
        self.compare_menu.addSeparator()
        self.compare_menu.addActions(self.action_list[10:])

    def _fill_series_menu(self) -> None:
        self.series_menu.clear()
        for info in self.all_series():
            act = self.series_menu.addAction(f"{info.series_number or ''} {info.description}"
                                             f" ({info.study_date or 'no date'})".strip())
            act.triggered.connect(lambda _=False, i=info: self.show_series(self.active, i))

    # -- module protocol -------------------------------------------------------------------
    def actions(self) -> list[QAction]:
        return list(self.action_list)

    def menu(self) -> QMenu | None:
        return self.compare_menu

    def shutdown(self) -> None:
        for vp in self.viewports:
            self.window.runner.cancel(f"compare-{vp.index}")

    # -- compare view ----------------------------------------------------------------------
    def all_series(self) -> list[SeriesInfo]:
        d: DiscoveryResult | None = self.state.discovery
        return list(d.series) if d is not None else []

    def is_comparing(self) -> bool:
        return self.stack.currentWidget() is self.grid

    def set_compare(self, on: bool) -> None:
        """Show the compare grid (the current series in the first viewport) or the layouts."""
        self.act_compare.blockSignals(True)
        self.act_compare.setChecked(bool(on))
        self.act_compare.blockSignals(False)
        if on:
            first = self.viewports[0]
            if first.series is None and self.state.series is not None:
                if self.state.volume is not None and not self.state.is_loading:
                    self._open(first, self.state.series, self.state.volume)
                else:
                    self.show_series(0, self.state.series)
            self.stack.setCurrentWidget(self.grid)
            self.set_active(self.active)
        else:
            self.stack.setCurrentWidget(self.main_view)
            self.stack.setFocusProxy(self.main_view)

    def set_count(self, n: int) -> None:
        self.grid.set_count(n)
        self.sync.count = self.grid.count
        self.set_active(min(self.active, self.grid.count - 1))
        self.sync.update_captions()
        self.sync.refresh_lines()

    def active_viewport(self) -> CompareViewport:
        return self.viewports[self.active]

    def set_active(self, index: int) -> None:
        self.active = int(index)
        for vp in self.viewports:
            vp.set_active(vp.index == self.active)
        vp = self.active_viewport()
        if self.is_comparing():
            self.stack.setFocusProxy(vp.view)
            vp.view.setFocus(Qt.FocusReason.OtherFocusReason)
        self._mirror_to_main(vp)

    def set_overlay_volume(self, heat, style=None, *, visible: bool = True) -> None:
        """Show a map volume of the main series (float32 ``(z, y, x)``, each slice normalised to
        0..1, NaN where unknown; the AI's maps of the slices explained so far) in every viewport
        that shows the main series, at that viewport's own slice; None hides it."""
        self._overlay = (heat if visible else None, style)
        for vp in self.viewports:
            self._show_ai(vp)

    def set_slice_marks(self, flagged, muted, reason: str = "") -> None:
        """The AI sweep's flagged and out-of-domain slices of the main series on the slider of
        every viewport that shows it (found under X: only the hidden main view had them)."""
        self._marks = (tuple(flagged), tuple(muted), reason)
        for vp in self.viewports:
            self._show_ai(vp)

    def _shows_main(self, vp: CompareViewport) -> bool:
        """Whether viewport ``vp`` shows the main state's series."""
        main, own = self.state.volume, vp.state.volume
        return main is not None and own is not None and own.series_uid == main.series_uid

    def _show_ai(self, vp: CompareViewport) -> None:
        """The AI's map (at the viewport's slice) and sweep marks on ``vp`` when it shows the
        main series; cleared otherwise."""
        heat, style = self._overlay
        same = self._shows_main(vp)
        flagged, muted, reason = self._marks if same else ((), (), "")
        vp.view.slider.set_marks(flagged)
        vp.view.slider.set_muted(muted, reason)
        if heat is None or style is None or not same or heat.shape[:3] != vp.state.volume.shape:
            vp.view.overlay_layer.clear()
            return
        vp.view.overlay_layer.show(heat[vp.state.slice_index], style, normalised=True)

    def _mirror_to_main(self, vp: CompareViewport) -> None:
        """The window's tools (AI, measurements, exports) act on the main state: while comparing,
        the active viewport's slice is the main state's slice when both show the same series, so
        "Run on this slice" classifies the slice the reader is looking at."""
        if self.is_comparing() and vp.index == self.active and self._shows_main(vp):
            self.state.set_slice(vp.state.slice_index)

    def _follow_main(self, k: int) -> None:
        """The other direction: a tool that moves the main state's slice (N / Shift+N to a
        flagged slice, a click on the AI profile, a measurement in the table) moves the active
        viewport when it shows the main series (found under X: the AI panel went to slice 8 while
        the viewport stayed on 17)."""
        vp = self.active_viewport()
        if self.is_comparing() and self._shows_main(vp):
            vp.state.set_slice(k)

    def set_linked(self, on: bool) -> None:
        self.sync.linked = bool(on)
        if on:
            self.sync.follow(self.active_viewport())

    def set_reference_lines(self, on: bool) -> None:
        self.sync.reference_lines = bool(on)
        self.sync.refresh_lines()

    def show_series(self, index: int, info: SeriesInfo) -> int:
        """Load ``info`` into viewport ``index`` in the background; returns the job id."""
        from viewer.io import load_series

        vp = self.viewports[index]
        return self.window.runner.submit(
            f"compare-{index}", lambda ctx: load_series(info, cancelled=ctx.cancelled),
            label=f"Loading {info.description or 'series'} for comparison",
            on_result=lambda vol: self._open(vp, info, vol))

    def _open(self, vp: CompareViewport, info: SeriesInfo, volume: Volume) -> None:
        vp.series = info
        vp.state.open_volume(volume)
        others = [v for v in self.sync.visible() if v is not vp]
        if others:
            self.sync.follow(others[0])
        self.sync.update_captions()
        self.sync.refresh_lines()

    def _on_series_dropped(self, index: int, uid: str) -> None:
        info = next((s for s in self.all_series() if s.uid == uid), None)
        if info is not None:
            self.show_series(index, info)

    def compare_with_prior(self) -> bool:
        """Current series next to the most similar series of the patient's latest earlier
        study in the opened folders; False (and a message) when there is none."""
        current = self.viewports[0].series or self.state.series
        if current is None:
            return False
        found = hp.priors(current, self.all_series())
        if not found:
            self.window.statusBar().showMessage(
                "No earlier study of this patient in the opened folders", 5000)
            return False
        self.set_compare(True)
        if self.viewports[0].series is None or self.viewports[0].series.uid != current.uid:
            self.show_series(0, current)
        self.show_series(1, found[0])
        return True

    # -- hanging protocols -----------------------------------------------------------------
    def _read_rules(self) -> list[hp.Protocol]:
        try:
            return hp.load_rules(self.rules_folder)
        except (ValueError, OSError) as exc:  # a broken file must not stop the window
            self.window.statusBar().showMessage(f"Hanging protocols not read: {exc}", 8000)
            return []

    def current_study(self) -> list[SeriesInfo]:
        cur = self.state.series
        series = self.all_series()
        if cur is None:
            return series
        return [s for s in series if s.study_instance_uid == cur.study_instance_uid]

    def _on_state_series_found(self, result: DiscoveryResult) -> None:
        for vp in self.viewports:
            vp.series = None
            vp.state.close_volume()
        first = result.series[0] if result.series else None
        study = [s for s in result.series
                 if first is not None and s.study_instance_uid == first.study_instance_uid]
        self.protocols = hp.matching(study, self.user_rules)
        self.protocol_index = -1
        if self.protocols:
            self.apply_protocol(0, study)

    def next_protocol(self) -> hp.Protocol | None:
        """Apply the next protocol matching the current study (Shift+H)."""
        if not self.protocols:
            self.protocols = hp.matching(self.current_study(), self.user_rules)
        if not self.protocols:
            return None
        return self.apply_protocol((self.protocol_index + 1) % len(self.protocols))

    def apply_protocol(self, index: int, study: list[SeriesInfo] | None = None) -> hp.Protocol:
        """Hang the study by protocol ``index`` of the matching ones."""
        self.protocol_index = index
        proto = self.protocols[index]
        study = study if study is not None else self.current_study()
        picks = proto.assign(study)
        self.window.statusBar().showMessage(f"Hanging protocol: {proto.name}", 5000)
        chosen = [p for p in picks if p is not None] or study[:2]
        if proto.layout == "compare" and len(chosen) < 2:
            # one series to place: nothing to compare, so no empty viewport beside it
            proto = dataclasses.replace(proto, layout="1")
            picks = chosen
        if proto.layout == "compare":
            self.set_count(max(2, len(chosen)))
            for n, info in enumerate(chosen[:4]):
                self.show_series(n, info)
            self.stack.setCurrentWidget(self.grid)
            self.act_compare.setChecked(True)
            self._pending = None
            return proto
        self.set_compare(False)
        main = picks[0] if picks and picks[0] is not None else None
        self._pending = proto
        if main is not None and (self.state.series is None or main.uid != self.state.series.uid):
            self.window.load_series(main)
        elif self.state.volume is not None:
            self._hang_pending(loaded=not self.state.is_loading)
        return proto

    def _hang_pending(self, loaded: bool) -> None:
        proto = self._pending
        if proto is None:
            return
        if self.workspace is not None:
            self.workspace.layouts.set_layout(proto.layout)
        if loaded:
            if proto.window:
                self.window.slice_view.apply_preset_named(proto.window)
            self._pending = None

    def _on_state_volume_opened(self, _volume) -> None:
        self._hang_pending(loaded=False)

    def _on_state_volume_loaded(self, _volume) -> None:
        self._hang_pending(loaded=True)

    def edit_rules(self):
        """The small JSON editor of the user's rules (saved in the settings folder)."""
        from viewer.modules.compare.protocol_dialog import ProtocolDialog

        dialog = ProtocolDialog(self.user_rules, self.window)
        dialog.accepted.connect(lambda: self.set_rules(dialog.rules))
        dialog.open()
        return dialog

    def set_rules(self, rules: list[hp.Protocol]) -> Path:
        self.user_rules = list(rules)
        self.protocols = hp.matching(self.current_study(), self.user_rules)
        return hp.save_rules(self.rules_folder, self.user_rules)
