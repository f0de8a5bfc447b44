"""A tiny training run writes loadable safetensors + manifest; evaluate --json has every key; metrics."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference import evaluate, recipes, train
from inference.metrics import binary_metrics, multiclass_metrics, multilabel_metrics
from inference.predict import load_model
from inference.registry import read_manifest, sha256_file

KEYS = {"accuracy", "sensitivity", "specificity", "precision", "f1", "balanced_accuracy", "mcc",
        "roc_auc", "confusion_matrix", "maps"}
MAP_KEYS = {"pointing_game", "energy_in_mask", "deletion_auc", "insertion_auc"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trained")
    train.main(["--task", "tumour", "--epochs", "1", "--n-train", "24", "--n-val", "8", "--size", "48",
                "--seed", "3", "--out", str(out), "--quiet", "--threads", "1"])
    return out / "tumour.json"


def test_tiny_training_writes_loadable_model(trained: Path) -> None:
    spec = read_manifest(trained)
    weights = trained.with_suffix(".safetensors")
    assert spec.sha256 == sha256_file(weights)
    assert spec.demo and "not for clinical use" in spec.demo_statement
    assert "--task tumour" in spec.training["command"] and spec.training["seed"] == 3
    assert "training seeds [30000, 30024)" in spec.training_data
    assert spec.training["generator"] == "varied"      # the task's base generator, on record
    clf = load_model("tumour", device="cpu", manifest_path=str(trained))
    assert clf.spec.input["size"] == 48
    pred = clf.predict(np.random.default_rng(0).normal(500, 50, (60, 70)).astype(np.float32))
    assert set(pred.probabilities) == {"no tumour", "tumour"}


def test_evaluate_json_has_every_key(trained: Path, capsys) -> None:
    evaluate.main(["--task", "tumour", "--weights", str(trained.with_suffix(".safetensors")),
                   "--n", "8", "--maps", "2", "--sanity", "2", "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    result = json.loads(out[0])
    assert KEYS <= set(result)
    maps = result["maps"]
    for method in ("gradcam", "occlusion"):
        assert MAP_KEYS <= set(maps[method])
        # pointing split by the model's own call: the overall figure is their weighted mean
        parts = [(maps[method][f"pointing_game_{k}"], n) for k, n in
                 (("called", maps["n_called"]), ("missed", maps["n"] - maps["n_called"])) if n]
        assert maps[method]["pointing_game"] == pytest.approx(sum(v * n for v, n in parts) / maps["n"])
    assert result["held_out_seeds"][0] >= 1_000_000
    assert "gradcam_rank_correlation" in result["sanity"]
    bands = result["sensitivity_by_size"]          # every positive in one size band
    assert sum(b["n"] for b in bands) == result["confusion_matrix"][1][0] + result["confusion_matrix"][1][1]
    called = sum(round(b["sensitivity"] * b["n"]) for b in bands if b["n"])
    assert called == result["confusion_matrix"][1][1]
    assert result["image_size"] == 48                # drawn at the model's input size by default
    looks = result["sensitivity_by_look"]          # the varied generator says what each lesion is
    assert sum(g["n"] for g in looks) == sum(b["n"] for b in bands)
    assert sum(round(g["sensitivity"] * g["n"]) for g in looks) == called


def test_lesion_subgroups_split_homogeneous_lesions_by_grey_matter_isointensity() -> None:
    assert evaluate.lesion_subgroup({"kind": "homogeneous", "core_vs_grey_matter": 1.1}) == \
        "homogeneous (grey-matter isointense)"
    assert evaluate.lesion_subgroup({"kind": "homogeneous", "core_vs_grey_matter": 1.3}) == \
        "homogeneous (not isointense)"
    assert evaluate.lesion_subgroup({"kind": "rim", "core_vs_grey_matter": 1.0}) == "rim"
    assert evaluate.lesion_subgroup({"kind": "homogeneous"}) == "homogeneous"   # CT: no grey matter


def test_evaluate_draws_phantoms_at_a_scanner_matrix_when_asked(trained: Path, capsys) -> None:
    evaluate.main(["--task", "tumour", "--weights", str(trained.with_suffix(".safetensors")),
                   "--n", "4", "--maps", "0", "--sanity", "0", "--ood", "0", "--image-size", "256", "--json"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["image_size"] == 256 and "--image-size 256" in result["command"]


def test_evaluate_writes_roc_png(trained: Path, tmp_path: Path) -> None:
    roc = tmp_path / "roc.png"
    evaluate.main(["--task", "tumour", "--weights", str(trained.with_suffix(".safetensors")),
                   "--n", "6", "--maps", "0", "--sanity", "0", "--roc", str(roc)])
    assert roc.read_bytes()[:4] == b"\x89PNG"


def test_training_from_a_png_folder(tmp_path: Path) -> None:
    from PIL import Image

    from inference.phantoms import brain_slice
    for k, cls in enumerate(("no tumour", "tumour")):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(4):
            img = brain_slice(i, 48, tumour=bool(k)).image
            Image.fromarray(np.clip(img / 4, 0, 255).astype(np.uint8)).save(
                tmp_path / "data" / cls / f"{i}.png")
    train.main(["--task", "tumour", "--data", str(tmp_path / "data"), "--epochs", "1", "--size", "32",
                "--out", str(tmp_path / "out"), "--quiet", "--threads", "1", "--augment", "appearance"])
    spec = read_manifest(tmp_path / "out" / "tumour.json")
    assert not spec.demo and spec.training["n_train"] + spec.training["n_val"] == 8
    assert "--augment appearance" in spec.training["command"]      # the recipe is on record


def test_binary_metrics_match_sklearn() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    s = np.clip(rng.random(200) * 0.7 + y * 0.25, 0, 1)
    m = binary_metrics(y, s)
    assert m["roc_auc"] == pytest.approx(sk.roc_auc_score(y, s))
    assert m["mcc"] == pytest.approx(sk.matthews_corrcoef(y, s >= 0.5))
    assert m["f1"] == pytest.approx(sk.f1_score(y, s >= 0.5))
    assert m["balanced_accuracy"] == pytest.approx(sk.balanced_accuracy_score(y, s >= 0.5))
    assert m["confusion_matrix"] == sk.confusion_matrix(y, s >= 0.5).tolist()


def test_multiclass_and_multilabel_shapes() -> None:
    y = np.array([0, 1, 2, 3, 0, 1])
    p = np.eye(4)[[0, 1, 2, 3, 1, 1]]
    m = multiclass_metrics(y, p, ["a", "b", "c", "d"])
    assert m["accuracy"] == pytest.approx(5 / 6) and len(m["confusion_matrix"]) == 4
    assert set(m["per_class"]) == {"a", "b", "c", "d"}
    ml = multilabel_metrics(np.array([[1, 0], [0, 1], [1, 1]]),
                            np.array([[0.9, 0.2], [0.1, 0.8], [0.7, 0.4]]), ["x", "y"])
    assert ml["per_class"]["x"]["accuracy"] == 1.0 and ml["per_class"]["y"]["sensitivity"] == 0.5


def test_batchnorm_recalibration_gives_exact_statistics() -> None:
    import torch

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 1), torch.nn.BatchNorm2d(3))
    x = torch.randn(40, 1, 5, 5) * 3 + 1
    net.train()
    net(torch.zeros(4, 1, 5, 5))                 # stale statistics
    train.recalibrate_batchnorm(net, x, bs=40)
    with torch.no_grad():
        feats = net[0](x)
    bn = net[1]
    torch.testing.assert_close(bn.running_mean, feats.mean(dim=(0, 2, 3)), rtol=1e-4, atol=1e-5)
    assert not net.training and bn.momentum == 0.1


def test_occlusion_scores_are_log_odds(tiny_model) -> None:
    import torch

    from inference.predict import load_model
    clf = load_model("x", device="cpu", manifest_path=str(tiny_model("contrast")))
    x = torch.randn(3, 1, 32, 32)
    probs = clf.forward_probs()(x)
    torch.testing.assert_close(clf.forward_scores()(x), torch.log(probs / (1 - probs)), rtol=1e-4, atol=1e-4)


def test_training_names_the_finding_and_evaluate_fits_the_map_reference(trained: Path,
                                                                       tmp_path: Path,
                                                                       capsys) -> None:
    import shutil

    assert read_manifest(trained).map_target == "tumour"         # a detector's maps: its finding
    for f in trained.parent.glob("tumour*"):                        # manifest, weights, OOD
        shutil.copy(f, tmp_path / f.name)
    copy = tmp_path / trained.name
    assert read_manifest(copy).map_reference("gradcam", "tumour") is None   # not fitted yet
    evaluate.main(["--task", "tumour", "--weights", str(copy.with_suffix(".safetensors")),
                   "--n", "16", "--maps", "4", "--sanity", "0", "--json", "--write-manifest"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    fitted = result["maps"]["reference"]
    spec = read_manifest(copy)
    assert fitted["quantile"] == evaluate.REFERENCE_QUANTILE and fitted["n"] >= 1
    for method in ("gradcam", "hirescam", "occlusion"):
        assert spec.map_reference(method, "tumour") == pytest.approx(fitted["tumour"][method])
        assert spec.map_reference(method, "tumour") > 0
    assert spec.map_reference("gradcam", "no tumour") is None        # other classes: own scale
    assert "reference" not in spec.metrics["maps"]                   # stored once, in explain


def test_focus_penalty_trains_and_is_on_record(tmp_path: Path, capsys) -> None:
    """``--focus W`` and ``--point W`` (inference/focus.py) train a lesion detector with the
    penalties on finding-map evidence outside the body and away from the lesion, report both
    shares per epoch and record them in the command."""
    train.main(["--task", "ct-lesion", "--epochs", "1", "--n-train", "16", "--n-val", "8", "--size", "48",
                "--seed", "2", "--focus", "1", "--point", "0.5", "--out", str(tmp_path), "--quiet",
                "--threads", "1"])
    err = capsys.readouterr().err
    assert "finding map outside the body" in err and "away from the lesion" in err
    spec = read_manifest(tmp_path / "ct-lesion.json")
    assert "--focus 1 --point 0.5" in spec.training["command"]


@pytest.mark.parametrize("kind", ["sharpness", "random-conv"])
def test_sharpness_augmentation_trains_with_the_focus_penalty(tmp_path: Path, capsys, kind: str) -> None:
    """``--augment sharpness`` (and ``random-conv``, which adds grey-level changes to it) changes
    the image only, so the penalty's masks still fit it."""
    train.main(["--task", "ct-lesion", "--epochs", "1", "--n-train", "16", "--n-val", "8", "--size", "48",
                "--seed", "3", "--focus", "1", "--augment", kind, "--out", str(tmp_path),
                "--quiet", "--threads", "1"])
    assert "finding map outside the body" in capsys.readouterr().err
    spec = read_manifest(tmp_path / "ct-lesion.json")
    assert f"--focus 1 --augment {kind}" in spec.training["command"]
    assert spec.training["augment"] == kind
    assert "sharpness changes of training" in spec.ood["fitted_on"]
    # python -m inference.calibrate refits the statistics on the same changes, from the manifest
    from inference import calibrate
    assert calibrate.main(["--manifest", str(tmp_path / "ct-lesion.json"), "--n-fit", "12", "--n-val", "8",
                           "--quiet"]) == 0
    again = read_manifest(tmp_path / "ct-lesion.json")
    assert "sharpness changes of training" in again.ood["fitted_on"]
    assert "inference.calibrate" in again.ood["fitted_on"] and again.ood["thresholds"]["slice"] > 0


