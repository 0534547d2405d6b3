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


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A tiny training text for the command line's tests: about 3,000 characters of a few
    words in random order (vocabulary ~20 characters)."""
    rng = random.Random(0)
    words = "the cat sat on a mat and the dog ran to it".split()
    lines = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(90)]
    path = tmp_path_factory.mktemp("data") / "tiny.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)
