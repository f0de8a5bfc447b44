"""The independent validation generator: shares no code with the training phantoms, is never a
training source, and draws what its labels say."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import inference.phantoms_check as pc
from inference import recipes
from inference.train import _training_generator, parse_args

PACKAGE = Path(pc.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_drawing_code_imports_nothing_from_the_training_phantoms() -> None:
    measuring = {"air_energy.py", "transplant.py"}     # these measure models, they draw nothing
    drawing = [p for p in PACKAGE.glob("*.py") if p.name not in measuring]
    assert len(drawing) >= 3
    for path in drawing:
        for name in _imports(path):
            assert not name.startswith("inference.phantoms.") and name != "inference.phantoms", (path, name)
            allowed = ("inference.phantoms_check", "__future__", "numpy", "dataclasses", "typing")
            assert name.startswith(allowed), (path, name)


@pytest.mark.parametrize("task", ["tumour", "ct-lesion"])
def test_labels_match_masks_and_lesions_sit_in_the_body(task: str) -> None:
    for seed in range(8):
        image, target, mask = pc.sample(task, seed, 64)
        assert image.dtype == np.float32 and image.shape == mask.shape
        assert target == int(mask.any()) == seed % 2
    rng = np.random.default_rng(3)
    s = pc.abdomen_slice(rng, (128, 128), lesion=True) if task == "ct-lesion" else \
        pc.head_slice(rng, (128, 128), "T1", lesion=True)
    assert s.mask.any() and not (s.mask & ~s.body).any()


@pytest.mark.parametrize(("task", "kinds"), [("tumour", {"homogeneous", "rim", "cystic"}),
                                             ("ct-lesion", {"homogeneous", "rim", "cystic"})])
def test_draw_says_what_each_lesion_looks_like(task: str, kinds: set[str]) -> None:
    """draw() is sample() plus the lesion's look (for subgroup figures): its kind, and for brain
    lesions that are not cysts the core's signal over grey matter's; None on healthy slices."""
    seen = set()
    for seed in range(24):
        d = pc.draw(task, seed, 64)
        image, target, mask = pc.sample(task, seed, 64)
        assert np.array_equal(d.image, image) and d.target == target and np.array_equal(d.mask, mask)
        if not target:
            assert d.look is None
            continue
        seen.add(d.look["kind"])
        ratio = d.look.get("core_vs_grey_matter")
        assert (ratio is None) == (task == "ct-lesion" or d.look["kind"] == "cystic")
        assert ratio is None or 0.1 < ratio < 4.0
    assert seen == kinds
    s = recipes.phantom_sample(task, 1, 64, generator="independent")
    assert s.look == pc.draw(task, 1, 64).look


def test_ct_in_hounsfield_units_and_contrast_classes_balanced() -> None:
    image, _, _ = pc.sample("ct-lesion", 5, 96)
    assert image.min() < -900 and image.max() > 300
    assert [pc.sample("contrast", s, 48)[1] for s in range(8)] == [0, 1, 2, 3, 0, 1, 2, 3]


def test_recipes_serve_it_but_training_refuses_it(tmp_path: Path) -> None:
    s = recipes.phantom_sample("tumour", 1, 64, generator="independent")
    assert int(s.target) == 1 and s.mask.any()
    with pytest.raises(SystemExit):
        parse_args(["--task", "tumour", "--generator", "independent"])
    with pytest.raises(SystemExit, match="validation"):
        _training_generator("tumour", "independent")


def test_evaluate_scores_a_model_on_the_independent_generator(tiny_model, capsys) -> None:
    import json

    from inference import evaluate

    manifest = tiny_model("ct-lesion")
    evaluate.main(["--task", "ct-lesion", "--weights", str(manifest.with_suffix(".safetensors")),
                   "--generator", "independent", "--n", "6", "--maps", "1", "--sanity", "0", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["generator"] == "independent" and result["maps"]["n"] == 1
    assert sum(map(sum, result["confusion_matrix"])) == 6     # three lesions, three healthy slices


def test_paste_keeps_the_slice_and_refuses_unlike_surroundings() -> None:
    """A pasted lesion keeps its contrast to the tissue around it (MR: ratio; CT: HU difference);
    every other pixel is the healthy slice's; unlike surroundings and places outside the head are
    refused."""
    from inference.phantoms_check.transplant import paste

    src = np.full((64, 64), 100.0, np.float32)
    mask = np.zeros((64, 64), bool)
    mask[28:36, 28:36] = True
    src[mask] = 150.0
    dst = np.full((64, 64), 200.0, np.float32)
    out = paste(src, mask, dst, ct=False)
    assert out is not None and np.allclose(out[mask], 300.0) and np.array_equal(out[~mask], dst[~mask])
    ct = paste(src - 60, mask, dst - 170, ct=True)          # ring 40 HU at home, 30 HU here
    assert ct is not None and np.allclose(ct[mask], 30.0 + 50.0)
    assert paste(src, mask, dst + 100, ct=True) is None     # 200 HU away: unlike its surroundings
    dark_ring = dst.copy()
    dark_ring[20:44, 20:44] = 10.0
    assert paste(src, mask, dark_ring, ct=False) is None    # a ring far darker than at home
    head = np.zeros((64, 64), bool)
    head[:, :30] = True
    assert paste(src, mask, dst, ct=False, region=head) is None


def test_transplant_reports_both_directions(tiny_model) -> None:
    from inference.phantoms_check.transplant import transplant

    manifest = tiny_model("tumour")
    out = transplant("tumour", 16, str(manifest.with_suffix(".safetensors")), grid=128, blur=1.0)
    assert out["grid"] == 128 and out["blur"] == 1.0
    for key in ("independent lesions in training-generator slices",
                "training-generator lesions in independent slices"):
        assert out[key]["n"] > 0 and 0.0 <= out[key]["found_pasted"] <= 1.0


def test_evaluate_reports_the_leave_one_generator_out_gap(tiny_model, capsys, tmp_path) -> None:
    """``--independent`` scores the same model on as many independent phantoms as own ones and
    reports the gap (accuracy, ROC AUC, pointing per method) and whether the aim is met;
    ``--write-manifest`` keeps both in the manifest; a knee model has no independent phantoms."""
    import json
    import shutil

    from inference import evaluate
    from inference.registry import read_manifest

    src = tiny_model("tumour")
    here = tmp_path / "copy"                            # --write-manifest writes beside the weights
    here.mkdir()
    for f in src.parent.glob(f"{src.stem}.*"):
        shutil.copy(f, here / f.name)
    weights = str((here / src.name).with_suffix(".safetensors"))
    args = ["--task", "tumour", "--weights", weights, "--n", "6", "--maps", "2", "--sanity", "0",
            "--ood", "0", "--robustness", "0", "--independent"]
    evaluate.main([*args, "--json"])
    result = json.loads(capsys.readouterr().out)
    other, gap = result["independent_generator"], result["transfer"]
    assert other["generator"] == "independent" and other["n"] == 6 and result["generator"] != "independent"
    assert gap["accuracy_gap"] == result["accuracy"] - other["accuracy"]
    assert gap["roc_auc_gap"] == result["roc_auc"] - other["roc_auc"]
    assert gap["pointing"]["gradcam"] == {"own": result["maps"]["gradcam"]["pointing_game"],
                                          "independent": other["maps"]["gradcam"]["pointing_game"]}
    assert gap["met"] == (gap["accuracy_gap"] <= 0.05 and gap["roc_auc_gap"] <= 0.05
                          and min(gap["pointing"]["gradcam"].values()) >= 0.85)
    evaluate.main(args)
    table = capsys.readouterr().out
    assert "transfer gap" in table and ("aim" in table) and f"accuracy {gap['accuracy_gap']:.3f}" in table
    evaluate.main([*args, "--write-manifest"])
    capsys.readouterr()
    stored = read_manifest(here / src.name).metrics
    assert stored["independent_generator"]["n"] == 6 and "met" in stored["transfer"]
    with pytest.raises(SystemExit):
        evaluate.main(["--task", "knee", "--n", "2", "--independent"])


def test_shipped_detectors_store_their_leave_one_generator_out_gap() -> None:
    """The shipped tumour and CT manifests carry the gap between their training generator and the
    independent one as ``inference.evaluate --independent`` computes it from their stored figures
    (n 400 each), and it meets the aim; the README's model table quotes these figures."""
    from inference.evaluate import transfer_report
    from inference.registry import get_spec

    for name in ("tumour", "ct-lesion"):
        m = get_spec(name).metrics
        assert m["independent_generator"]["n"] == m["n"] == 400, name
        assert m["transfer"] == transfer_report(m, m["independent_generator"], name), name
        assert m["transfer"]["met"], (name, m["transfer"])