@pytest.mark.parametrize("task,extra", [("tumour", []), ("ct-lesion", ["--focus", "1"])])
def test_regional_augmentation_trains_with_and_without_the_focus_penalty(tmp_path: Path, task: str,
                                                                          extra: list[str]) -> None:
    """``--augment regional`` takes the phantoms' lesion masks along with their images (and the
    body masks when the penalty needs them); the manifest says what the model was trained with
    and its domain is fitted on the sharpness changes."""
    train.main(["--task", task, "--epochs", "1", "--n-train", "16", "--n-val", "8", "--size", "48",
                "--seed", "3", *extra, "--augment", "regional", "--out", str(tmp_path), "--quiet",
                "--threads", "1"])
    spec = read_manifest(tmp_path / f"{task}.json")
    assert spec.training["augment"] == "regional"
    assert "sharpness changes of training" in spec.ood["fitted_on"]


def test_regional_augmentation_needs_lesion_masks(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="needs their lesion masks"):
        train.main(["--task", "contrast", "--epochs", "1", "--n-train", "8", "--augment", "regional",
                    "--out", str(tmp_path), "--quiet"])


def test_focus_penalty_needs_phantom_body_masks(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--focus and --point apply to"):
        train.main(["--task", "contrast", "--epochs", "1", "--n-train", "8", "--focus", "1",
                    "--out", str(tmp_path), "--quiet"])
    with pytest.raises(SystemExit, match="--focus and --point apply to"):
        train.main(["--task", "tumour", "--data", str(tmp_path), "--focus", "1", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="--focus and --point apply to"):
        train.main(["--task", "knee", "--point", "1", "--out", str(tmp_path), "--quiet"])


def test_init_fine_tunes_from_weights_and_records_them(tmp_path: Path) -> None:
    """``--init`` starts from a model's safetensors (fine-tuning) and records which, by sha256; a
    pickle or another architecture's weights are refused with the reason."""
    import torch
    from safetensors.torch import load_file

    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--task", "tumour", "--n-train", "16", "--n-val", "8", "--size", "48", "--quiet",
              "--threads", "1", "--seed", "3"]
    train.main([*common, "--epochs", "1", "--out", str(first)])
    start = first / "tumour.safetensors"
    train.main([*common, "--epochs", "1", "--lr", "1e-12", "--init", str(start), "--out", str(second)])
    before, after = load_file(str(start)), load_file(str(second / "tumour.safetensors"))
    conv = next(k for k in before if k.endswith("weight") and before[k].dim() == 4)
    torch.testing.assert_close(after[conv], before[conv], rtol=0, atol=1e-6)
    spec = read_manifest(second / "tumour.json")
    assert spec.training["init"] == {"file": "tumour.safetensors", "sha256": sha256_file(start)}
    with pytest.raises(SystemExit, match="pickles are refused"):
        train.main([*common, "--init", str(tmp_path / "model.pt"), "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="cannot start from these weights"):
        train.main(["--task", "contrast", "--n-train", "8", "--n-val", "4", "--size", "48", "--quiet",
                    "--epochs", "1", "--init", str(start), "--out", str(tmp_path)])


def test_varied_small_is_for_liver_lesions_only(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="varied-small draws liver lesions"):
        train.main(["--task", "tumour", "--generator", "varied-small", "--out", str(tmp_path), "--quiet"])
    with pytest.raises(SystemExit, match="varied-kidneys draws liver lesions"):
        train.main(["--task", "tumour", "--generator", "varied-kidneys", "--out", str(tmp_path), "--quiet"])
    with pytest.raises(SystemExit, match="varied-iso draws brain tumours"):
        train.main(["--task", "ct-lesion", "--generator", "varied-iso", "--out", str(tmp_path), "--quiet"])
    with pytest.raises(SystemExit, match="varied-looks draws lesions"):
        train.main(["--task", "contrast", "--generator", "varied-looks", "--out", str(tmp_path), "--quiet"])
    with pytest.raises(SystemExit, match="varied-faint draws lesions"):
        train.main(["--task", "knee", "--generator", "varied-faint", "--out", str(tmp_path), "--quiet"])


def test_input_smoothing_is_trained_with_and_kept_in_the_manifest(tmp_path: Path) -> None:
    train.main(["--task", "tumour", "--epochs", "1", "--n-train", "8", "--n-val", "4", "--size", "48",
                "--smooth", "0.7", "--out", str(tmp_path), "--quiet"])
    spec = json.loads((tmp_path / "tumour.json").read_text())
    assert spec["input"]["smooth"] == 0.7
    assert "--smooth 0.7" in spec["training"]["command"]


def test_convs_per_stage_are_trained_and_kept_in_the_manifest(tmp_path: Path) -> None:
    """``--convs`` sets the demo backbone's convolutions per stage; the manifest carries them, so
    the app builds the same net; a wrong count is refused with the reason."""
    train.main(["--task", "tumour", "--epochs", "1", "--n-train", "8", "--n-val", "4", "--size", "48",
                "--convs", "2,2,2,2", "--out", str(tmp_path), "--quiet", "--threads", "1"])
    spec = json.loads((tmp_path / "tumour.json").read_text())
    assert spec["architecture"]["backbone_options"]["convs"] == [2, 2, 2, 2]
    clf = load_model("tumour", device="cpu", manifest_path=str(tmp_path / "tumour.json"))
    convs = [m for m in clf.module.modules() if m.__class__.__name__ == "Conv2d"]
    assert len(convs) == 8
    with pytest.raises(SystemExit, match="one count"):
        train.main(["--task", "tumour", "--convs", "2,2", "--out", str(tmp_path), "--quiet"])


def test_varied_mix_draws_each_seed_from_one_varied_generator() -> None:
    """``--generator varied-mix`` (tumour): each seed is exactly that seed's slice from one of
    ``recipes.VARIED_MIX``, and every one of them is used."""
    from inference import recipes

    used = set()
    for seed in range(40):
        mixed = recipes.phantom_sample("tumour", seed, 48, generator="varied-mix")
        same = [g for g in recipes.VARIED_MIX
                if np.array_equal(recipes.phantom_sample("tumour", seed, 48, generator=g).image, mixed.image)]
        assert same, seed
        used.update(same)
    assert used == set(recipes.VARIED_MIX)
    with pytest.raises(SystemExit, match="varied-mix draws brain tumours"):
        train.main(["--task", "ct-lesion", "--generator", "varied-mix", "--quiet"])


def test_calibrate_fits_on_the_generator_the_weights_were_trained_on(tmp_path: Path) -> None:
    """``--generator`` picks the phantoms the statistics and thresholds are fitted on (the shipped
    contrast weights were fine-tuned on ``varied-physics``); without it, the one the manifest says
    the weights were trained on (here "varied", not the task's "physics"); recorded in
    ``fitted_on`` with the percentile; a lower percentile gives a lower threshold on the same
    validation distances; the independent generator is refused (it is for validation only)."""
    from inference import calibrate

    train.main(["--task", "contrast", "--epochs", "1", "--n-train", "16", "--n-val", "8", "--size", "48",
                "--generator", "varied", "--out", str(tmp_path), "--quiet", "--threads", "1"])
    manifest = str(tmp_path / "contrast.json")
    assert read_manifest(tmp_path / "contrast.json").training["generator"] == "varied"
    args = ["--manifest", manifest, "--n-fit", "16", "--n-val", "24", "--quiet"]
    assert calibrate.main(args) == 0
    high = read_manifest(tmp_path / "contrast.json")
    assert "'varied' generator" in high.ood["fitted_on"] and "99th percentile" in high.ood["fitted_on"]
    assert calibrate.main([*args, "--percentile", "50"]) == 0
    low = read_manifest(tmp_path / "contrast.json")
    assert low.ood["percentile"] == 50 and "50th percentile" in low.ood["fitted_on"]
    assert low.ood["thresholds"]["slice"] < high.ood["thresholds"]["slice"]
    with pytest.raises(SystemExit):
        calibrate.main(["--manifest", manifest, "--generator", "independent", "--quiet"])


def test_own_generator_figures_use_the_generator_the_weights_were_trained_on() -> None:
    """``inference.evaluate`` (without ``--generator``) and ``inference.calibrate`` draw a model's
    own held-out phantoms from the generator its manifest says it was last trained on: the
    shipped tumour and CT weights were fine-tuned on "varied-faint" and "varied-kidneys", whose
    lesions are fainter and smaller than the base "varied" ones, the contrast weights on
    "varied-physics"; each shipped manifest's metrics are on that generator. A manifest without it, or one
    naming the independent generator (never trained on), falls back to the task's base."""
    import re

    from inference.registry import get_spec

    assert recipes.trained_generator("tumour", {"generator": "varied-faint"}) == "varied-faint"
    assert recipes.trained_generator("tumour", {}) == recipes.DEFAULT_GENERATOR["tumour"]
    assert recipes.trained_generator("ct-lesion", {"generator": "independent"}) == "varied"
    assert recipes.trained_generator("ct-lesion", {"generator": "no such"}) == "varied"
    for name in ("tumour", "ct-lesion", "contrast", "knee"):
        spec = get_spec(name)
        said = re.search(r"--generator (\S+)", spec.training["command"])
        assert recipes.trained_generator(spec.task, spec.training) == (
            said.group(1) if said else recipes.DEFAULT_GENERATOR[spec.task]), name
        assert spec.metrics["generator"] == spec.training["generator"], name   # its own figures, there
