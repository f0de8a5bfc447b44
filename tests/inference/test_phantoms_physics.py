"""Physics phantoms: signal equations behave as MR physics says, anatomy where it belongs,
deterministic by seed, masks consistent, CT in Hounsfield units."""
from __future__ import annotations

import numpy as np
import pytest

from inference.phantoms import head3d
from inference.phantoms import mr_physics as mp
from inference.phantoms.ct_sim import ct_sim_slice
from inference.phantoms.mr_sim import mr_slice
from inference.phantoms.training_data import physics_sample

# Published 3 T values (Stanisz 2005; Wansapura 1999): T1, T2 in ms, PD.
WM, GM, CSF, FAT = (830, 80, 0.7), (1330, 110, 0.82), (4000, 2000, 1.0), (380, 133, 0.95)


def _s(seq: mp.Sequence, tissue: tuple[float, float, float]) -> float:
    t1, t2, pd = (np.array([v], float) for v in tissue)
    return float(mp.signal(seq, t1, t2, pd)[0])


def test_t1_weighting_orders_fat_wm_gm_csf() -> None:
    for seq in (mp.Sequence("SE", 500, 12), mp.Sequence("GRE", 250, 3, flip=70),
                mp.Sequence("GRE", 15, 3, flip=25), mp.Sequence("IR-GRE", 2000, 3, ti=900)):
        assert _s(seq, FAT) > _s(seq, WM) > _s(seq, GM) > _s(seq, CSF), seq


def test_t2_weighting_orders_csf_gm_wm() -> None:
    seq = mp.Sequence("SE", 5000, 100)
    assert _s(seq, CSF) > _s(seq, GM) > _s(seq, WM)


def test_flair_inversion_time_nulls_csf() -> None:
    # TI_null = T1 ln(2 / (1 + exp(-TR/T1))): about 2370 ms for T1 4000 ms, TR 9000 ms
    ti = mp.flair_null_ti(4000.0, 9000.0)
    assert 2300 < ti < 2450
    seq = mp.Sequence("FLAIR", 9000, 110, ti=ti)
    assert _s(seq, CSF) < 0.02 * _s(seq, GM)
    assert _s(seq, GM) > _s(seq, WM)


def test_gadolinium_shortens_t1_and_brightens_t1_weighted_signal() -> None:
    rng = np.random.default_rng(0)
    tab = mp.tissue_table("3", rng, jitter=0.0)
    post = mp.add_gadolinium(tab, rng)
    v = mp.T["vessel"]
    assert post[v, 0] < 0.5 * tab[v, 0]
    np.testing.assert_array_equal(post[mp.T["csf"]], tab[mp.T["csf"]])   # no enhancement in CSF
    seq = mp.Sequence("SE", 500, 12)
    assert _s(seq, tuple(post[v])) > 1.5 * _s(seq, tuple(tab[v]))


def test_field_strength_lengthens_t1() -> None:
    rng = np.random.default_rng(0)
    t15, t3 = mp.tissue_table("1.5", rng, 0.0), mp.tissue_table("3", rng, 0.0)
    for name in ("wm", "gm", "fat", "muscle"):
        assert t3[mp.T[name], 0] > t15[mp.T[name], 0], name
    assert t3[mp.T["wm"], 0] == pytest.approx(830) and t3[mp.T["gm"], 0] == pytest.approx(1330)


def test_head_model_puts_tissues_where_anatomy_has_them() -> None:
    anat = head3d.random_anatomy(np.random.default_rng(3), lesion=False)
    anat = head3d.Anatomy(**{**anat.__dict__, "scale": (1.0, 1.0, 1.0), "vessels": (),
                             "pvs": np.zeros((0, 4), np.float32)})
    pts = np.array([[0, 0, 3.0],            # far above the head
                    [0.28, -0.74, -0.2],     # centre of an eye
                    [0.08 * max(anat.vent, 0.8), 0.02, 0.14],   # lateral ventricle
                    [0.0, 0.0, 0.35],        # deep white matter... or the falx region
                    [0, -0.62, -0.45]], np.float32)   # maxillary sinus air
    lab, _ = head3d.labels(pts, anat)
    assert lab[0] == mp.T["air"]
    assert lab[1] == mp.T["vitreous"]
    assert lab[2] in (mp.T["csf"], mp.T["choroid"])
    assert lab[4] == mp.T["air"]


