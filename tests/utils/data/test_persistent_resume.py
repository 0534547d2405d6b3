"""Resuming a DataLoader with persistent workers: a run stopped in epoch 2 and resumed from
its ``state_dict`` gives the same batches (worker-drawn numbers included) and the same
generator state as one that never stopped."""
from __future__ import annotations

import pytest

import ember
from ember.utils.data import DataLoader, IterableDataset, get_worker_info

from .datasets import SeedProbe

EPOCHS = 3


class ShardedProbe(IterableDataset):
    """range(n) split between workers; item i is (i, one ember draw)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        ids = range(self.n) if info is None else range(info.id, self.n, info.num_workers)
        return ((i, ember.rand(1).item()) for i in ids)


def _loader(iterable=False, generator=False):
    g = ember.Generator().manual_seed(4) if generator else None
    if iterable:
        return DataLoader(ShardedProbe(9), batch_size=2, num_workers=2,
                          persistent_workers=True)
    return DataLoader(SeedProbe(9), batch_size=2, shuffle=True, num_workers=2,
                      persistent_workers=True, generator=g)


def _rows(batch):
    return [col.tolist() for col in batch]


def _close(loader):
    if loader._iterator is not None:
        loader._iterator._shutdown_workers()


def _uninterrupted(**kw):
    ember.manual_seed(7)
    loader = _loader(**kw)
    out = [[_rows(b) for b in loader] for _ in range(EPOCHS)]
    _close(loader)
    return out, loader.generator


def _stopped_in_epoch_2(stop, **kw):
    """Epoch 1 and ``stop`` batches of epoch 2; the state then, and the loader."""
    ember.manual_seed(7)
    loader = _loader(**kw)
    first = [_rows(b) for b in loader]
    it = iter(loader)
    second = [_rows(next(it)) for _ in range(stop)]
    return [first, second], (loader.state_dict(), ember.get_rng_state()), loader


@pytest.mark.parametrize("into", ["new loader", "same loader"])
@pytest.mark.parametrize("generator", [False, True])
def test_resume_mid_epoch_2_matches_an_uninterrupted_run(into, generator):
    full, g_full = _uninterrupted(generator=generator)
    (first, second), (state, global_rng), loader = _stopped_in_epoch_2(2, generator=generator)
    assert state["in_progress"] and state["base_seed"] is not None
    if into == "new loader":
        _close(loader)
        ember.manual_seed(999)  # a new run: another global state until the checkpoint's
        loader = _loader(generator=generator)
        ember.set_rng_state(global_rng)  # a checkpoint holds the program's own RNG too
    loader.load_state_dict(state)
    rest = [[_rows(b) for b in loader] for _ in range(EPOCHS - 1)]
    _close(loader)
    assert [first, second + rest[0], *rest[1:]] == full
    if generator:
        assert loader.generator.get_state().tolist() == g_full.get_state().tolist()


def test_resume_between_epochs_keeps_the_workers_streams():
    full, _ = _uninterrupted()
    ember.manual_seed(7)
    loader = _loader()
    first = [_rows(b) for b in loader]
    state = loader.state_dict()
    assert not state["in_progress"] and len(state["workers_rng"]) == 2
    _close(loader)  # the global generator goes on where the uninterrupted run's stood
    resumed = _loader()
    resumed.load_state_dict(state)
    rest = [[_rows(b) for b in resumed] for _ in range(EPOCHS - 1)]
    _close(resumed)
    assert [first, *rest] == full


def test_resume_iterable_dataset_mid_epoch_2():
    full, _ = _uninterrupted(iterable=True)
    (first, second), (state, _), loader = _stopped_in_epoch_2(1, iterable=True)
    _close(loader)
    resumed = _loader(iterable=True)
    resumed.load_state_dict(state)
    rest = [[_rows(b) for b in resumed] for _ in range(EPOCHS - 1)]
    _close(resumed)
    assert [first, second + rest[0], *rest[1:]] == full
