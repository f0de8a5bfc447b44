"""Manifests, sha256-checked safetensors, pickle refusal, entry-point plug-ins."""
from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

import inference
from inference import registry
from inference.errors import ModelLoadError
from inference.predict import describe_models, load_model
from inference.registry import list_models, read_manifest, sha256_file

SHIPPED = ("tumour", "contrast", "knee", "ct-lesion")


def test_tiny_model_loads_after_sha_check(tiny_model) -> None:
    manifest = tiny_model("tumour")
    clf = load_model("ignored", device="cpu", manifest_path=str(manifest))
    assert clf.spec.name == "tiny-tumour"
    assert clf.spec.sha256 == sha256_file(manifest.with_suffix(".safetensors"))
    assert not clf.module.training


def test_tampered_weights_refused_naming_file(tiny_model) -> None:
    manifest = tiny_model("tumour")
    weights = manifest.with_suffix(".safetensors")
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="sha256") as err:
        load_model("x", manifest_path=str(manifest))
    assert str(weights) in str(err.value)


def test_pickle_file_refused_even_with_matching_sha(tiny_model, tmp_path: Path) -> None:
    manifest = tiny_model("tumour")
    weights = manifest.with_suffix(".safetensors")
    weights.write_bytes(pickle.dumps({"weight": [1.0, 2.0]}, protocol=4))
    data = json.loads(manifest.read_text())
    data["weights"]["sha256"] = sha256_file(weights)
    manifest.write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="pickle") as err:
        load_model("x", manifest_path=str(manifest))
    assert str(weights) in str(err.value)


def test_torch_save_pt_file_refused(tiny_model) -> None:
    import torch

    manifest = tiny_model("tumour")
    pt = manifest.with_name("model.pt")
    torch.save({"a": torch.zeros(2)}, pt)
    data = json.loads(manifest.read_text())
    data["weights"] = {"file": pt.name, "sha256": sha256_file(pt)}
    manifest.write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="safetensors") as err:
        load_model("x", manifest_path=str(manifest))
    assert "model.pt" in str(err.value)


def test_torch_load_is_never_called(tiny_model, monkeypatch) -> None:
    import torch

    def boom(*a, **k):
        raise AssertionError("torch.load must not be used")

    monkeypatch.setattr(torch, "load", boom)
    load_model("x", manifest_path=str(tiny_model("ct-lesion")))


def test_incomplete_manifest_is_a_model_load_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "task": "tumour"}))
    with pytest.raises(ModelLoadError, match="bad.json"):
        read_manifest(bad)
    with pytest.raises(ModelLoadError, match="not found"):
        read_manifest(tmp_path / "missing.json")


def test_missing_weights_and_wrong_architecture(tiny_model) -> None:
    manifest = tiny_model("tumour")
    data = json.loads(manifest.read_text())
    data["architecture"]["backbone_options"]["widths"] = [4, 16]
    manifest.write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="do not fit"):
        load_model("x", manifest_path=str(manifest))
    manifest.with_suffix(".safetensors").unlink()
    with pytest.raises(ModelLoadError, match="not found"):
        load_model("x", manifest_path=str(manifest))


def test_unknown_model_name_lists_available() -> None:
    with pytest.raises(ModelLoadError, match="tumour"):
        load_model("no-such-model")


def test_shipped_models_listed_with_demo_statement() -> None:
    names = list_models()
    for n in SHIPPED:
        assert n in names
    rows = {r["name"]: r for r in describe_models()}
    for n in SHIPPED:
        r = rows[n]
        assert r["demo"] is True
        assert "not for clinical use" in r["demo_statement"]
        assert len(r["sha256"]) == 64
        assert r["metrics"], f"{n}: evaluation figures missing from the manifest"
        size = Path(r["weights"]).stat().st_size
        assert size <= 10 * 1024 * 1024


def test_entry_point_model_is_registered(tiny_model, monkeypatch) -> None:
    from importlib.metadata import EntryPoint

    manifest = tiny_model("ct-lesion", name="plugin-ct")
    eps = [EntryPoint(name="plugin-ct", value=str(manifest), group=registry.ENTRY_POINT_GROUP)]

    def fake_entry_points(*, group: str):
        return eps if group == registry.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry.metadata, "entry_points", fake_entry_points)
    assert "plugin-ct" in list_models()
    clf = inference.load_model("plugin-ct", device="cpu")
    assert clf.spec.task == "ct-lesion"


