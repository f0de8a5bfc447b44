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
