"""Installs the freedesktop entry and icons for the current user (``slicewise --install-desktop``)."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from viewer.core.resources import resource_path


def _xdg_data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def install_desktop_entry(executable: str | None = None) -> list[Path]:
    """Write slicewise.desktop and the hicolor icons under $XDG_DATA_HOME; returns written paths."""
    data = _xdg_data_home()
    written: list[Path] = []
    exe = executable or shutil.which("slicewise") or f"{sys.executable} -m viewer"
    entry = resource_path("slicewise.desktop").read_text(encoding="utf-8")
    entry = entry.replace("Exec=slicewise %F", f"Exec={exe} %F")
    if " " in exe or not Path(exe.split()[0]).is_absolute():
        entry = "\n".join(line for line in entry.splitlines() if not line.startswith("TryExec="))
    apps = data / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    target = apps / "slicewise.desktop"
    target.write_text(entry + ("\n" if not entry.endswith("\n") else ""), encoding="utf-8")
    written.append(target)
    icons = data / "icons" / "hicolor"
    for size in (16, 24, 32, 48, 64, 128, 256):
        dest = icons / f"{size}x{size}" / "apps" / "slicewise.png"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resource_path("icons", f"slicewise-{size}.png"), dest)
        written.append(dest)
    svg = icons / "scalable" / "apps" / "slicewise.svg"
    svg.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(resource_path("icons", "slicewise.svg"), svg)
    written.append(svg)
    return written
