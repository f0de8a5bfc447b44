"""Messages panel: non-modal list of problems (skipped files, load warnings, failed jobs), one
summary line each with the details underneath."""
from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QStyle, QTreeWidget, QTreeWidgetItem, QWidget

from viewer.state.viewer_state import Message

_ICONS = {"error": QStyle.StandardPixmap.SP_MessageBoxCritical,
          "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
          "info": QStyle.StandardPixmap.SP_MessageBoxInformation}


class MessagesPanel(QTreeWidget):
    """Tree of :class:`Message` records: title rows, detail rows beneath (collapsed when long)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setWordWrap(True)
        self.setAccessibleName("Messages")
        self.setUniformRowHeights(False)

    def sizeHint(self) -> QSize:  # noqa: N802 - a short strip under the view
        return QSize(400, 100)

    def set_messages(self, messages: tuple[Message, ...]) -> None:
        self.clear()
        for msg in messages:
            top = QTreeWidgetItem([msg.title])
            top.setIcon(0, self.style().standardIcon(_ICONS.get(msg.level, _ICONS["info"])))
            top.setToolTip(0, "\n".join((msg.title,) + msg.details[:30]))
            for line in msg.details:
                child = QTreeWidgetItem([line])
                child.setToolTip(0, line)
                top.addChild(child)
            self.addTopLevelItem(top)
            top.setExpanded(len(msg.details) <= 5)

    def lines(self) -> list[str]:
        """Every visible text line, titles and details (for tests)."""
        out = []
        for n in range(self.topLevelItemCount()):
            top = self.topLevelItem(n)
            out.append(top.text(0))
            out.extend(top.child(c).text(0) for c in range(top.childCount()))
        return out
