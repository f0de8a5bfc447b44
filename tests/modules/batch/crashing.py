"""A read job whose worker dies (os._exit) on one series, for the dead-worker test (importable
by the worker processes)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from viewer.modules.batch.engine_local import ReadJob


@dataclass(frozen=True)
class CrashOn(ReadJob):
    description: str = ""

    def __call__(self, info, attempt=1):
        if info.description == self.description:
            os._exit(3)
        return super().__call__(info, attempt)


def _ray_reader():
    from viewer.modules.batch.engine_ray import _Read

    class CrashingRead(_Read):
        """Ray reader actor whose process dies on the series described "CT ABDOMEN"."""

        def __call__(self, row):
            import pickle

            if pickle.loads(row["info"]).description == "CT ABDOMEN":
                os._exit(3)
            return super().__call__(row)
    return CrashingRead


def _ray_infer():
    from viewer.modules.batch.engine_ray import _from_row, _Infer

    class CrashingInfer(_Infer):
        """Ray model actor whose process dies on the series described "CT ABDOMEN"."""

        def __call__(self, batch):
            for w, t in zip(batch["work"], batch["tensors"], strict=True):
                if _from_row(w, t).meta.description == "CT ABDOMEN":
                    os._exit(3)
            return super().__call__(batch)
    return CrashingInfer


try:  # only with the [cluster] extra
    CrashingRead = _ray_reader()
    CrashingInfer = _ray_infer()
except ImportError:  # pragma: no cover - ray absent: the Ray tests skip
    CrashingRead = CrashingInfer = None
