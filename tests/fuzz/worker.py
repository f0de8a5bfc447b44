"""One mutant through the data layer, and the persistent worker process that runs mutants.

Every mutant goes through ``discover`` (its folder), ``load_series`` (each series found, at most
three) and ``read_tags`` (each file). Allowed outcomes: ``loaded`` (a Volume), ``skipped`` (every
file passed over with a reason), ``load_error`` (``DicomLoadError`` with a message). Failures:
``uncaught`` (any other exception), ``memory`` (MemoryError), ``invalid`` (a record that breaks
its contract: non-finite spacing, empty reason, ...), ``noise`` (anything written to stdout or
stderr); the parent adds ``hang`` and ``crash``.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import sys
import tempfile
import traceback
import warnings
from pathlib import Path
from typing import Any

from tests.fuzz.mutate import Recipe, build

REPO = Path(__file__).resolve().parents[2]
OK_OUTCOMES = ("loaded", "skipped", "load_error")
FAILURES = ("uncaught", "memory", "invalid", "noise", "hang", "crash")
#: Series loaded per mutant (a 3-file mutant rarely splits into more).
MAX_SERIES = 3


def normalise(text: str, folder: str = "") -> str:
    """A message with paths, numbers and addresses blanked, so that similar failures group."""
    if folder:
        text = text.replace(folder, "<dir>")
    text = re.sub(r"^.*?\.py:\d+: (\w+(Warning|Error))", r"\1", text)  # warning source line
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"0x[0-9a-fA-F]+", "0x_", text)
    text = re.sub(r"\d+", "N", text)
    return " ".join(text.split())[:160]


def project_frame(exc: BaseException) -> str:
    """``file:function:line`` of the deepest traceback frame inside ``viewer/``, else the
    deepest frame of all."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if str(REPO / "viewer") in f.filename]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return "?"
    name = os.path.relpath(frame.filename, REPO) if frame.filename.startswith(str(REPO)) \
        else Path(frame.filename).name
    return f"{name}:{frame.name}:{frame.lineno}"


def signature(kind: str, exc: BaseException, folder: str) -> str:
    where = project_frame(exc).rsplit(":", 1)[0]  # line numbers move when code is edited
    return f"{kind}: {type(exc).__name__}: {normalise(str(exc), folder)} @ {where}"


def _finite(values: Any) -> bool:
    try:
        return all(math.isfinite(float(v)) for v in values)
    except (TypeError, ValueError):
        return False


def volume_problems(volume: Any) -> list[str]:
    """Broken promises of a ``Volume`` (see viewer.io.records)."""
    import numpy as np
    out = []
    v = volume.voxels
    if v.dtype != np.float32 or v.ndim not in (3, 4) or 0 in v.shape:
        out.append(f"voxels {v.dtype} {v.shape}")
    if volume.slice_files and len(volume.slice_files) != v.shape[0]:
        out.append("slice_files and slices differ in number")
    if not _finite(volume.spacing) or min(volume.spacing) <= 0:
        out.append("spacing not finite and positive")
    if not _finite(volume.origin):
        out.append("origin not finite")
    if not _finite(np.asarray(volume.direction, float).ravel()):
        out.append("direction not finite")
    if not _finite((volume.window.center, volume.window.width)) or volume.window.width <= 0:
        out.append("window not finite and positive")
    return out


def series_problems(series: Any) -> list[str]:
    out = []
    if series.rows <= 0 or series.columns <= 0:
        out.append("series with an empty image size")
    if not _finite(series.pixel_spacing) or min(series.pixel_spacing) <= 0:
        out.append("series pixel spacing not finite and positive")
    if series.slice_step is not None and not math.isfinite(series.slice_step):
        out.append("series slice step not finite")
    return out


