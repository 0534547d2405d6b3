"""Samplers: the order in which a DataLoader visits a map-style dataset's indices."""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Generic, TypeVar

import ember

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]

_T_co = TypeVar("_T_co", covariant=True)


def _draw_seed(generator=None) -> int:
    """A fresh 63-bit seed drawn from ``generator`` (the default generator if None).

    torch does ``torch.empty((), dtype=torch.int64).random_(generator=...)`` here, so
    that ``manual_seed`` (or a fixed ``generator``) makes every epoch reproducible.

    Raises:
        TypeError: ``generator`` is neither None nor an ``ember.Generator`` (torch's message).
    """
    if generator is not None and not isinstance(generator, ember.Generator):
        raise TypeError(
            "random_() received an invalid combination of arguments - got "
            f"(generator={type(generator).__name__}, ), but expected one of:\n"
            " * (*, torch.Generator generator = None)\n"
            " * (int from, int to, *, torch.Generator generator = None)\n"
            " * (int to, *, torch.Generator generator = None)\n")
    return int(ember.empty((), dtype=ember.int64).random_(generator=generator).item())


class Sampler(Generic[_T_co]):
    """Base class of all samplers: ``__iter__`` yields indices (or lists of indices).

    ``__len__`` is optional, but the DataLoader's ``len()`` needs it. Generic like
    torch's (``class MySampler(Sampler[int])``); it takes no constructor arguments (torch
    2.13 dropped the old ``data_source`` one: ``Sampler(ds)`` raises ``TypeError``).
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``, always in that order.

    Args:
        data_source: anything with ``__len__``.
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices in random order: a fresh permutation each epoch, or draws with replacement.

    Args:
        data_source: anything with ``__len__``.
        replacement: draw ``num_samples`` indices independently (with repeats) if True.
        num_samples: how many indices per epoch (default ``len(data_source)``); without
            replacement, more than ``len`` chains several permutations.
        generator: ``ember.Generator`` to draw from; if None, each epoch seeds a private
            generator from ember's default generator (so ``ember.manual_seed`` fixes it).

    Raises:
        TypeError: ``replacement`` is not a bool.
        ValueError: ``num_samples`` is not a positive int.
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        """Indices per epoch."""
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.generator is None:
            generator = ember.Generator().manual_seed(_draw_seed())
        else:
            generator = self.generator
        if self.replacement:
            # Draw in chunks of 32, as torch does, so a partial epoch draws little.
            for _ in range(self.num_samples // 32):
                yield from ember.randint(0, n, (32,), dtype=ember.int64,
                                         generator=generator).tolist()
            yield from ember.randint(0, n, (self.num_samples % 32,), dtype=ember.int64,
                                     generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from ember.randperm(n, generator=generator).tolist()
            yield from ember.randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a new random order each epoch (without replacement).

    Args:
        indices: the indices to sample from.
        generator: ``ember.Generator`` to draw from (default generator if None).
    """

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in ember.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Indices ``0 .. len(weights) - 1`` drawn with probability proportional to ``weights``.

    Args:
        weights: non-negative weights, not necessarily summing to one.
        num_samples: how many indices per epoch.
        replacement: with replacement (default); without, an index appears at most once.
        generator: ``ember.Generator`` to draw from (default generator if None).

    Raises:
        ValueError: ``num_samples`` not a positive int, ``replacement`` not a bool, or
            ``weights`` not one-dimensional.
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or \
                num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights_tensor = ember.as_tensor(weights, dtype=ember.float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rand_tensor = ember.multinomial(self.weights, self.num_samples, self.replacement,
                                        generator=self.generator)
        yield from iter(rand_tensor.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Group another sampler's indices into lists of ``batch_size``.

    Args:
        sampler: a sampler or any iterable of indices.
        batch_size: indices per batch.
        drop_last: drop the last batch if it would be shorter than ``batch_size``.

    Raises:
        ValueError: ``batch_size`` not a positive int, or ``drop_last`` not a bool.

    Example::

        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            for batch in zip(*[sampler_iter] * self.batch_size):
                yield [*batch]
        else:
            batch = [*itertools.islice(sampler_iter, self.batch_size)]
            while batch:
                yield batch
                batch = [*itertools.islice(sampler_iter, self.batch_size)]

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
