"""The package boundaries of DESIGN.md, checked two ways.

1. Statically: every import statement (function-level ones too) in each package's source.
2. Dynamically: importing a package in a fresh interpreter loads none of the forbidden modules.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

RULES = {
    # package folder: top-level modules it must never import
    "viewer/io": {"PySide6", "pyqtgraph", "torch", "torchvision", "inference", "shiboken6"},
    "viewer/ui": {"torch", "torchvision", "inference"},
    "inference": {"PySide6", "pyqtgraph", "pydicom", "viewer", "shiboken6"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("folder", sorted(RULES))
def test_source_imports_respect_boundaries(folder: str) -> None:
    root = REPO / folder
    files = sorted(root.rglob("*.py"))
    assert files, f"{folder} has no modules"
    offences = {str(f.relative_to(REPO)): sorted(_imports(f) & RULES[folder]) for f in files}
    offences = {k: v for k, v in offences.items() if v}
    assert not offences, f"forbidden imports: {offences}"


def _loaded_after_import(module: str) -> set[str]:
    code = (
        "import sys, json, importlib; importlib.import_module(%r); "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))" % module
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, timeout=120, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("viewer.io", {"PySide6", "torch", "pyqtgraph", "inference"}),
        ("inference.phantoms", {"torch", "PySide6", "pydicom"}),
        ("inference", {"PySide6", "pyqtgraph", "pydicom", "viewer"}),
        ("viewer.ui.main_window", {"torch"}),
        ("viewer.app", {"torch"}),
        ("viewer.cli.main", {"torch", "PySide6"}),
    ],
)
def test_fresh_interpreter_import(module: str, forbidden: set[str]) -> None:
    loaded = _loaded_after_import(module)
    assert not (loaded & forbidden), f"importing {module} loaded {sorted(loaded & forbidden)}"