@pytest.mark.parametrize("plane", ["axial", "coronal", "sagittal"])
def test_mr_slice_deterministic_with_consistent_masks(plane: str) -> None:
    a = mr_slice(11, (80, 96), "T2", lesion=True, plane=plane)
    b = mr_slice(11, (80, 96), "T2", lesion=True, plane=plane)
    np.testing.assert_array_equal(a.image, b.image)
    assert a.image.shape == (80, 96) and a.image.dtype == np.float32 and a.image.min() >= 0
    assert a.plane == plane and a.lesion == bool(a.mask.any())
    assert (a.mask & ~a.body).sum() == 0
    assert 0.1 < a.body.mean() < 1.0
    healthy = mr_slice(11, (80, 96), "T2", lesion=False, plane=plane)
    assert not healthy.lesion and not healthy.mask.any()


def test_tumour_samples_label_what_is_visible_and_span_sizes() -> None:
    """Odd seeds are positives whose lesion is visible; even seeds are healthy; sizes vary."""
    areas = []
    for seed in range(16):
        image, target, mask = physics_sample("tumour", seed, 96)
        assert target == seed % 2 == int(mask.any())
        assert mask.shape == image.shape
        if target:
            areas.append(int(mask.sum()))
    assert min(areas) < 40 < max(areas)


def test_one_seed_same_geometry_in_every_contrast() -> None:
    """Physics draws are apart from geometry: the four contrasts of a seed share the head outline."""
    images = [mr_slice(5, (96, 96), c, plane="coronal") for c in ("T1", "T1 post-contrast", "T2", "T2-FLAIR")]
    for other in images[1:]:
        np.testing.assert_array_equal(images[0].body, other.body)
        assert other.sequence != images[0].sequence
    r = np.corrcoef(images[2].image[images[2].body], images[0].image[images[0].body])[0, 1]
    assert r < 0.9                                  # T1 and T2 are not one image rescaled


def test_ct_sim_in_hounsfield_units_with_lesion_in_body() -> None:
    s = ct_sim_slice(4, (128, 128), lesion=True)
    assert s.image.min() < -900 and s.image.max() > 500
    assert s.lesion and (s.mask & ~s.body).sum() == 0
    again = ct_sim_slice(4, (128, 128), lesion=True)
    np.testing.assert_array_equal(s.image, again.image)
    assert not ct_sim_slice(4, (128, 128), lesion=False).mask.any()


def test_varied_physics_draws_each_seed_from_one_of_the_two_styles() -> None:
    from inference import recipes

    styles = []
    for seed in range(40):
        mixed = recipes.phantom_sample("tumour", seed, 64, generator="varied-physics")
        physics = recipes.phantom_sample("tumour", seed, 64, generator="physics")
        varied = recipes.phantom_sample("tumour", seed, 64, generator="varied")
        same_physics = mixed.image.shape == physics.image.shape and np.array_equal(mixed.image,
                                                                                   physics.image)
        same_varied = mixed.image.shape == varied.image.shape and np.array_equal(mixed.image,
                                                                                 varied.image)
        assert same_physics != same_varied, seed                     # exactly one of the two
        styles.append(same_physics)
    assert 10 <= sum(styles) <= 30                                   # about half each


def test_varied_physics_has_no_knee_exams() -> None:
    from inference.train import _training_generator

    assert _training_generator("ct-lesion", "varied-physics") == "varied-physics"
    assert _training_generator("contrast", "varied-physics") == "varied-physics"
    with pytest.raises(SystemExit, match="has no knee exams"):
        _training_generator("knee", "varied-physics")


def test_varied_contrast_slices_keep_their_label_and_mostly_no_tumour() -> None:
    """The contrast task's varied slices: label by seed as for every generator, the head drawn
    afresh (no two alike in shape), a tumour in about CONTRAST_TUMOUR_SHARE of them."""
    from inference import recipes

    samples = [recipes.phantom_sample("contrast", seed, 64, generator="varied") for seed in range(40)]
    assert [int(s.target) for s in samples] == [seed % 4 for seed in range(40)]
    with_tumour = sum(bool(s.mask.any()) for s in samples)
    assert 2 <= with_tumour <= 20
    classic = recipes.phantom_sample("contrast", 3, 64, generator="classic")
    assert not (samples[3].image.shape == classic.image.shape
                and np.array_equal(samples[3].image, classic.image))
