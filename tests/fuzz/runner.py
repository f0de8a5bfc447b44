"""Run recipes in persistent worker processes (spawn) with a time and a memory limit each.

A worker that does not answer within ``timeout`` seconds is killed and its mutant recorded as a
``hang``; a worker that dies (abort, segfault, C++ exception through a decoder, memory limit
inside native code) is recorded as a ``crash`` (``memory`` when its last words say so). Dead
workers are replaced and the run goes on.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from tests.fuzz.mutate import Recipe
from tests.fuzz.worker import FAILURES, OK_OUTCOMES, normalise, worker_main

GIB = 1 << 30


@dataclass
class Report:
    """Counts per outcome, failures grouped by signature (with one recipe each to replay)."""

    counts: Counter = field(default_factory=Counter)
    signatures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, recipe: Recipe, reply: dict[str, Any]) -> None:
        self.counts[reply["outcome"]] += 1
        for sig in dict.fromkeys(reply.get("signatures", [])):
            self.signatures.setdefault(sig, []).append({
                "recipe": recipe.to_json(), "changes": reply.get("changes", []),
                "detail": reply.get("detail", "")})

    @property
    def failures(self) -> int:
        return sum(self.counts[k] for k in FAILURES)

    def text(self, detail: bool = False) -> str:
        total = sum(self.counts.values())
        lines = [f"{total} mutants in {self.seconds:.0f} s"]
        for kind in OK_OUTCOMES + FAILURES:
            lines.append(f"  {kind:<11}{self.counts[kind]:>7}")
        if self.signatures:
            lines.append(f"{len(self.signatures)} distinct failure signatures:")
        for sig, hits in sorted(self.signatures.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"  [{len(hits)}] {sig}")
            lines.append(f"      e.g. {hits[0]['recipe']}")
            lines.append(f"      changes: {'; '.join(hits[0]['changes'])}")
            if detail and hits[0]["detail"]:
                lines.append("      " + hits[0]["detail"].strip().replace("\n", "\n      "))
        return "\n".join(lines)


class _Worker:
    def __init__(self, ctx: Any, mem_limit: int, noise_dir: str, number: int) -> None:
        self.noise_path = os.path.join(noise_dir, f"worker{number}-{time.monotonic_ns()}.txt")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=worker_main, args=(child, mem_limit, self.noise_path),
                                   daemon=True)
        self.process.start()
        child.close()
        self.recipe: Recipe | None = None
        self.deadline = 0.0
        self.noise_at = 0

    def send(self, recipe: Recipe, timeout: float) -> None:
        self.recipe = recipe
        self.noise_at = os.path.getsize(self.noise_path) if os.path.exists(self.noise_path) else 0
        self.conn.send(recipe.to_json())
        self.deadline = time.monotonic() + timeout

    def last_words(self) -> str:
        try:
            with open(self.noise_path, "rb") as fh:
                fh.seek(self.noise_at)
                return fh.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def stop(self, force: bool = False) -> None:
        if not force:
            self.process.join(timeout=5)
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(timeout=5)
        self.conn.close()


def _crash_reply(worker: _Worker) -> dict[str, Any]:
    code = worker.process.exitcode
    how = (f"signal {signal.Signals(-code).name}" if code is not None and code < 0
           else f"exit code {code}")
    words = worker.last_words()
    last = words.splitlines()[-1] if words else ""
    memory = any(k in words for k in ("bad_alloc", "Cannot allocate", "MemoryError",
                                      "out of memory"))
    kind = "memory" if memory else "crash"
    try:
        with open(worker.noise_path + ".step") as fh:
            step = fh.read().strip()
    except OSError:
        step = "?"
    sig = f"{kind}: worker died ({how}) in {step}" + (f": {normalise(last)}" if last else "")
    return {"outcome": kind, "signatures": [sig], "changes": [], "detail": words[-3000:]}


def run(recipes: Iterable[Recipe], *, workers: int = 2, timeout: float = 10.0,
        mem_limit: int = 2 * GIB, progress: Callable[[int, Report], None] | None = None
        ) -> Report:
    """Run every recipe; returns the report. ``progress(done, report)`` after each mutant."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"):
        os.environ.setdefault(name, "1")
    ctx = mp.get_context("spawn")
    todo = list(recipes)[::-1]
    report = Report()
    start = time.monotonic()
    done = 0
    noise_dir = tempfile.mkdtemp(prefix="slicewise-fuzz-noise-")
    pool = [_Worker(ctx, mem_limit, noise_dir, n) for n in range(max(1, workers))]
    # The first mutant of a fresh worker also pays for its imports.
    startup = 60.0
    try:
        for w in pool:
            if todo:
                w.send(todo.pop(), timeout + startup)
        while any(w.recipe is not None for w in pool):
            busy = [w for w in pool if w.recipe is not None]
            wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                         timeout=wait_for)
            for index, w in enumerate(pool):
                if w.recipe is None:
                    continue
                recipe = w.recipe
                reply: dict[str, Any] | None = None
                replace = False
                if w.conn in ready:
                    try:
                        reply = w.conn.recv()
                    except (EOFError, OSError):
                        reply = None
                if reply is None and (w.process.sentinel in ready or not w.process.is_alive()):
                    w.process.join(timeout=5)
                    reply, replace = _crash_reply(w), True
                elif reply is None and time.monotonic() >= w.deadline:
                    w.stop(force=True)
                    reply = {"outcome": "hang", "changes": [], "detail": "",
                             "signatures": [f"hang: no answer within {timeout:.0f} s"]}
                    replace = True
                if reply is None:
                    continue
                report.add(recipe, reply)
                done += 1
                w.recipe = None
                if progress is not None:
                    progress(done, report)
                if replace:
                    w.stop(force=True)
                    w = pool[index] = _Worker(ctx, mem_limit, noise_dir, index)
                    fresh = startup
                else:
                    fresh = 0.0
                if todo:
                    w.send(todo.pop(), timeout + fresh)
    finally:
        for w in pool:
            try:
                if w.process.is_alive():
                    w.conn.send(None)
            except OSError:
                pass
            w.stop()
        shutil.rmtree(noise_dir, ignore_errors=True)
        report.seconds = time.monotonic() - start
    return report
