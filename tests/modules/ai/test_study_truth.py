"""Ground truth of the sample study: the phantom masks are written beside the DICOM series and
read back by SeriesInstanceUID; nothing is regenerated or matched by pixel correlation."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from inference.phantoms import brain_mr_volume, ct_volume


@pytest.fixture()
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SLICEWISE_DATA_DIR", str(tmp_path / "data"))
    from viewer.core.sample_study import ensure_sample_study

    return ensure_sample_study()


def _load(root: Path, uid: str):
    from viewer.io import discover, load_series

    return load_series(next(s for s in discover([root]).series if s.uid == uid))


def test_masks_are_kept_beside_the_series_and_found_by_series_uid(sample: Path) -> None:
    from viewer.core.sample_study import BRAIN_SERIES_UID, CT_SERIES_UID, TRUTH_FILE
    from viewer.modules.ai.study import sample_truth

    assert (sample / TRUTH_FILE).is_file()
    _, brain_oracle = brain_mr_volume(seed=7, n_slices=24, size=256, tumour=True)
    _, ct_oracle = ct_volume(seed=11, n_slices=24, size=256, lesion=True)
    for uid, oracle in ((BRAIN_SERIES_UID, brain_oracle), (CT_SERIES_UID, ct_oracle)):
        vol = _load(sample, uid)
        mask = sample_truth(vol)
        assert mask is not None and mask.dtype == bool
        np.testing.assert_array_equal(mask, oracle)


def test_series_copied_elsewhere_finds_the_masks_beside_it(sample: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from viewer.core.sample_study import BRAIN_SERIES_UID
    from viewer.modules.ai.study import sample_truth

    copy = tmp_path / "copied-study"
    shutil.copytree(sample, copy)
    shutil.rmtree(sample)
    vol = _load(copy, BRAIN_SERIES_UID)
    assert sample_truth(vol) is not None


def test_look_alike_pixels_without_the_sample_uid_get_no_mask(sample: Path) -> None:
    """The old lookup regenerated the phantom and accepted any series whose pixels matched; now
    only the written series (by UID) has a mask."""
    from viewer.core.sample_study import BRAIN_SERIES_UID
    from viewer.modules.ai.study import sample_truth

    vol = _load(sample, BRAIN_SERIES_UID)
    other = replace(vol, series_uid="1.2.3.4.5", slice_files=())
    assert sample_truth(other) is None


def test_no_regeneration_when_the_masks_file_is_gone(sample: Path, monkeypatch) -> None:
    import inference.phantoms as phantoms
    from viewer.core.sample_study import BRAIN_SERIES_UID, TRUTH_FILE
    from viewer.modules.ai.study import sample_truth

    vol = _load(sample, BRAIN_SERIES_UID)
    (sample / TRUTH_FILE).unlink()
    monkeypatch.setattr(phantoms, "brain_mr_volume", lambda *a, **k: pytest.fail("regenerated"))
    assert sample_truth(vol) is None


def test_mask_of_another_shape_is_not_used(sample: Path) -> None:
    from viewer.core.sample_study import BRAIN_SERIES_UID
    from viewer.modules.ai.study import sample_truth

    vol = _load(sample, BRAIN_SERIES_UID)
    cropped = replace(vol, voxels=np.ascontiguousarray(vol.voxels[:, :128, :128]))
    assert sample_truth(cropped) is None
