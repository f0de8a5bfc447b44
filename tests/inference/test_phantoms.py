"""Phantoms: deterministic by seed, ground truth consistent, value ranges right, numpy only."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from inference import phantoms, recipes


def test_brain_slice_deterministic_and_seed_dependent() -> None:
    a = phantoms.brain_slice(7, 96, tumour=True)
    b = phantoms.brain_slice(7, 96, tumour=True)
    c = phantoms.brain_slice(8, 96, tumour=True)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, c.image)
    assert a.image.dtype == np.float32 and a.mask.dtype == bool


def test_tumour_mask_present_only_with_tumour() -> None:
    for seed in range(6):
        pos = phantoms.brain_slice(seed, (120, 90), tumour=True)
        neg = phantoms.brain_slice(seed, (120, 90), tumour=False)
        assert pos.tumour and pos.mask.sum() > 20 and pos.image.shape == (120, 90)
        assert not neg.tumour and not neg.mask.any()


def test_contrasts_differ_as_physics_says() -> None:
    """CSF dark on T1 and FLAIR, bright on T2; WM brighter than GM on T1 only; the rim enhances."""
    from inference.phantoms.brain import _TISSUE

    t1, t2, fl = _TISSUE["T1"], _TISSUE["T2"], _TISSUE["T2-FLAIR"]
    assert t1["wm"] > t1["gm"] > t1["csf"] and t2["csf"] > t2["gm"] > t2["wm"]
    assert fl["csf"] < fl["wm"] < fl["oedema"]
    # same seed -> same anatomy and scaling in every contrast: compare pixel-wise
    pre = phantoms.brain_slice(3, 128, tumour=True, contrast="T1")
    post = phantoms.brain_slice(3, 128, tumour=True, contrast="T1 post-contrast")
    np.testing.assert_array_equal(pre.mask, post.mask)
    assert np.percentile(post.image[post.mask], 90) > 1.4 * np.percentile(pre.image[pre.mask], 90)
    with pytest.raises(ValueError, match="contrast"):
        phantoms.brain_slice(0, 64, contrast="DWI")


def test_ct_slice_in_hounsfield_units() -> None:
    s = phantoms.ct_slice(4, 128, lesion=True)
    assert s.image.min() < -900                     # air
    assert s.image.max() > 500                      # bone
    assert s.lesion and s.mask.any()
    assert np.median(s.image[s.mask]) < 45           # hypodense lesion


def test_volumes_signatures_and_types() -> None:
    vol, mask = phantoms.brain_mr_volume(seed=1, n_slices=6, size=64, tumour=True, contrast="T2")
    assert vol.shape == (6, 64, 64) and vol.dtype == np.float32 and mask.dtype == bool
    assert mask.any() and 0 <= vol.min() and vol.max() < 2500
    vol2, _ = phantoms.brain_mr_volume(seed=1, n_slices=6, size=64, tumour=True, contrast="T2")
    np.testing.assert_array_equal(vol, vol2)
    ct, cmask = phantoms.ct_volume(seed=2, n_slices=5, size=64, lesion=True)
    assert ct.shape == (5, 64, 64) and ct.dtype == np.float32 and ct.min() <= -1000 + 60
    assert cmask.any()
    _, none = phantoms.ct_volume(seed=2, n_slices=5, size=64, lesion=False)
    assert not none.any()


def test_knee_exam_labels_and_locations() -> None:
    images, labels = phantoms.knee_exam(3, size=48, acl=True, meniscus=False)
    assert set(images) == {"sagittal", "coronal", "axial"}
    assert labels["ACL tear"] and labels["abnormal"] and not labels["meniscal tear"]
    for plane, stack in images.items():
        assert stack.ndim == 3 and stack.shape[1:] == (48, 48) and stack.dtype == np.float32
        assert labels["masks"]["ACL tear"][plane].shape == stack.shape
    assert labels["masks"]["ACL tear"]["sagittal"].any()
    assert not labels["masks"]["meniscal tear"]["sagittal"].any()
    again, _ = phantoms.knee_exam(3, size=48, acl=True, meniscus=False)
    np.testing.assert_array_equal(images["axial"], again["axial"])
    with pytest.raises(ValueError):
        phantoms.knee_exam(3, size=48, abnormal=False, acl=True)


def test_seed_ranges_are_disjoint() -> None:
    assert recipes.VAL_SEED_START + 500_000 <= recipes.HELD_OUT_SEED_START


def test_importing_phantoms_does_not_import_torch() -> None:
    code = ("import sys, inference.phantoms as p; p.brain_mr_volume(n_slices=2, size=32); "
            "print('torch' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_varied_lesions_span_kinds_sizes_and_both_directions_of_contrast() -> None:
    """Training lesions ("varied") are hypo- and hyperintense against the brain around them,
    small and large, and a "varied" negative holds no lesion-sized distractor; the sample study's
    ring style stays as it was (same pixels with or without the new options)."""
    from inference.phantoms.brain import _look
    from inference.phantoms.shapes import ring_around, sub_rng

    kinds = {_look(sub_rng(s, 5)).kind for s in range(40)}
    assert kinds == {"homogeneous", "ring", "cystic", "infiltrative"}
    signs, areas = set(), []
    for seed in range(1, 60, 2):
        s = phantoms.brain_slice(seed, 128, tumour=True, style="varied")
        assert s.tumour and s.mask.any()
        inside = float(np.mean(s.image[s.mask]))
        around = float(np.mean(s.image[ring_around(s.mask, 3)]))
        signs.add(inside > around)
        areas.append(int(s.mask.sum()))
    assert signs == {True, False}
    assert min(areas) < 40 and max(areas) > 400          # about 6 mm to 40 mm across
    np.testing.assert_array_equal(phantoms.brain_slice(7, 96, tumour=True).image,
                                  phantoms.brain_slice(7, 96, tumour=True, style="ring").image)
    with pytest.raises(ValueError, match="style"):
        phantoms.brain_slice(0, 64, style="cartoon")


def test_slices_say_what_their_lesion_looks_like() -> None:
    """Each phantom's ``look`` (for subgroup figures) names the kind it drew; brain lesions other
    than cysts also give their core's signal over grey matter's; healthy slices have none."""
    from inference.phantoms.brain import _look
    from inference.phantoms.ct import _look as ct_look
    from inference.phantoms.shapes import sub_rng

    for seed in range(1, 30, 2):
        s = phantoms.brain_slice(seed, 64, tumour=True, style="varied")
        assert s.look["kind"] == _look(sub_rng(seed, 5)).kind
        ratio = s.look.get("core_vs_grey_matter")
        assert (ratio is None) == (s.look["kind"] == "cystic") and (ratio is None or 0.1 < ratio < 4)
        c = phantoms.ct_slice(seed, 64, lesion=True, style="varied")
        assert c.look is None if not c.mask.any() else c.look == {"kind": ct_look(sub_rng(seed, 14)).kind}
    assert phantoms.brain_slice(2, 64, tumour=False, style="varied").look is None
    assert phantoms.brain_slice(1, 64, tumour=True).look["kind"] == "ring"
    assert recipes.phantom_sample("tumour", 3, 64, generator="varied").look is not None
    assert recipes.phantom_sample("ct-lesion", 2, 64, generator="varied").look is None


def test_varied_ct_lesions_are_hypo_and_hyperdense() -> None:
    from inference.phantoms.shapes import ring_around

    signs = set()
    for seed in range(1, 80, 2):
        s = phantoms.ct_slice(seed, 128, lesion=True, style="varied")
        if s.mask.sum() < 10:
            continue
        signs.add(float(np.median(s.image[s.mask])) > float(np.median(s.image[ring_around(s.mask, 3)])))
    assert signs == {True, False}
    a = phantoms.ct_slice(4, 128, lesion=True)
    np.testing.assert_array_equal(a.image, phantoms.ct_slice(4, 128, lesion=True, style="classic").image)


def test_generators_name_which_style_a_sample_comes_from() -> None:
    """"varied" draws brain.py / ct.py "varied" slices; each shipped model's default generator is
    the one its weights were trained on (ct-lesion and tumour: varied)."""
    from inference import recipes

    assert recipes.DEFAULT_GENERATOR["ct-lesion"] == "varied"
    assert recipes.DEFAULT_GENERATOR["tumour"] == "varied"
    a = recipes.phantom_sample("ct-lesion", 11, 96, vary_shape=False)
    b = phantoms.ct_slice(11, (96, 96), lesion=True, style="varied")
    np.testing.assert_array_equal(a.image, b.image)
    c = recipes.phantom_sample("tumour", 11, 96, vary_shape=False)
    d = recipes.phantom_sample("tumour", 11, 96, vary_shape=False, generator="classic")
    np.testing.assert_array_equal(d.image, phantoms.brain_slice(11, (96, 96), tumour=True).image)
    assert any(np.array_equal(c.image, phantoms.brain_slice(11, (96, 96), tumour=True, contrast=k,
                                                            style="varied").image)
               for k in phantoms.CONTRASTS)
    assert d.image.shape == (96, 96) and not np.array_equal(c.image, d.image)


def test_regions_of_evidence_hold_the_lesions_and_lie_in_the_body() -> None:
    """Training phantoms carry the region a finding's evidence may come from (inside the skull;
    the body in CT) for ``--focus``: every lesion lies in it, and it lies in the body."""
    for seed in range(1, 30, 2):
        b = phantoms.brain_slice(seed, 128, tumour=True, style="varied")
        assert b.intracranial is not None and b.body is not None
        assert not (b.mask & ~b.intracranial).any()
        assert not (b.intracranial & ~b.body).any() and (b.body & ~b.intracranial).any()
        c = phantoms.ct_slice(seed, 128, lesion=True, style="varied")
        assert c.body is not None and not (c.mask & ~c.body).any()


def test_varied_livers_vary_around_the_finding() -> None:
    """"varied" livers are lobulated, with left lobes of any size, and bowel beside them may hold
    positive oral contrast: what lies around a finding is no evidence of it."""
    from inference.phantoms.ct import _outline
    from inference.phantoms.shapes import sub_rng

    outlines = [_outline(sub_rng(s, 16)) for s in range(60)]
    assert {o.left is None for o in outlines} == {True, False}
    assert {o.oral > 0 for o in outlines} == {True, False}
    assert max(o.wobble for o in outlines) > 0.1 and {len(o.bulges) for o in outlines} >= {0, 3}


def test_varied_head_draws_scalp_skull_and_outline_freely() -> None:
    """``--generator varied-head`` (tumour): scalp and skull thickness, brightness, marrow and the
    head outline vary; plain "varied" slices keep the fixed thin scalp."""
    from inference import recipes
    from inference.phantoms.brain import _folds
    from inference.phantoms.shapes import sub_rng

    scalps = [_folds(sub_rng(s, 8), free_head=True).scalp for s in range(60)]
    assert all(sc is not None for sc in scalps) and _folds(sub_rng(0, 8)).scalp is None
    thick = [sc.scalp + sc.skull for sc in scalps]
    assert min(thick) < 0.09 and max(thick) > 0.17
    assert {sc.marrow > 0 for sc in scalps} == {True, False}
    bands = [float(b.body.mean() - b.intracranial.mean()) for b in
             (phantoms.brain_slice(s, 128, style="varied", free_head=True) for s in range(20))]
    assert max(bands) > 2 * min(bands)          # the band outside the skull varies in width
    plain = recipes.phantom_sample("tumour", 11, 96, generator="varied")
    free = recipes.phantom_sample("tumour", 11, 96, generator="varied-head")
    assert plain.image.shape == free.image.shape and not np.array_equal(plain.image, free.image)
    assert not (free.mask & ~free.region).any()


def test_varied_anatomy_folds_the_brain_and_widens_its_grey_levels() -> None:
    """``--generator varied-anatomy`` (tumour): every slice has a folded grey/white boundary and
    tissue grey levels over ``ANATOMY_GAIN``; lesions stay inside the skull, labels stay balanced
    and each seed draws the same slice twice; "varied-head" slices are not changed by it."""
    from inference import recipes
    from inference.phantoms import brain

    folds = [brain._folds(brain.sh.sub_rng(s, 8)) for s in range(5)]
    assert all(f.gyri is None for f in folds)       # plain varied / varied-head: no extra folds
    gyri = [brain._gyri(brain.sh.sub_rng(s, 18)) for s in range(40)]
    assert all(3 <= len(g.harmonics) for g in gyri)
    assert {kind for g in gyri for *_, kind in g.lines} == {"vessel", "csf"}
    samples = [recipes.phantom_sample("tumour", s, 96, generator="varied-anatomy") for s in range(12)]
    assert [int(s.target) for s in samples] == [s % 2 for s in range(12)]
    for s in samples:
        assert not (s.mask & ~s.region).any()
    again = recipes.phantom_sample("tumour", 5, 96, generator="varied-anatomy")
    assert np.array_equal(again.image, samples[5].image)
    head = recipes.phantom_sample("tumour", 5, 96, generator="varied-head")
    assert head.image.shape == again.image.shape and not np.array_equal(head.image, again.image)
    # the folds change the brain of a seed, not its head
    plain = brain.brain_slice(4, 128, tumour=False, contrast="T1", style="varied", free_head=True)
    folded = brain.brain_slice(4, 128, tumour=False, contrast="T1", style="varied", anatomy=True)
    assert not np.array_equal(plain.image, folded.image)
    assert np.array_equal(plain.body, folded.body)     # the head itself is the seed's own


def test_varied_small_changes_only_the_lesion_size() -> None:
    """``--generator varied-small`` (ct-lesion): the varied slice of the same seed with the lesion
    radius drawn log-uniformly from 3 mm, so small lesions are common instead of absent."""
    from inference import recipes

    def across(s: object) -> float:
        m = np.asarray(s.mask)
        return 2 * float(np.sqrt(m.sum() / np.pi)) / max(m.shape)

    plain, small = [], []
    for seed in range(1, 80, 2):
        a = recipes.phantom_sample("ct-lesion", seed, 96, generator="varied")
        b = recipes.phantom_sample("ct-lesion", seed, 96, generator="varied-small")
        assert np.array_equal(a.region, b.region) and int(a.target) == int(b.target) == 1
        assert not (b.mask & ~b.region).any()
        plain.append(across(a))
        small.append(across(b))
    plain_a, small_a = np.array(plain), np.array(small)
    assert (plain_a < 0.03).mean() < 0.05 and (small_a < 0.03).mean() > 0.15
    assert small_a.max() > 0.08             # large lesions are still drawn
    negative = recipes.phantom_sample("ct-lesion", 4, 96, generator="varied-small")
    plain_negative = recipes.phantom_sample("ct-lesion", 4, 96, generator="varied")
    assert np.array_equal(negative.image, plain_negative.image)


def test_varied_kidneys_moves_only_the_kidneys() -> None:
    """``--generator varied-kidneys`` (ct-lesion): the "varied-small" slice of the same seed with
    the kidneys drawn freely; lesion, body and label stay, and the image changes only locally."""
    from inference.phantoms import ct

    moved = 0
    for seed in range(0, 30):
        a = recipes.phantom_sample("ct-lesion", seed, 96, generator="varied-small")
        b = recipes.phantom_sample("ct-lesion", seed, 96, generator="varied-kidneys")
        assert np.array_equal(a.mask, b.mask) and np.array_equal(a.region, b.region)
        assert int(a.target) == int(b.target) and a.look == b.look
        changed = np.abs(a.image - b.image) > 5
        moved += bool(changed.any())
        assert changed.sum() < 0.15 * a.region.sum()
    assert moved >= 27
    kidneys = [ct._kidneys(np.random.default_rng(i)) for i in range(400)]
    right = [k[0] for k in kidneys if k[0] is not None]
    left = [k[1] for k in kidneys if k[1] is not None]
    assert 0.75 < (len(right) + len(left)) / 800 < 0.95           # absent at some levels
    assert all(k.x < 0 for k in right) and all(k.x > 0 for k in left)
    assert 0.35 < np.mean([k.behind_liver for k in right]) < 0.65 and not any(k.behind_liver for k in left)
    cortex = np.array([k.cortex for k in right + left])
    assert cortex.min() < 45 and cortex.max() > 200                # unenhanced to arterial phase


def test_varied_iso_draws_isointense_tumours_and_leaves_the_rest_of_the_slice() -> None:
    """``--generator varied-iso`` (tumour): a share of the tumours homogeneous, grey-matter
    isointense and without oedema; every other slice is the varied one, pixel for pixel, and an
    isointense tumour changes the anatomy only where the tumour and its oedema were."""
    from scipy import ndimage as ndi

    from inference.phantoms.shapes import ring_around

    iso = 0
    for seed in range(1, 60, 2):
        a = recipes.phantom_sample("tumour", seed, 96, generator="varied")
        b = recipes.phantom_sample("tumour", seed, 96, generator="varied-iso")
        assert np.array_equal(a.mask, b.mask)
        if b.look == {"kind": "homogeneous", "oedema": False, "core_vs_grey_matter": 1.0}:
            iso += 1
            near = ndi.binary_dilation(a.mask, iterations=12)       # the tumour and any oedema
            # the same anatomy elsewhere (the noise is drawn afresh: compare the smoothed slices)
            diff = np.abs(ndi.gaussian_filter(a.image, 2) - ndi.gaussian_filter(b.image, 2))[~near]
            assert diff.mean() < 0.03 * np.percentile(a.image, 99)
            inside, around = np.median(b.image[b.mask]), np.median(b.image[ring_around(b.mask, 2)])
            assert inside != np.median(a.image[a.mask]) and 0.4 < inside / around < 2.5
        else:
            assert np.array_equal(a.image, b.image) and a.look == b.look
    assert 4 <= iso <= 16                                           # about 30 % of 30 tumours


def test_varied_looks_draw_core_and_rim_levels_independently() -> None:
    """``--generator varied-looks``: rims darker than the core as well as brighter (brain and
    liver), rims of any width, and the healthy slices unchanged."""
    from inference.phantoms.brain import _factor
    from inference.phantoms.ct import _look as ct_look
    from inference.phantoms.shapes import sub_rng

    brain_rims, liver_rims = set(), set()
    for seed in range(1, 120, 2):
        s = phantoms.brain_slice(seed, 64, tumour=True, style="varied", free_looks=True)
        frng = sub_rng(seed, 20)
        core, rim = _factor(frng), _factor(frng)
        if s.look["kind"] == "ring":
            brain_rims.add(rim > core)
            assert s.look["core_vs_grey_matter"] > 0
        if ct_look(sub_rng(seed, 14)).kind == "rim":
            r = sub_rng(seed, 21)
            offset = r.uniform(15, 70) * (1 if r.random() < 0.5 else -1)
            rim_hu = r.uniform(15, 70) * (1 if r.random() < 0.5 else -1)
            liver_rims.add(rim_hu > offset)
    assert brain_rims == {True, False} and liver_rims == {True, False}
    for task in ("tumour", "ct-lesion"):
        a = recipes.phantom_sample(task, 4, 64, generator="varied")
        b = recipes.phantom_sample(task, 4, 64, generator="varied-looks")
        assert int(a.target) == 0 and np.array_equal(a.image, b.image)


def test_varied_faint_draws_tumours_a_few_percent_from_white_matter() -> None:
    """tumour ``--generator varied-faint``: a faint tumour's core lies 8-25 % above or below white
    matter (hypo and hyper both drawn), where the varied generator keeps at least 20 %; the slice
    is otherwise the varied-head one, and healthy slices are unchanged."""
    from inference.phantoms.brain import FAINT_STEP, _look
    from inference.phantoms.shapes import sub_rng

    steps = []
    for seed in range(1, 160, 2):
        faint = phantoms.brain_slice(seed, 64, tumour=True, style="varied", free_head=True, faint_share=1.0)
        plain = phantoms.brain_slice(seed, 64, tumour=True, style="varied", free_head=True)
        if "core_vs_grey_matter" in plain.look:   # the core against white matter (x tissue gains)
            core = _look(sub_rng(seed, 5)).core
            steps.append(core * faint.look["core_vs_grey_matter"] / plain.look["core_vs_grey_matter"] - 1)
    assert len(steps) > 20
    assert all(FAINT_STEP[0] - 1e-6 <= abs(d) <= FAINT_STEP[1] + 1e-6 for d in steps)
    assert min(steps) < 0 < max(steps)
    a = recipes.phantom_sample("tumour", 4, 64, generator="varied-head")
    b = recipes.phantom_sample("tumour", 4, 64, generator="varied-faint")
    assert int(a.target) == 0 and np.array_equal(a.image, b.image)


def test_varied_faint_draws_liver_lesions_a_few_hu_from_the_liver() -> None:
    """ct-lesion ``varied-faint``: a faint homogeneous lesion's core lies 5-15 HU above or below
    the liver around it (the varied generator keeps 15-70 HU); otherwise the slice is the
    varied-kidneys one."""
    from scipy import ndimage as ndi

    from inference.phantoms.ct import FAINT_HU

    steps = []
    for seed in range(1, 200, 2):
        c = phantoms.ct_slice(seed, 128, lesion=True, style="varied", small_lesions=True, free_kidneys=True,
                              faint_share=1.0)
        if c.look["kind"] != "homogeneous" or c.mask.sum() < 30:
            continue
        inner = ndi.binary_erosion(c.mask, iterations=2)
        ring = ndi.binary_dilation(c.mask, iterations=4) & ~ndi.binary_dilation(c.mask, iterations=1)
        liver = ring & (np.abs(c.image - np.median(c.image[ring])) < 40)
        if inner.sum() >= 5 and liver.sum() >= 20:
            steps.append(float(np.median(c.image[inner]) - np.median(c.image[liver])))
    assert len(steps) >= 5
    assert all(FAINT_HU[0] - 8 <= abs(d) <= FAINT_HU[1] + 8 for d in steps), steps   # noise, texture
    assert min(steps) < 0 < max(steps)
    a = recipes.phantom_sample("ct-lesion", 4, 64, generator="varied-kidneys")
    b = recipes.phantom_sample("ct-lesion", 4, 64, generator="varied-faint")
    assert int(a.target) == 0 and np.array_equal(a.image, b.image)
