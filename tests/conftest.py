"""Shared fixtures: every test starts seeded and in float32; ``torch`` skips without torch."""
from __future__ import annotations

import random

import numpy as np
import pytest

import ember


@pytest.fixture(autouse=True)
def seed():
    """Seed Python, NumPy and ember with 0, and restore the default dtype afterwards."""
    random.seed(0)
    np.random.seed(0)
    ember.manual_seed(0)
    yield 0
    ember.set_default_dtype(ember.float32)


@pytest.fixture(scope="session")
def torch():
    """The torch module (the oracle); the test is skipped when torch is not installed."""
    torch = pytest.importorskip("torch")
    return torch
