"""CompareView: the linked second slice view ("Occlusion (linked view)" dock) that shows the
occlusion map beside the Grad-CAM map of the main view when the AI method is "both".

Part of :class:`viewer.modules.ai.controller.AiController` (composition-root code). Zoom and pan are
linked both ways by centre and mm per screen pixel, so views of different sizes show the same
anatomy at the same scale.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QWidget

from viewer.state.viewer_state import ViewerState
from viewer.ui.main_window import MainWindow
from viewer.ui.views.slice_view import SliceView


class CompareView:
    """The linked view of ``window`` (a MainWindow) on ``state``, made on first :meth:`show`.

    Attributes: ``view`` (SliceView or None), ``dock`` (its QDockWidget, right area, or None).
    """

    def __init__(self, window: MainWindow, state: ViewerState) -> None:
        self.window = window
        self.state = state
        self.view: SliceView | None = None
        self.dock: QDockWidget | None = None
        self._linking = False

    def show(self, on: bool) -> None:
        """Show (making it the first time) or hide the linked view."""
        if on and self.view is None:
            self._make()
        if self.dock is not None:
            self.dock.setVisible(on)

    def _link(self, src: SliceView, dst: SliceView) -> None:
        """Give ``dst`` the centre and mm-per-screen-pixel of ``src`` (same zoom and pan even
        when the two views differ in size)."""
        if self._linking or dst is None:
            return
        rect, size = src.view_box.viewRect(), src.view_box.size()
        dsize = dst.view_box.size()
        if size.width() <= 0 or dsize.width() <= 0 or dsize.height() <= 0:
            return
        scale = rect.width() / size.width()
        w, h = dsize.width() * scale, dsize.height() * scale
        c = rect.center()
        self._linking = True
        try:
            dst.view_box.setRange(xRange=(c.x() - w / 2, c.x() + w / 2),
                                  yRange=(c.y() - h / 2, c.y() + h / 2), padding=0)
            dst.view.fitted = src.view.fitted
        finally:
            self._linking = False

    def _make(self) -> None:
        """A second SliceView on the same state (slice, window) with zoom and pan linked."""
        main = self.window.slice_view
        view = SliceView(self.state)
        # the slider bar stays, so both image areas have one height: the same slice then lies
        # at the same screen height in both views (hiding it put them 18 px apart)
        for act in view.zoom_actions + view.preset_actions:
            view.removeAction(act)  # the main view owns the window-wide keys
        self._linking = False
        main.view_box.sigRangeChanged.connect(lambda *_: self._link(main, view))
        view.view_box.sigRangeChanged.connect(lambda *_: self._link(view, main))
        vol = self.state.volume
        if vol is not None:
            view._on_state_volume_opened(vol)
            main.fit()
        self.view = view
        dock = QDockWidget("Occlusion (linked view)", self.window)
        dock.setObjectName("compare")
        dock.setWidget(view)
        # no title bar: it pushed the image down by its height; the view's own caption names it
        dock.setTitleBarWidget(QWidget())
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.window.resizeDocks([dock], [max(300, main.width() // 2)], Qt.Orientation.Horizontal)
        self.dock = dock
        self._link(main, view)
