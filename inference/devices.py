"""Device choice (CUDA > MPS > CPU, overridable) and the CPU thread budget.

Override order: the ``device`` argument, then the ``SLICEWISE_DEVICE`` environment variable
("cpu", "cuda", "cuda:1", "mps"), then automatic choice. On the CPU, torch gets
``max(1, cores - 1)`` threads so one core stays free for the GUI.
"""
from __future__ import annotations

import os

import torch

ENV_VAR = "SLICEWISE_DEVICE"


def cpu_threads() -> int:
    """Threads for torch on the CPU: all cores but one (at least 1)."""
    return max(1, (os.cpu_count() or 1) - 1)


def select_device(device: str | torch.device | None = None) -> torch.device:
    """The torch device to run models on; raises ValueError for an unavailable explicit choice."""
    choice = device if device is not None else os.environ.get(ENV_VAR) or None
    if choice is not None:
        dev = torch.device(choice)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {choice!r} requested but CUDA is not available; use 'cpu'")
        if dev.type == "mps" and not (getattr(torch.backends, "mps", None)
                                      and torch.backends.mps.is_available()):
            raise ValueError(f"device {choice!r} requested but Apple MPS is not available; use 'cpu'")
        if dev.type not in ("cpu", "cuda", "mps"):
            raise ValueError(f"unsupported device {choice!r}; use cpu, cuda or mps")
    elif torch.cuda.is_available():
        dev = torch.device("cuda")
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        dev = torch.device("mps")
    else:
        dev = torch.device("cpu")
    if dev.type == "cpu" and torch.get_num_threads() > cpu_threads():
        torch.set_num_threads(cpu_threads())
    return dev


def describe_device(device: str | torch.device | None = None) -> str:
    """Human description: "CUDA: <name>", "Apple MPS" or "CPU, N threads"."""
    dev = select_device(device)
    if dev.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(dev)}"
    if dev.type == "mps":
        return "Apple MPS"
    n = torch.get_num_threads()
    return f"CPU, {n} thread{'s' if n != 1 else ''}"