def run_mutant(recipe: Recipe, folder: Path,
               breadcrumb: Any = None) -> dict[str, Any]:
    """Build ``recipe`` in ``folder`` and run it through the data layer. Returns a result dict:
    ``index``, ``outcome``, ``signatures`` (failures), ``changes``, ``detail``."""
    from viewer.io import DicomLoadError, discover, load_series, read_tags

    with warnings.catch_warnings():  # the mutator's own pydicom warnings are not the subject
        warnings.simplefilter("ignore")
        paths, changes = build(recipe, folder)
    where = str(folder)
    failures: list[tuple[str, str, str]] = []  # (kind, signature, traceback text)
    loaded = errors = 0

    def fail(kind: str, sig: str, detail: str = "") -> None:
        failures.append((kind, sig, detail))

    def guard(step: str, func: Any, *args: Any) -> Any:
        nonlocal errors
        if breadcrumb is not None:
            breadcrumb(f"{step} {Path(str(args[0])).name if step == 'read_tags' else ''}")
        try:
            return func(*args)
        except DicomLoadError as exc:
            errors += 1
            if not exc.reason or not str(exc.reason).strip():
                fail("invalid", f"invalid: empty DicomLoadError reason in {step}")
        except MemoryError as exc:
            fail("memory", signature("memory", exc, where), traceback.format_exc())
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - this is what the fuzzer looks for
            # (BaseException: pyo3's PanicException from Rust decoders is not an Exception)
            fail("uncaught", signature("uncaught", exc, where), traceback.format_exc())
        return None

    result = guard("discover", discover, str(folder))
    if result is not None:
        for skipped in result.skipped:
            if not isinstance(skipped.reason, str) or not skipped.reason.strip():
                fail("invalid", "invalid: skipped file without a reason")
        for series in result.series[:MAX_SERIES]:
            for problem in series_problems(series):
                fail("invalid", f"invalid: {problem}")
            volume = guard("load", load_series, series)
            if volume is not None:
                loaded += 1
                for problem in volume_problems(volume):
                    fail("invalid", f"invalid: {problem}")
    for path in paths:
        guard("read_tags", read_tags, str(path))
    if failures:
        order = {k: i for i, k in enumerate(FAILURES)}
        failures.sort(key=lambda f: order[f[0]])
        outcome = failures[0][0]
    else:
        outcome = "loaded" if loaded else ("load_error" if errors else "skipped")
    return {"index": recipe.index, "outcome": outcome, "changes": changes,
            "signatures": [f[1] for f in failures],
            "detail": failures[0][2] if failures else ""}


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def worker_main(conn: Any, mem_limit: int, noise_path: str) -> None:
    """Worker process: send fd 1/2 to ``noise_path``, then run recipes (JSON) received on
    ``conn`` until ``None``, each with an address-space limit of ``mem_limit`` bytes above the
    worker's size before it; each reply is ``run_mutant``'s dict plus ``noise``."""
    import resource

    noise_fd = os.open(noise_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(noise_fd, 1)
    os.dup2(noise_fd, 2)
    import SimpleITK as sitk

    import viewer.io  # noqa: F401 - imported before the limit: its libraries are big
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    root = Path(tempfile.mkdtemp(prefix="slicewise-fuzz-"))
    try:
        while True:
            message = conn.recv()
            if message is None:
                return
            recipe = Recipe.from_json(message)
            folder = root / f"m{recipe.index}"
            folder.mkdir()
            before = os.path.getsize(noise_path)

            def breadcrumb(step: str) -> None:  # where a crash happened, for the parent
                with open(noise_path + ".step", "w") as fh:
                    fh.write(step)

            if mem_limit > 0:  # soft limit: this mutant may use mem_limit more than now
                soft = _vm_size() + mem_limit
                if hard != resource.RLIM_INFINITY:
                    soft = min(soft, hard)
                resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
            try:
                reply = run_mutant(recipe, folder, breadcrumb)
            except MemoryError:
                reply = {"index": recipe.index, "outcome": "memory", "changes": [],
                         "signatures": ["memory: MemoryError outside the data layer"],
                         "detail": ""}
            sys.stdout.flush()
            sys.stderr.flush()
            with open(noise_path, "rb") as fh:
                fh.seek(before)
                noise = fh.read(2000).decode("utf-8", "replace")
            reply["noise"] = noise
            if noise.strip() and reply["outcome"] in OK_OUTCOMES:
                reply["outcome"] = "noise"
            if noise.strip():
                reply["signatures"].append("noise: " + normalise(noise.strip().splitlines()[0],
                                                                 str(folder)))
            shutil.rmtree(folder, ignore_errors=True)
            conn.send(reply)
    finally:
        shutil.rmtree(root, ignore_errors=True)
