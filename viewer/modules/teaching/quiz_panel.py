"""Reader-mode panel of a teaching quiz: the question, answer options on keys 1-9, confidence,
Record answer, Reveal AI (locked until an answer is recorded), the AI result with its map choice,
helpfulness rating, revision, truth and teaching notes, and case navigation.

A passive view: it shows what it is given (plain data, no torch: the AI result as an
:class:`~viewer.modules.teaching.ai_view.AiView`) and emits what the reader asks for; the
teaching controller decides. Every button has a key (see
:data:`~viewer.modules.teaching.quiz_keys.KEYS`), handled by window-wide actions plus a key
filter (:mod:`viewer.modules.teaching.quiz_keys`), so the quiz works without a mouse.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from viewer.modules.teaching.ai_view import AiView, percent
from viewer.modules.teaching.quiz_keys import HELP_KEYS, KEYS
from viewer.modules.teaching.session import HELPFULNESS, Phase

CONFIDENCE_WORDS = {1: "guess", 2: "unsure", 3: "fairly sure", 4: "sure", 5: "certain"}
METHOD_NAMES = {"gradcam": "Grad-CAM", "occlusion": "Occlusion"}


def _label(text: str = "", size: float | None = None, bold: bool = False,
           wrap: bool = True) -> QLabel:
    lab = QLabel(text)
    lab.setWordWrap(wrap)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    if size or bold:
        f = lab.font()
        if size:
            f.setPointSizeF(size)
        f.setBold(bold)
        lab.setFont(f)
    return lab


class QuizPanel(QWidget):
    """See the module docstring. Signals carry the reader's requests:
    ``option_chosen(int)`` (0-based), ``confidence_changed(int)`` (1-5), ``record_requested()``,
    ``reveal_requested()``, ``helpfulness_chosen(str)``, ``map_chosen(str)``,
    ``next_requested()``, ``previous_requested()``, ``end_requested()``."""

    option_chosen = Signal(int)
    confidence_changed = Signal(int)
    record_requested = Signal()
    reveal_requested = Signal()
    helpfulness_chosen = Signal(str)
    map_chosen = Signal(str)
    next_requested = Signal()
    previous_requested = Signal()
    end_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(320)
        # the case scrolls; navigation and the end button stay in view below it (a revealed
        # answer once pushed them out of sight)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        self.scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll, 1)
        footer = QVBoxLayout()
        footer.setContentsMargins(9, 4, 9, 9)
        outer.addLayout(footer)
        lay = QVBoxLayout(body)
        lay.setSpacing(8)
        self.case_label = _label("", 15, True)
        self.title_label = _label("")
        self.title_label.setStyleSheet("color: palette(mid);")
        self.question_label = _label("", 12.5)
        lay.addWidget(self.case_label)
        lay.addWidget(self.title_label)
        lay.addWidget(self.question_label)
        lay.addWidget(_label("Your answer (keys 1–9):", bold=True))
        self.options_box = QVBoxLayout()
        lay.addLayout(self.options_box)
        self.option_group = QButtonGroup(self)
        self.option_group.setExclusive(True)
        self.option_buttons: list[QRadioButton] = []
        conf = QHBoxLayout()
        conf.addWidget(_label("Confidence (, .):", wrap=False))
        self.confidence = QSlider(Qt.Orientation.Horizontal)
        self.confidence.setRange(1, 5)
        self.confidence.setValue(3)
        self.confidence.setPageStep(1)
        self.confidence.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.confidence.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.confidence_label = _label("", wrap=False)
        self.confidence_label.setMinimumWidth(90)
        conf.addWidget(self.confidence, 1)
        conf.addWidget(self.confidence_label)
        lay.addLayout(conf)
        self.record_button = self._button("Record answer  (Enter)", self.record_requested)
        self.reveal_button = self._button("Reveal AI  (Space)", self.reveal_requested)
        lay.addWidget(self.record_button)
        lay.addWidget(self.reveal_button)
        self.hint_label = _label("")
        self.hint_label.setStyleSheet("color: palette(mid);")
        lay.addWidget(self.hint_label)
        lay.addWidget(self._build_ai_box())
        self.truth_box = QFrame()
        self.truth_box.setFrameShape(QFrame.Shape.StyledPanel)
        tlay = QVBoxLayout(self.truth_box)
        self.truth_label = _label("", 12.5, True)
        self.notes_label = _label("")
        tlay.addWidget(self.truth_label)
        tlay.addWidget(self.notes_label)
        self.truth_box.hide()
        lay.addWidget(self.truth_box)
        lay.addStretch(1)
        nav = QHBoxLayout()
        self.prev_button = self._button("◀ Previous  (Ctrl+←)", self.previous_requested)
        self.next_button = self._button("Next  (Ctrl+→) ▶", self.next_requested)
        nav.addWidget(self.prev_button)
        nav.addWidget(self.next_button)
        footer.addLayout(nav)
        self.progress_label = _label("")
        footer.addWidget(self.progress_label)
        self.end_button = self._button("End session and write report", self.end_requested)
        footer.addWidget(self.end_button)
        self.confidence.valueChanged.connect(self._on_confidence_value_changed)
        self._on_confidence_value_changed(3)
        self._phase = Phase.UNANSWERED
        self._maps: tuple[str, ...] = ()
        self._map = ""
        self._build_actions()

    # -- construction ------------------------------------------------------------------------
    def _button(self, text: str, signal) -> QPushButton:
        b = QPushButton(text)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the view and the actions
        b.clicked.connect(signal.emit)
        return b

    def _build_ai_box(self) -> QFrame:
        self.ai_box = box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(box)
        self.ai_title = _label("", 12.5, True)
        self.ai_badge = _label("")
        self.ai_badge.setStyleSheet("background:#fff3cd; color:#5c4400; padding:3px;")
        self.ai_bars = QGridLayout()
        self.bar_widgets: list[QWidget] = []
        lay.addWidget(self.ai_title)
        lay.addWidget(self.ai_badge)
        lay.addLayout(self.ai_bars)
        maps = QHBoxLayout()
        self.map_buttons: dict[str, QPushButton] = {}
        for method, name in METHOD_NAMES.items():
            b = QPushButton(name)
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, m=method: self.map_chosen.emit(m))
            maps.addWidget(b)
            self.map_buttons[method] = b
        self.map_hint = _label("(M switches)", wrap=False)
        maps.addWidget(self.map_hint)
        lay.addLayout(maps)
        self.pointing_label = _label("")
        lay.addWidget(self.pointing_label)
        lay.addWidget(_label("Was the heat map helpful?", bold=True))
        helpful = QHBoxLayout()
        self.help_buttons: dict[str, QPushButton] = {}
        for level in HELPFULNESS:
            b = QPushButton(f"{level.capitalize()}  ({HELP_KEYS[level]})")
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, lv=level: self.helpfulness_chosen.emit(lv))
            helpful.addWidget(b)
            self.help_buttons[level] = b
        lay.addLayout(helpful)
        self.revise_label = _label("To revise your answer, pick another option and press Enter. "
                                   "Enter with the same answer finishes the case.")
        self.revise_label.setStyleSheet("color: palette(mid);")
        lay.addWidget(self.revise_label)
        box.hide()
        return box

    def _build_actions(self) -> None:
        def act(name: str, keys: list[str], slot) -> QAction:
            a = QAction(name, self)
            a.setShortcuts([QKeySequence(k) for k in keys])
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.answer_actions = [act(f"Quiz: answer option {n + 1}", [str(n + 1)],
                                   lambda _=False, n=n: self._choose(n)) for n in range(9)]
        self.act_record = act("Quiz: record answer / finish case", KEYS["record"],
                              self.record_requested.emit)
        self.act_reveal = act("Quiz: reveal AI", KEYS["reveal"], self.reveal_requested.emit)
        self.act_conf_down = act("Quiz: less confident", KEYS["confidence_down"],
                                 lambda: self.confidence.setValue(self.confidence.value() - 1))
        self.act_conf_up = act("Quiz: more confident", KEYS["confidence_up"],
                               lambda: self.confidence.setValue(self.confidence.value() + 1))
        self.act_next = act("Quiz: next case", KEYS["next"], self.next_requested.emit)
        self.act_prev = act("Quiz: previous case", KEYS["previous"], self.previous_requested.emit)
        self.act_map = act("Quiz: switch heat map", KEYS["map"], self._cycle_map)
        self.help_actions = {lv: act(f"Quiz: heat map helpful: {lv}", [HELP_KEYS[lv]],
                                     lambda _=False, lv=lv: self._rate(lv)) for lv in HELPFULNESS}
        self.quiz_actions = (self.answer_actions + [self.act_record, self.act_reveal,
                             self.act_conf_down, self.act_conf_up, self.act_next, self.act_prev,
                             self.act_map] + list(self.help_actions.values()))

    # -- key handling when the shortcut system does not deliver (inactive window, tests) -------
    def handle_key(self, key: int, modifiers) -> bool:
        """Trigger the enabled quiz action bound to ``key`` + ``modifiers``; True when one fired."""
        mods = modifiers & ~Qt.KeyboardModifier.KeypadModifier
        for a in self.quiz_actions:
            if not a.isEnabled():
                continue
            for seq in a.shortcuts():
                if seq.count() == 1 and seq[0].key() == key and seq[0].keyboardModifiers() == mods:
                    a.trigger()
                    return True
        return False

    # -- display ---------------------------------------------------------------------------
    def set_case(self, number: int, total: int, title: str, question: str,
                 options: tuple[str, ...] | list[str]) -> None:
        """Show case ``number`` (1-based) of ``total``: question and options; AI and truth hidden."""
        self.case_label.setText(f"Case {number} of {total}")
        self.title_label.setText(title)
        self.question_label.setText(question)
        for b in self.option_buttons:
            self.option_group.removeButton(b)
            b.deleteLater()
        self.option_buttons = []
        for n, text in enumerate(options):
            b = QRadioButton(f"{n + 1}   {text}")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            f = b.font()
            f.setPointSizeF(f.pointSizeF() * 1.15)
            b.setFont(f)
            b.clicked.connect(lambda _=False, n=n: self.option_chosen.emit(n))
            self.option_group.addButton(b, n)
            self.options_box.addWidget(b)
            self.option_buttons.append(b)
        for n, a in enumerate(self.answer_actions):
            a.setEnabled(n < len(options))
        self.prev_button.setEnabled(number > 1)
        self.next_button.setEnabled(number < total)
        self.hide_ai()
        self.truth_box.hide()

    def _choose(self, n: int) -> None:
        if n < len(self.option_buttons) and self.option_buttons[n].isEnabled():
            self.option_chosen.emit(n)

    def set_selection(self, n: int) -> None:
        """Tick option ``n`` (0-based; -1 clears)."""
        if 0 <= n < len(self.option_buttons):
            self.option_buttons[n].setChecked(True)
        else:
            self.option_group.setExclusive(False)
            for b in self.option_buttons:
                b.setChecked(False)
            self.option_group.setExclusive(True)

    def selection(self) -> int:
        return self.option_group.checkedId()

    def set_confidence(self, value: int) -> None:
        self.confidence.setValue(int(value))

    def _on_confidence_value_changed(self, value: int) -> None:
        self.confidence_label.setText(f"{value} – {CONFIDENCE_WORDS[value]}")
        self.confidence_changed.emit(value)

    def set_phase(self, phase: Phase, selection_differs: bool = False) -> None:
        """Enable what ``phase`` allows and say what comes next."""
        self._phase = phase
        closed = phase == Phase.CLOSED
        revealed = phase in (Phase.REVEALED, Phase.CLOSED)
        for b in self.option_buttons:
            b.setEnabled(not closed)
        for n, a in enumerate(self.answer_actions):
            a.setEnabled(not closed and n < len(self.option_buttons))
        self.confidence.setEnabled(not closed)
        self.act_conf_down.setEnabled(not closed)
        self.act_conf_up.setEnabled(not closed)
        self.record_button.setEnabled(not closed and (phase != Phase.UNANSWERED or
                                                      self.selection() >= 0))
        self.act_record.setEnabled(not closed)
        if phase == Phase.REVEALED:
            self.record_button.setText("Record revised answer  (Enter)" if selection_differs
                                       else "Finish case  (Enter)")
        else:
            self.record_button.setText("Record answer  (Enter)")
        self.reveal_button.setEnabled(phase == Phase.ANSWERED)
        self.act_reveal.setEnabled(phase == Phase.ANSWERED)
        for lv, a in self.help_actions.items():
            a.setEnabled(phase == Phase.REVEALED)
            self.help_buttons[lv].setEnabled(phase == Phase.REVEALED)
        self.act_map.setEnabled(revealed and len(self._maps) > 1)
        self.revise_label.setVisible(phase == Phase.REVEALED)
        hints = {Phase.UNANSWERED: "Choose an answer (1–9), set your confidence, press Enter. "
                                   "The AI result stays hidden until you have answered.",
                 Phase.ANSWERED: "Answer recorded. Press Space to see the AI result and heat "
                                 "map (you may still change your answer first).",
                 Phase.REVEALED: "Rate the heat map (Z / X / C), revise if you wish, then "
                                 "Enter to finish or Ctrl+→ for the next case.",
                 Phase.CLOSED: "Case finished."}
        self.hint_label.setText(hints[phase])

    def hide_ai(self) -> None:
        """Hide every trace of the AI result."""
        self.ai_box.hide()
        self.ai_title.clear()
        self._clear_bars()
        self._maps, self._map = (), ""

    def show_ai(self, view: AiView, current_map: str = "") -> None:
        """Show the AI result (called only once the reader has answered)."""
        self._clear_bars()
        if view.pending:
            self.ai_title.setText("AI result: still computing…")
        elif view.error:
            self.ai_title.setText(f"No AI result: {view.error}")
        elif view.notice:
            self.ai_title.setText(f"AI ({view.model}): no answer for this image. {view.notice}")
        else:
            p = view.probabilities.get(view.predicted, 0.0)
            self.ai_title.setText(f"AI ({view.model}): {view.predicted}  {percent(p)}")
            for row, (cls, prob) in enumerate(sorted(view.probabilities.items(),
                                                     key=lambda kv: -kv[1])):
                name = _label(cls, wrap=False)
                bar = QProgressBar()
                bar.setRange(0, 1000)
                bar.setValue(int(round(prob * 1000)))
                bar.setFormat(percent(prob))
                bar.setMaximumHeight(18)
                self.ai_bars.addWidget(name, row, 0)
                self.ai_bars.addWidget(bar, row, 1)
                self.bar_widgets += [name, bar]
        self.ai_badge.setText(view.demo_statement)
        self.ai_badge.setVisible(bool(view.demo_statement))
        self._maps = tuple(view.methods)
        for m, b in self.map_buttons.items():
            b.setVisible(m in self._maps)
        self.map_hint.setVisible(len(self._maps) > 1)
        self.set_current_map(current_map or (self._maps[0] if self._maps else ""))
        lines = [f"{METHOD_NAMES.get(m, m)} map: "
                 + "; ".join(t for t in (view.pointing.get(m), view.strength.get(m)) if t)
                 for m in view.methods if view.pointing.get(m) or view.strength.get(m)]
        self.pointing_label.setText("\n".join(lines))
        self.pointing_label.setVisible(bool(lines))
        self.act_map.setEnabled(len(self._maps) > 1 and self._phase != Phase.UNANSWERED)
        self.ai_box.show()

    def _clear_bars(self) -> None:
        for w in self.bar_widgets:
            self.ai_bars.removeWidget(w)
            w.deleteLater()
        self.bar_widgets = []

    def set_current_map(self, method: str) -> None:
        self._map = method
        for m, b in self.map_buttons.items():
            b.setChecked(m == method)

    def _cycle_map(self) -> None:
        if len(self._maps) > 1:
            i = self._maps.index(self._map) if self._map in self._maps else -1
            self.map_chosen.emit(self._maps[(i + 1) % len(self._maps)])

    def _rate(self, level: str) -> None:
        if self.help_buttons[level].isEnabled():
            self.helpfulness_chosen.emit(level)

    def set_helpfulness(self, level: str) -> None:
        for lv, b in self.help_buttons.items():
            b.setChecked(lv == level)

    def show_truth(self, truth: str, correct: bool | None, notes: str) -> None:
        """The true label (with whether the reader's final answer matched) and the notes."""
        mark = "" if correct is None else ("  ✔ your answer was right" if correct
                                           else "  ✘ your answer was different")
        self.truth_label.setText(f"Answer: {truth}{mark}")
        self.notes_label.setText(notes)
        self.notes_label.setVisible(bool(notes))
        self.truth_box.show()

    def set_progress(self, finished: int, total: int, note: str = "") -> None:
        self.progress_label.setText(f"{finished} of {total} cases finished" +
                                    (f" — {note}" if note else ""))

    @property
    def ai_shown(self) -> bool:
        """Whether any AI result is on the panel."""
        return not self.ai_box.isHidden()


def big_font(widget: QWidget, points: float) -> QFont:
    """``widget``'s font at ``points`` (helper for presenter and dialogs)."""
    f = widget.font()
    f.setPointSizeF(points)
    return f
