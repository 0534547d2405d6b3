"""Which ``k`` elements ``torch.topk`` picks on the CPU, ties included.

torch's CPU ``topk`` puts ``(value, index)`` pairs in a vector and runs libstdc++'s
``std::partial_sort`` (when ``k * 64 <= n``) or ``std::nth_element``, comparing values only;
which of several equal values ends up among the ``k`` depends on how those algorithms move
elements around. Pruning turns that choice into a mask, so ``prune`` replays the algorithms
here (the heap select and the introselect, step for step) whenever the ``k``-th and
``(k+1)``-th values tie; without a tie the set is unambiguous and NumPy finds it.
"""
from __future__ import annotations

import numpy as np


def _comparator(largest):
    """torch's ``topk`` comparator: ``a`` goes before ``b``; NaN counts as the largest."""
    if largest:
        return lambda a, b: (a != a and b == b) or a > b
    return lambda a, b: (a == a and b != b) or a < b


def _adjust_heap(q, first, hole, length, value, comp):
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if comp(q[first + child][0], q[first + child - 1][0]):
            child -= 1
        q[first + hole] = q[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        q[first + hole] = q[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and comp(q[first + parent][0], value[0]):
        q[first + hole] = q[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    q[first + hole] = value


def _heap_select(q, first, middle, last, comp):
    """libstdc++'s ``__heap_select``: the ``middle - first`` best of ``[first, last)``."""
    length = middle - first
    if length >= 2:
        for parent in range((length - 2) // 2, -1, -1):
            _adjust_heap(q, first, parent, length, q[first + parent], comp)
    for i in range(middle, last):
        if comp(q[i][0], q[first][0]):
            value = q[i]
            q[i] = q[first]
            _adjust_heap(q, first, 0, length, value, comp)


def _partition_pivot(q, first, last, comp):
    """Median of three moved to ``first``, then the unguarded Hoare partition."""
    a, b, c = first + 1, first + (last - first) // 2, last - 1
    va, vb, vc = q[a][0], q[b][0], q[c][0]
    if comp(va, vb):
        pick = b if comp(vb, vc) else (c if comp(va, vc) else a)
    elif comp(va, vc):
        pick = a
    else:
        pick = c if comp(vb, vc) else b
    q[first], q[pick] = q[pick], q[first]
    pivot = q[first][0]
    lo, hi = first + 1, last
    while True:
        while comp(q[lo][0], pivot):
            lo += 1
        hi -= 1
        while comp(pivot, q[hi][0]):
            hi -= 1
        if not lo < hi:
            return lo
        q[lo], q[hi] = q[hi], q[lo]
        lo += 1


def _insertion_sort(q, first, last, comp):
    for i in range(first + 1, last):
        value = q[i]
        if comp(value[0], q[first][0]):
            q[first + 1:i + 1] = q[first:i]
            q[first] = value
        else:
            j = i
            while comp(value[0], q[j - 1][0]):
                q[j] = q[j - 1]
                j -= 1
            q[j] = value


def _nth_element(q, nth, comp):
    """libstdc++'s ``std::nth_element`` (introselect) over the whole list."""
    first, last = 0, len(q)
    depth = 2 * (last.bit_length() - 1)
    while last - first > 3:
        if depth == 0:
            _heap_select(q, first, nth + 1, last, comp)
            q[first], q[nth] = q[nth], q[first]
            return
        depth -= 1
        cut = _partition_pivot(q, first, last, comp)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(q, first, last, comp)


def topk_indices(values: np.ndarray, k: int, largest: bool) -> np.ndarray:
    """The flat indices of the ``k`` elements ``torch.topk(values.view(-1), k, largest=...)``
    returns on the CPU (the same set; their order is not torch's)."""
    v = np.asarray(values).reshape(-1)
    n = v.size
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    nan = np.isnan(v)
    order = np.lexsort((-v, ~nan) if largest else (v, nan))
    a, b = v[order[k - 1]], v[order[k]]
    if not (a == b or (a != a and b != b)):
        return order[:k].astype(np.int64)
    comp = _comparator(largest)
    q = list(zip(v.tolist(), range(n)))
    if k * 64 <= n:
        _heap_select(q, 0, k, n, comp)
    else:
        _nth_element(q, k - 1, comp)
    return np.array([i for _, i in q[:k]], dtype=np.int64)
