"""Measurement geometry and statistics, session files (no Qt)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from viewer.core.measurements import (
    Measurement,
    angle_deg,
    ellipse_mask,
    ellipse_stats,
    ruler_length,
    window_from_region,
)
from viewer.core.session_file import Session, SessionFileError, load_session, save_session, session_path
from viewer.io.records import Volume


def test_ruler_across_phantom_of_known_size_reads_mm_from_spacing():
    # a 40-pixel-wide block at 0.7 mm columns on an oblique volume: edge centres 39 px apart
    vox = np.zeros((5, 60, 80), np.float32)
    vox[:, 20:40, 10:50] = 100.0
    direction = np.array([[0.8, -0.6, 0], [0.6, 0.8, 0], [0, 0, 1.0]])
    vol = Volume(vox, (2.0, 0.5, 0.7), (10.0, 20.0, 30.0), direction, "CT", "x")
    a = vol.index_to_patient(2, 30, 10)
    b = vol.index_to_patient(2, 30, 49)
    assert ruler_length(a, b) == pytest.approx(39 * 0.7)
    # across slices the distance is 3D: 3 slices of 2 mm and 4 rows of 0.5 mm
    c = vol.index_to_patient(5, 34, 10)
    assert ruler_length(a, c) == pytest.approx(math.hypot(6.0, 2.0))
    m = Measurement(1, "ruler", (tuple(a), tuple(b)))
    assert m.text() == "27.3 mm"


def test_angle():
    assert angle_deg((1, 0, 0), (0, 0, 0), (0, 1, 0)) == pytest.approx(90.0)
    assert angle_deg((1, 0, 0), (0, 0, 0), (1, 1, 0)) == pytest.approx(45.0)
    assert angle_deg((1, 0, 0), (0, 0, 0), (0, 0, 0)) == 0.0
    m = Measurement(2, "angle", ((10, 0, 0), (0, 0, 0), (-10, 0.0, 0)))
    assert m.text() == "180.0°"


def test_ellipse_stats_on_known_regions():
    img = np.full((50, 60), -1000.0, np.float32)
    img[10:40, 10:50] = 40.0
    img[25, 30] = 60.0
    # circle of radius 8 mm at 0.5 mm pixels inside the 40 HU block
    s = ellipse_stats(img, 0.25, 0.25, 0.5, 0.5, (15.25, 12.75), (4.0, 4.0), "HU")
    assert s.area_mm2 == pytest.approx(math.pi * 16)
    assert s.n_pixels == pytest.approx(math.pi * 64, rel=0.05)  # ~ area / pixel area
    assert s.maximum == 60.0 and s.minimum == 40.0 and s.unit == "HU"
    assert s.mean == pytest.approx((40.0 * (s.n_pixels - 1) + 60.0) / s.n_pixels)
    expected_sd = np.std([40.0] * (s.n_pixels - 1) + [60.0], ddof=1)
    assert s.sd == pytest.approx(expected_sd)
    mask = ellipse_mask((5, 5), 0, 0, 1, 1, (2, 2), (1.0, 2.0))
    assert mask.sum() == 7 and mask[0, 2] and mask[4, 2] and not mask[2, 0]
    empty = ellipse_stats(img, 0, 0, 1, 1, (-100, -100), (2, 2))
    assert empty.n_pixels == 0 and math.isnan(empty.mean)


def test_measurement_validation_and_json_roundtrip():
    with pytest.raises(ValueError, match="needs 2 points"):
        Measurement(1, "ruler", ((0, 0, 0),))
    with pytest.raises(ValueError, match="unknown"):
        Measurement(1, "polygon", ())
    m = Measurement(3, "ellipse", ((0, 0, 0), (3, 0, 0), (0, 2, 0)), "coronal", "cyst")
    assert m.value == pytest.approx(math.pi * 6)
    again = Measurement.from_json(json.loads(json.dumps(m.to_json())))
    assert again == m
    assert m.moved([(1, 1, 1), (4, 1, 1), (1, 3, 1)]).points[0] == (1.0, 1.0, 1.0)


def test_window_from_region():
    c, w = window_from_region(np.linspace(0, 100, 1001))
    assert c == pytest.approx(50.0) and w == pytest.approx(98.0)
    with pytest.raises(ValueError):
        window_from_region(np.array([np.nan]))


def test_session_file_roundtrip_and_damage(tmp_path):
    m = Measurement(1, "ruler", ((0, 0, 0), (3, 4, 0)), "axial", "width")
    s = Session("1.2.3", "1.2.3.4", (m,), "2x2", (1.0, 2.0, 3.0), (40.0, 400.0))
    path = save_session(s, tmp_path)
    assert path == session_path("1.2.3", "1.2.3.4", tmp_path)
    assert path.parent.name == "1.2.3" and path.name == "1.2.3.4.json"
    loaded = load_session("1.2.3", "1.2.3.4", tmp_path)
    assert loaded == s and loaded.measurements[0].value == pytest.approx(5.0)
    assert load_session("1.2.3", "other", tmp_path) is None
    path.write_text("{not json")
    with pytest.raises(SessionFileError, match="could not be read"):
        load_session("1.2.3", "1.2.3.4", tmp_path)
    save_session(Session("1.2.3", "1.2.3.4"), tmp_path)   # nothing left to keep: file removed
    assert not path.exists()
    assert session_path("", "a/b", tmp_path).parent.name == "no-study"
