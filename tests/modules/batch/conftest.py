from __future__ import annotations

from pathlib import Path

import pytest

from tests.modules.batch.synthetic import write_archive


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> tuple[Path, dict]:
    """4 brain MR series (one mislabelled) + 1 CT series, 10 slices each, one slice's file cut
    short, one text file. Read-only: tests write their outputs elsewhere."""
    root = tmp_path_factory.mktemp("archive")
    return root, write_archive(root, n_series=4, n_slices=10)
