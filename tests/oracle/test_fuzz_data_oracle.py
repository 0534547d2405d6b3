"""Seeded fuzz of ember.utils.data against torch.utils.data (the cases: ``_fuzz_data_cases``).

Random DataLoaders (batch_size including None, shuffle, drop_last, a generator seeded the
same in both libraries or none after ``manual_seed``, explicit samplers and batch samplers,
default / None / custom collate_fn, map-style, ``__getitems__``, TensorDataset, Subset,
ConcatDataset, StackDataset and iterable datasets), iterated for several epochs, some of them
partial or never started. Each must give torch's batches (values, dtypes, shapes and
container types), ask the dataset for the same indices in the same order, raise torch's
exceptions and warnings, report torch's lengths, and leave the default and the loader's
generators where torch leaves them. The same for ``default_collate`` / ``default_convert`` on
random nested samples (some corrupted: other shapes, other types, short sequences), the
samplers, ``random_split`` and the dataset wrappers' errors; and a few runs with two workers.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.utils.data as ed
from tests.oracle import _fuzz_data_cases as fz

torch = pytest.importorskip("torch")
import torch.utils.data as td  # noqa: E402 - after the importorskip

CHUNKS = 8


def _mismatches(make, run, seeds):
    bad = []
    for seed in seeds:
        case = make(seed)
        got, want = run(ember, case), run(torch, case)
        if got != want:
            bad.append((seed, got, want))
    return bad


def _report(bad):
    seed, got, want = bad[0]
    return f"{len(bad)} mismatches; first at seed {seed}:\n ember: {got}\n torch: {want}"


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_dataloader_matches_torch(chunk):
    bad = _mismatches(fz.random_loader_case, fz.run_loader, range(chunk * 60, chunk * 60 + 60))
    assert not bad, _report(bad)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_default_collate_and_convert_match_torch(chunk):
    def run(lib, batch):
        data = lib.utils.data
        return [fz.outcome(lambda: data.default_collate(fz.realize(lib, batch))),
                fz.outcome(lambda: data.default_convert(fz.realize(lib, batch))),
                fz.outcome(lambda: data.default_convert(fz.realize(lib, batch[-1])))]

    bad = _mismatches(fz.random_batch, run, range(chunk * 250, chunk * 250 + 250))
    assert not bad, _report(bad)


def test_samplers_match_torch():
    bad = _mismatches(fz.random_sampler_case, fz.run_sampler, range(300))
    assert not bad, _report(bad)


def test_random_split_matches_torch():
    bad = _mismatches(fz.random_split_case, fz.run_random_split, range(300))
    assert not bad, _report(bad)


def _dataset_case(seed):
    rng = np.random.default_rng(seed)
    sizes = [int(rng.choice([2, 3, 3, 3])) for _ in range(int(rng.integers(1, 4)))]
    return {"sizes": sizes, "dtypes": [str(rng.choice(fz.DTYPES)) for _ in sizes],
            "batch": int(rng.integers(1, 4)), "dict": bool(rng.random() < 0.5), "seed": seed}


def _run_datasets(lib, case):
    """TensorDataset and StackDataset over columns of the case's sizes: errors, len, items
    (negative indices too) and a loader's batches."""
    data = lib.utils.data
    cols = [lib.tensor(np.arange(n * 2).reshape(n, 2).astype(d))
            for n, d in zip(case["sizes"], case["dtypes"])]
    out = []
    for make in (lambda: data.TensorDataset(*cols),
                 lambda: data.StackDataset(**{f"c{i}": c for i, c in enumerate(cols)})
                 if case["dict"] else data.StackDataset(*cols)):
        built = fz.outcome(lambda make=make: type(make()).__name__)
        out.append(built)
        if built[0][0] == "raised":
            continue
        ds = make()
        out += [fz.outcome(lambda ds=ds: len(ds)), fz.outcome(lambda ds=ds: ds[-1]),
                fz.outcome(lambda ds=ds: ds[len(ds)]),
                fz.outcome(lambda ds=ds: list(data.DataLoader(ds, batch_size=case["batch"])))]
    return out


def test_tensor_and_stack_datasets_match_torch():
    bad = _mismatches(_dataset_case, _run_datasets, range(60))
    assert not bad, _report(bad)


# --- two workers (slow: three small runs) ------------------------------------------------


class _Tagged:
    """Item i is (i, worker id, the tag worker_init_fn set, a random draw in the worker)."""

    def __init__(self, lib, n):
        self.lib, self.n, self.tag = lib, n, -1

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = self.lib.utils.data.get_worker_info()
        return (i, info.id, self.tag, int(self.lib.randint(0, 1000, ()).item()))


def _tag_worker(worker_id):
    """worker_init_fn: give the worker's dataset copy a tag (and draw, as users do)."""
    info = ed.get_worker_info() or td.get_worker_info()
    info.dataset.tag = 100 + worker_id + int(np.random.randint(0, 10))


def _epochs(loader, plan):
    out = []
    try:
        for k in plan:
            it = iter(loader)
            out.append([fz.plain(b) for _, b in zip(range(k if k is not None else 10**9), it)])
    finally:
        if loader._iterator is not None:
            loader._iterator._shutdown_workers()
    return out


@pytest.mark.parametrize("persistent", [False, True])
def test_workers_shuffle_init_fn_match_torch(persistent):
    def run(lib):
        lib.manual_seed(3)
        loader = lib.utils.data.DataLoader(
            _Tagged(lib, 11), batch_size=3, shuffle=True, num_workers=2,
            generator=lib.Generator().manual_seed(8), worker_init_fn=_tag_worker,
            persistent_workers=persistent, prefetch_factor=1)
        return _epochs(loader, [2, None]), lib.randint(0, 1000, (2,)).tolist()

    assert run(ember) == run(torch)


def test_workers_eager_sampler_unbatched_match_torch():
    """A sampler that shuffles in ``__iter__`` (torch calls it twice in a first epoch with
    workers) from the default generator, ``batch_size=None``, persistent workers."""
    def run(lib):
        lib.manual_seed(4)
        sampler = fz.classes(lib)["EagerSampler"](7, None)
        loader = lib.utils.data.DataLoader(_Tagged(lib, 7), batch_size=None, sampler=sampler,
                                           num_workers=2, persistent_workers=True,
                                           worker_init_fn=_tag_worker)
        return _epochs(loader, [None, None]), lib.randint(0, 1000, (2,)).tolist()

    assert run(ember) == run(torch)
