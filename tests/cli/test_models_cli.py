"""``slicewise models`` lists a broken model plug-in with its error beside the working models."""
from __future__ import annotations

import json
from importlib.metadata import EntryPoint

import pytest


@pytest.fixture()
def broken_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    from inference import registry

    eps = [EntryPoint(name="plugin-bad", value="no_such_slicewise_plugin_module:manifest",
                      group=registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry.metadata, "entry_points",
                        lambda *, group: eps if group == registry.ENTRY_POINT_GROUP else [])


def test_models_text_lists_the_broken_plugin(broken_plugin, capsys) -> None:
    from viewer.cli.models import run_models

    assert run_models(as_json=False) == 0
    out = capsys.readouterr().out
    assert "tumour" in out
    line = next(x for x in out.splitlines() if x.startswith("plugin-bad"))
    assert "BROKEN" in line and "no_such_slicewise_plugin_module" in line


def test_models_json_keeps_models_and_adds_broken(broken_plugin, capsys) -> None:
    from viewer.cli.models import run_models

    assert run_models(as_json=True) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "tumour" in {m["name"] for m in doc["models"]}
    assert [b["name"] for b in doc["broken"]] == ["plugin-bad"]
