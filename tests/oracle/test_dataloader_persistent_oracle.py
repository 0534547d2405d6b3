"""DataLoader random streams against torch over several epochs: shuffle orders, the
generators' states after each epoch and the numbers drawn inside workers, with persistent
workers on and off (torch draws the workers' base seed once per iterator, and persistent
workers keep their random streams across epochs)."""
from __future__ import annotations

import importlib
import random

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

EPOCHS = 3


def _draws(lib_name, i):
    """(index, worker id, ember/torch, NumPy and Python random draws) for sample ``i``."""
    lib = importlib.import_module(lib_name)
    info = lib.utils.data.get_worker_info()
    return (i, -1 if info is None else info.id, lib.rand(1).item(), float(np.random.rand()),
            random.random())


class Probe:
    """Map-style: item i is ``_draws(i)``."""

    def __init__(self, lib_name, n):
        self.lib_name, self.n = lib_name, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return _draws(self.lib_name, i)


def _sharded_probe(lib):
    class ShardedProbe(lib.utils.data.IterableDataset):
        """range(n) split between workers by get_worker_info, each item ``_draws(i)``."""

        def __init__(self, n):
            self.n = n

        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            ids = range(self.n) if info is None else range(info.id, self.n, info.num_workers)
            return (_draws(lib.__name__, i) for i in ids)

    return ShardedProbe(7)


def _epochs(lib, iterable, generator, **kw):
    """Each epoch's batches (as lists) and the random states after it."""
    lib.manual_seed(0)
    random.seed(0)  # the main process's own draws (num_workers=0)
    np.random.seed(0)
    g = lib.Generator().manual_seed(5) if generator else None
    dataset = _sharded_probe(lib) if iterable else Probe(lib.__name__, 7)
    loader = lib.utils.data.DataLoader(dataset, batch_size=2, generator=g, **kw)
    out = []
    try:
        for _ in range(EPOCHS):
            batches = [[col.tolist() for col in b] for b in loader]
            states = [bytes(lib.get_rng_state().numpy())]
            if g is not None:
                states.append(bytes(g.get_state().numpy()))
            out.append((batches, states))
    finally:
        if loader._iterator is not None:
            loader._iterator._shutdown_workers()
    return out


@pytest.mark.parametrize("persistent", [False, True])
@pytest.mark.parametrize("generator", [False, True])
def test_map_style_shuffle_matches_torch_every_epoch(persistent, generator):
    kw = dict(shuffle=True, num_workers=2, persistent_workers=persistent)
    ours, theirs = _epochs(ember, False, generator, **kw), _epochs(torch, False, generator, **kw)
    for epoch, (mine, ref) in enumerate(zip(ours, theirs, strict=True)):
        assert mine[0] == ref[0], f"epoch {epoch + 1}: batches"
        assert mine[1] == ref[1], f"epoch {epoch + 1}: random states"


@pytest.mark.parametrize("persistent", [False, True])
def test_sharded_iterable_dataset_matches_torch_every_epoch(persistent):
    kw = dict(num_workers=2, persistent_workers=persistent)
    assert _epochs(ember, True, False, **kw) == _epochs(torch, True, False, **kw)


def test_single_process_shuffle_matches_torch_every_epoch():
    assert _epochs(ember, False, True, shuffle=True) == _epochs(torch, False, True, shuffle=True)
