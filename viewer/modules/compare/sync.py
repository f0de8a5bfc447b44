"""CompareSync: keeps the compare viewports together (Qt objects, no widgets of its own).

Scrolling one viewport moves the others: to the same patient position (nearest slice along the
target's normal, :func:`~viewer.modules.compare.geometry.matching_slice`) when both series share a
FrameOfReferenceUID, else to the same slice index plus the reader's offset for that pair of
series, remembered in the settings (``compare/offsets/<uid a>|<uid b>``, with ``k_b = k_a +
offset``, uids sorted). Window, zoom and pan follow when ``link_view`` is on. Reference lines are
redrawn after every slice change when ``reference_lines`` is on.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QSettings

from viewer.modules.compare.geometry import index_slice, matching_slice, reference_line, slice_centre
from viewer.modules.compare.viewports import CompareViewport

OFFSET_KEY = "compare/offsets"


def same_frame(a: CompareViewport, b: CompareViewport) -> bool:
    """Whether two viewports' series share a (non-empty) frame of reference."""
    fa = a.series.frame_of_reference_uid if a.series else ""
    fb = b.series.frame_of_reference_uid if b.series else ""
    return bool(fa) and fa == fb


class CompareSync(QObject):
    """Links a list of viewports (see module docstring); ``settings`` keeps the offsets."""

    def __init__(self, viewports: list[CompareViewport], settings: QSettings,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewports = viewports
        self.settings = settings
        self.count = 2
        self.linked = True
        self.link_view = True
        self.reference_lines = True
        self._busy = False
        for vp in viewports:
            st = vp.state
            st.slice_changed.connect(lambda _k, vp=vp: self._on_slice_changed(vp))
            st.window_changed.connect(lambda c, w, vp=vp: self._on_window_changed(vp, c, w))
            vp.view.view_changed.connect(lambda vp=vp: self._on_view_changed(vp))
            st.volume_opened.connect(lambda _v: self.refresh_lines())

    def visible(self) -> list[CompareViewport]:
        return [vp for vp in self.viewports[:self.count] if vp.state.volume is not None]

    # -- offsets ---------------------------------------------------------------------------
    @staticmethod
    def _pair(a: CompareViewport, b: CompareViewport) -> tuple[str, int]:
        ua, ub = a.series.uid, b.series.uid  # type: ignore[union-attr]
        return (f"{ua}|{ub}", 1) if ua <= ub else (f"{ub}|{ua}", -1)

    def offset(self, a: CompareViewport, b: CompareViewport) -> int:
        """Slices to add to ``a``'s index to get ``b``'s (0 until the reader sets one)."""
        if a.series is None or b.series is None:
            return 0
        key, sign = self._pair(a, b)
        return sign * int(self.settings.value(f"{OFFSET_KEY}/{key}", 0))

    def set_offset(self, a: CompareViewport, b: CompareViewport, value: int) -> None:
        if a.series is None or b.series is None:
            return
        key, sign = self._pair(a, b)
        self.settings.setValue(f"{OFFSET_KEY}/{key}", int(sign * value))
        self.settings.sync()

    def nudge(self, active: CompareViewport, delta: int) -> None:
        """Move ``active`` alone by ``delta`` slices and remember the new offset to each viewport
        that has no shared frame of reference with it (Alt+Up / Alt+Down)."""
        self._busy = True
        try:
            active.state.step_slice(delta)
        finally:
            self._busy = False
        for vp in self.visible():
            if vp is not active and not same_frame(active, vp):
                self.set_offset(vp, active, active.state.slice_index - vp.state.slice_index)
        self.update_captions()
        self.refresh_lines()

    def reset_offsets(self, active: CompareViewport) -> None:
        for vp in self.visible():
            if vp is not active:
                self.set_offset(vp, active, 0)
        self.follow(active)

    # -- following -------------------------------------------------------------------------
    def follow(self, source: CompareViewport) -> None:
        """Move every other viewport to ``source``'s position."""
        src = source.state
        if src.volume is None:
            return
        self._busy = True
        try:
            for vp in self.visible():
                if vp is source:
                    continue
                if same_frame(source, vp):
                    match = matching_slice(vp.state.volume, slice_centre(src.volume,
                                                                         src.slice_index))
                    vp.state.set_slice(match.k)
                else:
                    vp.state.set_slice(index_slice(src.slice_index, vp.state.volume,
                                                   self.offset(source, vp)))
        finally:
            self._busy = False
        self.update_captions()
        self.refresh_lines()

    def _on_slice_changed(self, vp: CompareViewport) -> None:
        if self._busy:
            return
        if self.linked:
            self.follow(vp)
        else:
            self.refresh_lines()

    def _on_window_changed(self, vp: CompareViewport, centre: float, width: float) -> None:
        if self._busy or not self.link_view or vp.state.volume is None:
            return
        self._busy = True
        try:
            for other in self.visible():
                if other is not vp and other.state.volume.modality == vp.state.volume.modality:
                    other.state.set_window(centre, width)
        finally:
            self._busy = False

    def _on_view_changed(self, vp: CompareViewport) -> None:
        if self._busy or not self.link_view:
            return
        self._busy = True
        try:
            rect = vp.view.view_box.viewRect()
            for other in self.visible():
                if other is not vp:
                    other.view.view_box.setRange(rect=rect, padding=0)
                    other.view.view.fitted = vp.view.view.fitted
        finally:
            self._busy = False

    # -- captions and reference lines ------------------------------------------------------
    def update_captions(self) -> None:
        """Top-right line of each viewport: how it follows the first one."""
        shown = self.visible()
        if not shown:
            return
        first = shown[0]
        for vp in shown[1:]:
            if same_frame(first, vp):
                text = "same frame of reference"
                match = matching_slice(vp.state.volume, slice_centre(
                    first.state.volume, first.state.slice_index))
                if not match.inside:
                    text += " · outside this stack"
            else:
                text = f"offset {self.offset(first, vp):+d} slices"
            vp.view.set_caption(text)
        first.view.set_caption("")

    def refresh_lines(self) -> None:
        """Redraw every viewport's reference lines (hidden when off, across frames of reference
        or for parallel planes)."""
        shown = self.visible()
        for vp in self.viewports:
            for other in self.viewports:
                if other is vp:
                    continue
                seg = None
                if (self.reference_lines and vp in shown and other in shown
                        and same_frame(vp, other)):
                    seg = reference_line(vp.state.volume, vp.state.slice_index,
                                         other.state.volume, other.state.slice_index)
                if seg is not None or other.index in vp.lines:
                    vp.set_reference_line(other.index, seg)
