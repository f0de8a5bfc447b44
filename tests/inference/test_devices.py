"""Device choice and CPU thread budget."""
from __future__ import annotations

import os

import pytest
import torch

from inference import devices


def test_cpu_by_argument_and_env(monkeypatch) -> None:
    assert devices.select_device("cpu").type == "cpu"
    monkeypatch.setenv(devices.ENV_VAR, "cpu")
    assert devices.select_device().type == "cpu"
    assert devices.describe_device("cpu").startswith("CPU, ")


def test_unavailable_cuda_is_a_clear_error(monkeypatch) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="CUDA is not available"):
        devices.select_device("cuda")
    monkeypatch.setenv(devices.ENV_VAR, "tpu")
    with pytest.raises((ValueError, RuntimeError)):
        devices.select_device()


def test_thread_budget_leaves_a_core_for_the_gui(monkeypatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert devices.cpu_threads() == 7
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert devices.cpu_threads() == 1


def test_automatic_choice_prefers_cuda_then_mps(monkeypatch) -> None:
    monkeypatch.delenv(devices.ENV_VAR, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert devices.select_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert devices.select_device().type in ("mps", "cpu")
