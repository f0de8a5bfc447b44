"""A batch output folder read back for review: per-series calls, flags and per-slice
probabilities equal what the batch table holds; flagged series come first."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from viewer.modules.batch.review import read_batch_folder


def _write(folder, rows):
    cols = ["level", "model", "series_uid", "slice", "status", "error", "predicted", "p_no tumour",
            "p_tumour", "applicable", "reasons", "header_contrast", "disagrees", "n_slices"]
    with (folder / "tumour.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})
    (folder / "tumour.summary.json").write_text("{}")


def test_review_reads_calls_flags_and_profiles(tmp_path):
    _write(tmp_path, [
        {"level": "series", "model": "tumour", "series_uid": "A", "status": "ok",
         "predicted": "tumour", "p_tumour": "0.9", "p_no tumour": "0.1", "applicable": "True",
         "n_slices": "2"},
        {"level": "slice", "model": "tumour", "series_uid": "A", "slice": "0", "p_tumour": "0.8",
         "p_no tumour": "0.2"},
        {"level": "slice", "model": "tumour", "series_uid": "A", "slice": "1", "p_tumour": "1.0",
         "p_no tumour": "0.0"},
        {"level": "series", "model": "tumour", "series_uid": "B", "status": "ok",
         "predicted": "no tumour", "p_no tumour": "0.7", "applicable": "False",
         "reasons": "sagittal slice; this model reads axial slices", "n_slices": "1"},
    ])
    review = read_batch_folder(tmp_path)
    a, b = review.series["A"], review.series["B"]
    assert a.classes == ("no tumour", "tumour") and not a.flagged
    np.testing.assert_allclose(a.probs[:, 1], [0.8, 1.0])
    assert a.note() == "batch tumour: tumour (90%)"
    assert b.flagged and "sagittal" in b.flags[0] and b.note().endswith(": ?")
    assert review.order() == ["B", "A"]


def test_a_folder_without_batch_results_says_so(tmp_path):
    with pytest.raises(ValueError, match="no batch results"):
        read_batch_folder(tmp_path)
