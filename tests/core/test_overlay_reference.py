"""The overlay rule with a map's reference (``viewer.core.overlay``): a map weaker than its
reference is drawn faint, a stronger one as before, and every reader of the rule (colours,
colour-bar range, normalised map volume, composed PNG) agrees."""
from __future__ import annotations

import numpy as np

from viewer.core.overlay import (
    LUT_SIZE,
    OverlayStyle,
    compose,
    display_range,
    lookup_table,
    normalise_map,
    overlay_rgba,
)


def _ramp() -> np.ndarray:
    heat = np.zeros((8, 16), np.float32)
    heat[:, :] = np.linspace(0.0, 2.0, 16, dtype=np.float32)     # maximum 2.0
    return heat


def test_weaker_than_reference_is_drawn_faint() -> None:
    heat, style = _ramp(), OverlayStyle("inferno", 0.5, 0.2)
    own = overlay_rgba(heat, style)
    faint = overlay_rgba(heat, style, reference=8.0)               # evidence 1/4 of the reference
    assert display_range(heat, 0.2) == (0.2 * 2.0, 2.0)
    assert display_range(heat, 0.2, 8.0) == (0.2 * 8.0, 8.0)
    np.testing.assert_allclose(normalise_map(heat, 8.0), heat / 8.0)
    # only values above 0.2 x 8 = 1.6 are shown, in the colormap's lower quarter
    shown = faint[..., 3] > 0
    np.testing.assert_array_equal(shown, heat >= 1.6)
    top_colour = lookup_table("inferno")[round((2.0 / 8.0 - 0.2) / 0.8 * LUT_SIZE)]   # entry 16
    np.testing.assert_array_equal(faint[0, -1, :3], top_colour)
    assert own[0, -1, :3].tolist() == lookup_table("inferno")[-1].tolist()   # own scale: full colour
    assert shown.sum() < (own[..., 3] > 0).sum()


def test_stronger_than_reference_and_no_evidence_unchanged() -> None:
    heat, style = _ramp(), OverlayStyle("jet", 0.7, 0.3)
    np.testing.assert_array_equal(overlay_rgba(heat, style, reference=0.5), overlay_rgba(heat, style))
    assert display_range(heat, 0.3, 0.5) == display_range(heat, 0.3)
    empty = np.zeros((4, 4), np.float32) - 1.0
    assert not overlay_rgba(empty, style, reference=1.0)[..., 3].any()
    assert display_range(empty, 0.3, 1.0) is None
    for bad in (None, float("nan"), 0.0, -1.0):                    # unusable reference: own scale
        np.testing.assert_array_equal(overlay_rgba(heat, style, reference=bad),
                                      overlay_rgba(heat, style))


def test_compose_and_a_normalised_volume_slice_give_the_same_pixels() -> None:
    heat, style = _ramp(), OverlayStyle("hot", 0.6, 0.2)
    image = np.full(heat.shape, 100.0, np.float32)
    direct = compose(image, (100.0, 200.0), heat, style, reference=8.0)
    via_volume = compose(image, (100.0, 200.0), normalise_map(heat, 8.0), style, normalised=True)
    np.testing.assert_array_equal(direct, via_volume)


def test_map_strength_is_the_maximum_against_the_reference() -> None:
    from viewer.core.overlay import map_strength

    heat = _ramp()                                                  # maximum 2.0
    assert map_strength(heat, 8.0) == 0.25 and map_strength(heat, 1.0) == 2.0
    assert map_strength(np.full((3, 3), -1.0, np.float32), 8.0) == 0.0   # no positive evidence
    nan_heat = heat.copy()
    nan_heat[0, 0] = np.nan
    assert map_strength(nan_heat, 8.0) == 0.25                     # unknown pixels ignored
    for bad in (None, float("nan"), 0.0, -1.0):                    # no usable reference
        assert map_strength(heat, bad) is None
