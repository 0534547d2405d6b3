"""searchsorted and bucketize on sequences that are not sorted or hold NaN: torch's kernel
halves [0, n) whatever the sequence holds, so its answers follow its probe path; ember takes
the same path there (NumPy's search differs), and NumPy's search where it agrees."""
import numpy as np
import pytest

import ember

NAN, INF = float("nan"), float("inf")
SEQUENCES = {
    "nan at the end": [0.0, 1.0, NAN, NAN],
    "sorted": [0.0, 1.0, 2.0],
    "unsorted": [3.0, 1.0, 2.0, 0.0, 5.0],
    "nan first": [NAN, 1.0, 2.0],
    "infinities and nan": [-INF, -1.0, 2.0, INF, NAN, NAN],
    "empty": [],
    "repeated": [1.0, 1.0, 1.0],
}
VALUES = [NAN, 0.5, 5.0, -INF, INF, 1.0, 2.0]


def _answers(lib, seq):
    s, v = lib.tensor(seq), lib.tensor(VALUES)
    out = [lib.searchsorted(s, v), lib.searchsorted(s, v, right=True),
           lib.searchsorted(s, v, side="right", out_int32=True), lib.bucketize(v, s),
           lib.bucketize(v, s, right=True), lib.searchsorted(s, lib.tensor(2.0))]
    if seq:
        out.append(lib.searchsorted(s, v, sorter=s.argsort()))
    return [(str(t.dtype).split(".")[-1], t.tolist()) for t in out]


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_search_answers_match_torch(torch, name):
    assert _answers(ember, SEQUENCES[name]) == _answers(torch, SEQUENCES[name])


def test_batched_rows_with_nan_and_disorder_match_torch(torch):
    rows = [[0.0, NAN, 2.0], [3.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
    keys = [[NAN, 0.5, 5.0, -INF], [INF, 1.0, 2.0, 0.0], [1.0, 1.0, 3.0, -1.0]]
    for right in (False, True):
        ours = ember.searchsorted(ember.tensor(rows), ember.tensor(keys), right=right)
        theirs = torch.searchsorted(torch.tensor(rows), torch.tensor(keys), right=right)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
