"""The body mask finds the patient on CT and MR phantoms; the share of a map outside it is
measured against maps drawn inside and outside on purpose."""
from __future__ import annotations

import numpy as np

from viewer.core.body import body_mask, fraction_outside


def test_body_mask_on_ct_and_mr_phantoms():
    from inference.phantoms import brain_mr_volume, ct_volume

    ct, _ = ct_volume(seed=3, n_slices=3, size=128, lesion=False)
    mr, _ = brain_mr_volume(seed=3, n_slices=3, size=128, tumour=False)
    for image, modality in ((ct[1], "CT"), (mr[1], "MR")):
        mask = body_mask(image, modality)
        assert 0.2 < mask.mean() < 0.95                  # a body, not the whole frame
        assert not mask[0, 0] and not mask[-1, -1]       # the corners are air
        assert mask[64, 64]                              # the centre is patient


def test_fraction_outside():
    mask = np.zeros((10, 10), bool)
    mask[2:8, 2:8] = True
    inside = np.zeros((10, 10), np.float32)
    inside[4, 4] = 1.0
    outside = np.zeros((10, 10), np.float32)
    outside[0, 0] = 3.0
    assert fraction_outside(inside, mask) == 0.0
    assert fraction_outside(outside, mask) == 1.0
    assert fraction_outside(inside + outside, mask) == 0.75
    assert fraction_outside(np.zeros((10, 10)), mask) is None


def test_overlay_edge_fades_in_above_the_threshold():
    from viewer.core.overlay import OverlayStyle, overlay_rgba

    heat = np.linspace(0.0, 1.0, 256, dtype=np.float32)[None, :]
    alpha = overlay_rgba(heat, OverlayStyle("inferno", 0.8, 0.2))[0, :, 3].astype(int)
    shown = alpha > 0
    first = int(np.argmax(shown))
    assert heat[0, first] >= 0.2 and not shown[:first].any()
    assert alpha[first] < alpha.max() // 2                      # soft at the threshold
    assert alpha.max() == round(0.8 * 255) and np.all(np.diff(alpha[first:]) >= 0)