def test_entry_point_object_reference(tiny_model, monkeypatch, tmp_path: Path) -> None:
    import sys
    import types
    from importlib.metadata import EntryPoint

    manifest = tiny_model("tumour", name="plugin-tumour")
    mod = types.ModuleType("fake_slicewise_plugin")
    mod.manifest = lambda: manifest  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_slicewise_plugin", mod)
    eps = [EntryPoint(name="p", value="fake_slicewise_plugin:manifest", group=registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry.metadata, "entry_points", lambda *, group: eps)
    assert "plugin-tumour" in list_models()


def test_builtin_dir_found_via_importlib_resources() -> None:
    d = registry.builtin_models_dir()
    assert (d / "tumour.json").is_file()


def test_manifest_copy_elsewhere_resolves_weights_beside_it(tiny_model, tmp_path: Path) -> None:
    manifest = tiny_model("tumour")
    other = tmp_path / "copy"
    other.mkdir()
    shutil.copy(manifest, other / manifest.name)
    with pytest.raises(ModelLoadError, match="not found"):
        load_model("x", manifest_path=str(other / manifest.name))


def test_explain_settings_come_from_the_manifest(tiny_model) -> None:
    manifest = tiny_model("ct-lesion")
    data = json.loads(manifest.read_text())
    data["explain"] = {"occlusion": {"passes": [[16, 8], [8, 4]], "blur_sigma": 3.0}}
    manifest.write_text(json.dumps(data))
    clf = load_model("x", device="cpu", manifest_path=str(manifest))
    assert clf.occlusion_settings() == (((16, 8), (8, 4)), 3.0)
    opts = {"patch": 4, "stride": 2, "batch_size": 8}
    assert clf.occlusion_settings(opts) == (((4, 2),), 3.0)
    assert opts == {"batch_size": 8}                 # consumed, the rest passes through
    assert read_manifest(manifest).to_json()["explain"] == data["explain"]


def test_map_target_and_reference_read_from_the_manifest(tiny_model) -> None:
    manifest = tiny_model("ct-lesion")
    data = json.loads(manifest.read_text())
    data["explain"] = {"target": "lesion", "reference": {"lesion": {"gradcam": 0.004,
                                                                    "occlusion": "x",
                                                                    "hirescam": -1.0},
                                                         "quantile": 0.25}}
    manifest.write_text(json.dumps(data))
    spec = read_manifest(manifest)
    assert spec.map_target == "lesion" and spec.map_reference("gradcam", "lesion") == 0.004
    # unusable values mean "scale each map to its own maximum", never an error
    assert spec.map_reference("occlusion", "lesion") is None
    assert spec.map_reference("hirescam", "lesion") is None
    assert spec.map_reference("gradcam", "no lesion") is None
    assert spec.map_reference("gradcam", "quantile") is None
    data["explain"] = {"target": "not a class", "reference": [1, 2]}
    manifest.write_text(json.dumps(data))
    spec = read_manifest(manifest)
    assert spec.map_target is None and spec.map_reference("gradcam", "lesion") is None


def test_public_api_spelling_tumor_loads_the_tumour_model() -> None:
    from inference import load_model

    clf = load_model("tumor", device="cpu")
    assert clf.spec.name == "tumour"


def _plugins(monkeypatch, eps) -> None:
    monkeypatch.setattr(registry.metadata, "entry_points",
                        lambda *, group: eps if group == registry.ENTRY_POINT_GROUP else [])


def test_broken_plugin_is_reported_and_the_others_still_load(tiny_model, monkeypatch) -> None:
    """A plug-in whose entry point raises used to raise from list_models() and hide every model."""
    from importlib.metadata import EntryPoint

    good = tiny_model("ct-lesion", name="plugin-ok")
    eps = [EntryPoint(name="plugin-bad", value="no_such_slicewise_plugin_module:manifest",
                      group=registry.ENTRY_POINT_GROUP),
           EntryPoint(name="plugin-ok", value=str(good), group=registry.ENTRY_POINT_GROUP)]
    _plugins(monkeypatch, eps)
    names = list_models()
    assert "plugin-ok" in names and all(n in names for n in SHIPPED)
    broken = registry.broken_models()
    assert [b.name for b in broken] == ["plugin-bad"]
    assert "no_such_slicewise_plugin_module" in broken[0].error
    assert inference.load_model("plugin-ok", device="cpu").spec.name == "plugin-ok"
    with pytest.raises(ModelLoadError, match="failed to load"):
        load_model("plugin-bad")
    assert {r["name"] for r in describe_models()} >= {"plugin-ok", *SHIPPED}


def test_manifest_that_does_not_parse_is_reported_not_fatal(tiny_model, monkeypatch, tmp_path) -> None:
    good = tiny_model("tumour", name="good-one")
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(good, folder / good.name)
    shutil.copy(good.with_suffix(".safetensors"), folder / good.with_suffix(".safetensors").name)
    (folder / "garbled.json").write_text("{ not json", encoding="utf-8")
    (folder / "partial.json").write_text(json.dumps({"name": "partial"}), encoding="utf-8")
    plugin = tmp_path / "plugin.json"
    plugin.write_text("[]", encoding="utf-8")
    from importlib.metadata import EntryPoint

    _plugins(monkeypatch, [EntryPoint(name="p", value=str(plugin), group=registry.ENTRY_POINT_GROUP)])
    monkeypatch.setattr(registry, "builtin_models_dir", lambda: folder)
    assert list_models() == ["good-one"]
    broken = {b.name: b for b in registry.broken_models()}
    assert set(broken) == {"garbled", "partial", "plugin"}
    assert all(isinstance(b.error, str) and b.error for b in broken.values())
    assert str(folder / "garbled.json") in broken["garbled"].error
    assert load_model("good-one", device="cpu").spec.name == "good-one"


def test_occlusion_refinement_comes_from_the_manifest(tiny_model) -> None:
    """A manifest's ``explain.occlusion.refine`` reaches the occlusion run (a 256 px CT model
    refines adaptively); without it every window of every pass is evaluated."""
    manifest = tiny_model("ct-lesion")
    data = json.loads(manifest.read_text())
    image = np.random.default_rng(0).normal(40, 10, (48, 48)).astype(np.float32)
    for refine in (None, "adaptive"):
        occ = {"passes": [[16, 8], [8, 4]], "blur_sigma": 3.0}
        if refine:
            occ["refine"] = refine
        data["explain"] = {"occlusion": occ}
        manifest.write_text(json.dumps(data))
        clf = load_model("x", device="cpu", manifest_path=str(manifest))
        e = clf.explain(image, "occlusion", target=0, faithfulness=False)
        assert e.options["refine"] == (refine or "full")
        assert np.isfinite(e.map).all()
