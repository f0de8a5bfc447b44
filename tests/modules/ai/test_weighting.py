"""The MR weighting from acquisition parameters, and the check of the brain models' calls against it.

Oracle for the rules: the sequence physics (short TR/TE spin echo = T1, long TR/TE = T2, an
inversion time that nulls CSF = FLAIR) and what the real series in ../shared/dicom were
acquired as (their protocol names and the dcm2niix QA notes)."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from inference.results import Applicability, Prediction
from viewer.io.acquisition import MRAcquisition, read_acquisition
from viewer.modules.ai.weighting import UNKNOWN, contradiction, judge, judge_all, weighting_of

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "dicom"


def _acq(**kw) -> MRAcquisition:
    return MRAcquisition(**kw)


@pytest.mark.parametrize("acq, kind", [
    (_acq(sequence=("SE",), tr=500, te=12), "T1"),
    (_acq(sequence=("SE",), tr=4500, te=100), "T2"),
    (_acq(sequence=("SE",), tr=3000, te=15), "other"),                       # proton density
    (_acq(sequence=("SE", "IR"), tr=9000, te=120, ti=2500), "T2-FLAIR"),
    (_acq(sequence=("SE", "IR"), tr=6000, te=394, ti=2200), "T2-FLAIR"),     # 3-D SPACE FLAIR
    (_acq(sequence=("GR", "IR"), tr=2300, te=2.3, ti=900, flip=8), "T1"),    # MPRAGE
    (_acq(sequence=("SE", "IR"), tr=4000, te=60, ti=160), "other"),          # STIR
    (_acq(sequence=("GR",), tr=300, te=2.46, flip=80), "T1"),                # 2-D FLASH
    (_acq(sequence=("GR",), tr=9, te=4, flip=15), "T1"),                     # 3-D spoiled GRE
    (_acq(sequence=("GR",), tr=600, te=20, flip=20), "other"),               # T2* GRE
    (_acq(sequence=("GR",), tr=4, te=2, flip=60), ""),                       # balanced SSFP: not judged
    (_acq(sequence=("SE", "EP"), tr=5000, te=80, b_value=1000), "other"),    # DWI
    (_acq(sequence=("EP",), tr=2000, te=30), "other"),                       # BOLD fMRI
    (_acq(image_type=("ORIGINAL", "PRIMARY", "ADC")), "other"),
    (_acq(sequence=("GR",), tr=50, te=20, image_type=("ORIGINAL", "PRIMARY", "P", "ND")), "other"),
    (_acq(contrast="FLUID_ATTENUATED", tr=4000, te=194, ti=1400), "T2-FLAIR"),
    (_acq(contrast="PROTON_DENSITY"), "other"),
    (_acq(sequence=("RM",), tr=6.2, te=3.4), ""),                            # research mode
    (_acq(), ""),
    (None, ""),
])
def test_weighting_rules(acq, kind):
    w = weighting_of(acq)
    assert w.kind == kind, w
    assert bool(w.words) == bool(kind)


def test_agent_makes_t1_post_contrast_and_words_carry_the_parameters():
    w = weighting_of(_acq(sequence=("SE",), tr=550, te=10, agent="Gadovist"))
    assert (w.kind, w.post_contrast) == ("T1", True)
    assert "TR 550 ms" in w.words and "TE 10 ms" in w.words and "Gadovist" in w.words
    assert w.agrees("T1 post-contrast") and not w.agrees("T1") and not w.agrees("T2")
    plain = weighting_of(_acq(sequence=("SE",), tr=550, te=10, agent="NONE"))
    assert not plain.post_contrast and plain.agrees("T1") and plain.agrees("T1 post-contrast")


def _pred(label: str, p: float = 0.99) -> Prediction:
    probs = {c: (p if c == label else (1 - p) / 3) for c in ("T1", "T1 post-contrast", "T2", "T2-FLAIR")}
    return Prediction("contrast", probs, label, applicability=Applicability())


def test_judge_refuses_a_contradicting_contrast_call_and_other_weightings():
    t1 = weighting_of(_acq(sequence=("GR",), tr=300, te=2.46, flip=80))
    bad = judge(_pred("T2"), t1, "contrast")
    assert not bad.applicability.applicable
    assert bad.applicability.reasons[-1].startswith("its call (T2) contradicts the acquisition: "
                                                    "T1-weighted gradient echo (TR 300 ms, TE 2.46 ms")
    assert bad.probabilities == _pred("T2").probabilities            # the numbers stay for the record
    assert judge(_pred("T1"), t1, "contrast").applicable
    assert contradiction(t1, "T1") == "" and contradiction(UNKNOWN, "T2") == ""   # series votes too
    assert contradiction(t1, "T2-FLAIR").startswith("its call (T2-FLAIR) contradicts the acquisition")
    epi = weighting_of(_acq(sequence=("EP",), tr=2200, te=30))
    for task in ("contrast", "tumour"):
        out = judge(_pred("T1"), epi, task)
        assert not out.applicable and "echo-planar" in out.applicability.reasons[-1]
        assert out.applicability.reasons[-1].endswith(
            "this model reads T1, T1 post-contrast, T2 and T2-FLAIR images")
    # other models, unknown weightings and predictions without a check are left alone
    assert judge(_pred("T2"), t1, "ct-lesion").applicable
    assert judge(_pred("T2"), UNKNOWN, "contrast").applicable
    bare = Prediction("contrast", _pred("T2").probabilities, "T2")
    assert judge(bare, t1, "contrast") is bare
    assert [p.applicable for p in judge_all([_pred("T1"), _pred("T2")], _acq(sequence=("SE",), tr=500, te=12),
                                            "contrast")] == [True, False]


def _mr(**kw) -> Dataset:
    ds = Dataset()
    ds.Modality = "MR"
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


def test_read_acquisition_classic_enhanced_and_damaged():
    a = read_acquisition(_mr(ScanningSequence=["SE", "IR"], SequenceVariant="SK", RepetitionTime="9000",
                             EchoTime="120", InversionTime="2500", ContrastBolusAgent=""))
    assert a.sequence == ("SE", "IR") and (a.tr, a.te, a.ti) == (9000.0, 120.0, 2500.0) and a.agent == ""
    assert read_acquisition(_mr(RepetitionTime="0", EchoTime="nan")).tr is None       # 0 = not given
    assert read_acquisition(_mr(EchoTime="nan")).te is None
    ct = Dataset()
    ct.Modality = "CT"
    assert read_acquisition(ct) is None
    timing, echo, mod = Dataset(), Dataset(), Dataset()
    timing.RepetitionTime, timing.FlipAngle = 4000, 90
    echo.EffectiveEchoTime = 194
    mod.InversionRecovery, mod.InversionTimes = "YES", [1400]
    shared = Dataset()
    shared.MRTimingAndRelatedParametersSequence = Sequence([timing])
    shared.MREchoSequence = Sequence([echo])
    shared.MRModifierSequence = Sequence([mod])
    e = read_acquisition(_mr(SharedFunctionalGroupsSequence=Sequence([shared]), EchoPulseSequence="SPIN"))
    assert (e.tr, e.te, e.ti) == (4000.0, 194.0, 1400.0) and e.sequence == ("IR", "SE")
    assert weighting_of(e).kind == "T2-FLAIR"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/dicom is not present")
def test_real_series_weightings():
    from viewer.io import discover

    found = {}
    root = SHARED.resolve()
    for s in discover([str(root)]).series:
        if s.modality == "MR":
            found.setdefault(str(Path(s.files[0]).relative_to(root)).split("/")[0],
                             set()).add(weighting_of(s.acquisition).kind)
    assert found["brain_mr_t1_sagittal"] == {"T1"}            # t1_fl2d_sag: FLASH, TR 300, TE 2.46, flip 80
    assert found["compressed_series"] == {"T2-FLAIR"}         # SPACE FLAIR, TI 2200
    assert found["mr_12bit"] == {"other"}                     # fMRI EPI
    assert found["transfer_syntaxes"] == {"other"}            # EPI mosaic
    assert {"T2-FLAIR", "T1", "other"} <= found["multiframe"]  # Hyperfine FLAIR, Philips T1, field map
