"""Package boundary: inference never imports Qt, pyqtgraph, pydicom or viewer."""
from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("PySide6", "pyqtgraph", "pydicom", "viewer")


def test_inference_imports_no_gui_or_dicom_modules(tiny_model) -> None:
    manifest = tiny_model("tumour")
    code = (
        "import sys, numpy as np\n"
        "import inference, inference.train, inference.evaluate, inference.predict, inference.explain\n"
        f"clf = inference.load_model('x', device='cpu', manifest_path={str(manifest)!r})\n"
        "clf.explain(np.random.rand(40, 40).astype('float32'), 'gradcam')\n"
        f"print([m for m in {FORBIDDEN!r} if any(k == m or k.startswith(m + '.') for k in sys.modules)])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_matplotlib_is_a_main_dependency() -> None:
    """inference.evaluate draws its figures with matplotlib: it must not arrive only through the
    test extras (captum, grad-cam)."""
    import re
    from pathlib import Path

    import tomllib

    doc = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    names = {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower() for d in doc["project"]["dependencies"]}
    assert "matplotlib" in names
