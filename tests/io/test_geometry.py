"""Geometry checks on synthetic positions, and orientation letters."""
from __future__ import annotations

import math

import numpy as np
import pytest

from viewer.io import edge_labels
from viewer.io.geometry import analyse_stack, direction_matrix, normal_from_orientation, orientation_label

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def test_uniform_stack_is_ordered_by_position_not_input_order() -> None:
    positions = [(0, 0, 10.0), (0, 0, 0.0), (0, 0, 5.0), (0, 0, 15.0)]
    geo = analyse_stack(positions, AXIAL)
    assert geo.order == (1, 2, 0, 3)
    assert geo.step == pytest.approx(5.0)
    assert geo.warnings == ()
    assert geo.is_volume


def test_missing_slice_warns_with_both_steps() -> None:
    geo = analyse_stack([(0, 0, 0.0), (0, 0, 5.0), (0, 0, 15.0), (0, 0, 20.0)], AXIAL)
    assert geo.step is None
    assert geo.spacing == pytest.approx(5.0)
    assert geo.warnings == ("Uneven slice spacing (5.0 mm and 10.0 mm): a slice may be missing; "
                            "distances along the stack are approximate",)


def test_duplicates_and_too_few() -> None:
    geo = analyse_stack([(0, 0, 1.0)] * 3, AXIAL)
    assert not geo.is_volume
    assert geo.warnings == ("3 images share one position: shown as separate images, "
                            "not a volume",)
    two = analyse_stack([(0, 0, 0.0), (0, 0, 2.0)], AXIAL)
    assert two.warnings == ("Only 2 slices: 3D tools are off",)


def test_tilt_gives_projected_step() -> None:
    tilt = math.radians(20)
    orientation = (1, 0, 0, 0, math.cos(tilt), -math.sin(tilt))
    positions = [(0, 0, 5.0 * k) for k in range(5)]
    geo = analyse_stack(positions, orientation)
    assert geo.step == pytest.approx(5.0 * math.cos(tilt))
    assert geo.tilt_deg == pytest.approx(20.0, abs=0.01)
    assert geo.warnings[0].startswith("Gantry tilt of 20 degrees")


def test_missing_positions_fall_back_to_input_order() -> None:
    geo = analyse_stack([(0, 0, 0.0), None, (0, 0, 2.0)], AXIAL)
    assert geo.order == (0, 1, 2)
    assert "Slice positions are missing" in geo.warnings[0]


@pytest.mark.parametrize("orientation, label", [
    (AXIAL, "axial"), ((1, 0, 0, 0, 0, -1), "coronal"), ((0, 1, 0, 0, 0, -1), "sagittal"),
    ((1, 0, 0, 0, 0.7071, 0.7071), "oblique"),
])
def test_orientation_labels(orientation, label) -> None:
    assert orientation_label(normal_from_orientation(orientation)) == label


def test_edge_labels() -> None:
    assert edge_labels(direction_matrix(AXIAL)) == {
        "left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert edge_labels(direction_matrix((1, 0, 0, 0, 0, -1))) == {
        "left": "R", "right": "L", "top": "S", "bottom": "I"}
    c = math.sqrt(0.5)
    oblique = edge_labels(direction_matrix((c, c, 0, 0, 0, -1)))
    assert oblique["right"] in ("LP", "PL") and oblique["left"] in ("RA", "AR")
    assert edge_labels(np.eye(3))["top"] == "A"
