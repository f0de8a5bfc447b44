"""inference.results: torch-free records shared as they are by the viewer, and an inference
package whose modules import each other without cycles (function-level imports included)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "inference"


def test_results_import_neither_torch_nor_qt_in_a_fresh_interpreter() -> None:
    code = ("import sys, inference.results\n"
            "from inference import Prediction, Explanation, MapScores, Pointing\n"
            "assert Prediction is inference.results.Prediction\n"
            "assert Explanation is inference.results.Explanation\n"
            "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


def test_classifier_returns_the_shared_records(tiny_model) -> None:
    import inference
    from inference import results

    clf = inference.load_model("x", device="cpu", manifest_path=str(tiny_model("tumour")))
    image = np.random.default_rng(0).random((40, 36)).astype(np.float32)
    pred = clf.predict(image)
    exp = clf.explain(image, "gradcam")
    assert type(pred) is results.Prediction and type(exp) is results.Explanation
    assert type(exp.prediction) is results.Prediction and type(exp.scores) is results.MapScores
    assert exp.map.shape == (40, 36) and exp.map.dtype == np.float32
    from inference.predict import Explanation, Prediction
    assert (Prediction, Explanation) == (results.Prediction, results.Explanation)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """inference module -> inference modules it imports anywhere (top level or in functions),
    with the packages an import runs (``a.b.c`` runs ``a.b``'s ``__init__``)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        here = name if is_pkg else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = here
                    for _ in range(node.level - 1):
                        pkg = pkg.rpartition(".")[0]
                    base = f"{pkg}.{base}" if base else pkg
                targets.add(base)
                targets.update(f"{base}.{a.name}" for a in node.names)
        edges: set[str] = set()
        for t in targets:
            while t and t not in files:
                t = t.rpartition(".")[0]
            while t.startswith("inference"):
                if t in files and t != name and not name.startswith(t + "."):
                    edges.add(t)
                t = t.rpartition(".")[0]
        graph[name] = edges
    return graph


def test_inference_modules_import_each_other_without_cycles() -> None:
    graph = _graph()
    assert {"inference.predict", "inference.classifier", "inference.predict_knee"} <= set(graph)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cycle = stack[stack.index(n):] + [n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_load_model_returns_the_knee_exam_subclass(tiny_model) -> None:
    from inference import load_model
    from inference.classifier import Classifier
    from inference.predict_knee import KneeExamClassifier

    knee = load_model("x", device="cpu", manifest_path=str(tiny_model("knee", name="k")))
    tumour = load_model("x", device="cpu", manifest_path=str(tiny_model("tumour", name="t")))
    assert type(knee) is KneeExamClassifier and isinstance(knee, Classifier)
    assert type(tumour) is Classifier
    rng = np.random.default_rng(1)
    exam = {p: rng.random((5, 32, 32)).astype(np.float32) for p in ("sagittal", "axial")}
    exp = knee.explain(exam, "gradcam")
    assert set(exp.map) == {"sagittal", "axial"} and exp.map["axial"].shape == (5, 32, 32)
    assert exp.prediction.planes_used == ("sagittal", "axial")
