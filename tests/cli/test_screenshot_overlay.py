"""Headless screenshots with a classifier overlay (``render_to_png(model=..., overlay=...)``)."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from tests.modules.ai.support import brain_volume, use_demo_models

pytestmark = pytest.mark.gui


def test_render_with_overlays(tmp_path, monkeypatch, qapp):
    use_demo_models(monkeypatch)
    from viewer.cli.render import render_to_png

    vol = brain_volume(n=4, size=64)
    plain = render_to_png(vol, tmp_path / "plain.png", slice_index=2, size=(300, 300))
    cam = render_to_png(vol, tmp_path / "cam.png", slice_index=2, size=(300, 300), model="tumour",
                        overlay="gradcam", opacity=0.8, colormap="jet", target="tumour")
    both = render_to_png(vol, tmp_path / "both.png", slice_index=2, size=(300, 300),
                         model="tumour", overlay="both", opacity=0.8)
    a, b, c = QImage(str(plain)), QImage(str(cam)), QImage(str(both))
    assert a.size() == b.size() and c.width() == 2 * a.width()
    assert a != b  # the map is drawn
    with pytest.raises(ValueError, match="overlay"):
        render_to_png(vol, tmp_path / "x.png", model="tumour", overlay="saliency")
    with pytest.raises(ValueError, match="colormap"):
        render_to_png(vol, tmp_path / "x.png", model="tumour", colormap="rainbow")


def test_screenshot_command_with_hirescam_overlay(tmp_path, monkeypatch, qapp):
    use_demo_models(monkeypatch)
    from viewer.cli.main import build_parser, run
    from viewer.io import write_series

    vol = brain_volume(n=4, size=64)
    write_series(tmp_path / "s", vol.voxels, spacing=vol.spacing, modality="MR",
                 series_description="Brain MR axial")
    args = build_parser().parse_args(["screenshot", str(tmp_path / "s"), "--out", "x.png",
                                      "--model", "tumour", "--overlay", "hirescam"])
    assert args.overlay == "hirescam"
    assert run(["screenshot", str(tmp_path / "s"), "--out", str(tmp_path / "hires.png"),
                "--model", "tumour", "--overlay", "hirescam", "--slice", "3",
                "--size", "200x200"]) == 0
    assert run(["screenshot", str(tmp_path / "s"), "--out", str(tmp_path / "plain.png"),
                "--slice", "3", "--size", "200x200"]) == 0
    a, b = QImage(str(tmp_path / "plain.png")), QImage(str(tmp_path / "hires.png"))
    assert a.size() == b.size() and a != b          # the HiResCAM map is drawn
