"""Help ▸ Keyboard shortcuts: every action of the window that has a key, and clash detection.

:func:`every_action` starts from ``MainWindow.all_actions()`` (menu order) and adds any other
action of the window or its widgets that has a shortcut, so new features are listed without
being registered by hand.
"""
from __future__ import annotations

from collections import defaultdict

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


def every_action(window: QWidget) -> list[QAction]:
    """All actions with a shortcut: the window's own list first, then the rest, deduplicated."""
    base = list(window.all_actions()) if hasattr(window, "all_actions") else []
    seen = {id(a) for a in base}
    out = list(base)
    for act in window.findChildren(QAction):
        if id(act) not in seen and any(not s.isEmpty() for s in act.shortcuts()):
            text = act.text().replace("&", "")
            if text and not text[0].isdigit():  # skip menu copies such as "1  Brain W 80 L 40"
                out.append(act)
                seen.add(id(act))
    return out


#: What Shift does to the symbol keys of a US keyboard: "Shift+]" types "}".
US_SHIFTED = dict(zip("`1234567890-=[]\\;',./", '~!@#$%^&*()_+{}|:"<>?'))


def keystroke(seq: str) -> str:
    """The keystroke a one-key sequence (portable text) stands for, as the keyboard produces
    it: "Shift+]" and "}" are both "}", "Shift+}" is "}" too (Shift is part of typing it)."""
    parts = seq.split("+")
    key, mods = parts[-1], [m for m in parts[:-1] if m]
    if seq == "+":
        key, mods = "+", []
    elif seq.endswith("++"):  # "Ctrl++" is Ctrl and the plus key
        key, mods = "+", [m for m in seq[:-2].split("+") if m]
    if "Shift" in mods and (key in US_SHIFTED or key in US_SHIFTED.values()):
        mods.remove("Shift")
        key = US_SHIFTED.get(key, key)
    return "+".join(sorted(mods) + [key])


def conflicts(actions: list[QAction]) -> dict[str, list[str]]:
    """Keystrokes bound to more than one action: {"}": ["Overlay opacity +10 %", "..."]}.

    Sequences are compared by the keystroke they stand for (:func:`keystroke`), not by their
    text: Qt reports "Ambiguous shortcut overload" for "}" and "Shift+]" and fires neither,
    also when both belong to the same action."""
    owners: dict[str, list[str]] = defaultdict(list)
    for act in actions:
        for seq in act.shortcuts():
            key = seq.toString(QKeySequence.SequenceFormat.PortableText)
            if key:
                owners[keystroke(key)].append(act.text().replace("&", ""))
    return {k: v for k, v in owners.items() if len(v) > 1}


MOUSE_ROWS = [("Set crosshair (plane views)", "Left click, or Shift + mouse move"),
              ("Draw with the chosen tool", "Left drag (angle: three clicks)"),
              ("Move a measurement", "Drag its handles")]
