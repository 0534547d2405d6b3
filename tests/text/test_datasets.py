"""TextDataset: exact length at the boundary, shifted views, indices, errors, DataLoader."""
import numpy as np
import pytest

import ember
from ember.text import TextDataset


def _brute_force_len(n, seq_len, stride):
    return sum(1 for s in range(0, n, stride) if s + seq_len + 1 <= n)


@pytest.mark.parametrize("seq_len", [1, 2, 3, 5])
@pytest.mark.parametrize("stride", [None, 1, 2, 3, 7])
def test_len_is_exact_for_every_corpus_size(seq_len, stride):
    for n in range(0, 30):
        ds = TextDataset(np.arange(n), seq_len, stride)
        assert len(ds) == _brute_force_len(n, seq_len, stride or seq_len), n


def test_len_at_the_boundary():
    # a block needs seq_len + 1 tokens: seq_len for x and one more for y's last token
    assert len(TextDataset(np.arange(4), seq_len=4)) == 0
    assert len(TextDataset(np.arange(5), seq_len=4)) == 1
    assert len(TextDataset(np.arange(8), seq_len=4)) == 1
    assert len(TextDataset(np.arange(9), seq_len=4)) == 2
    ds = TextDataset(np.arange(9), seq_len=4)
    x, y = ds[len(ds) - 1]
    assert y.tolist()[-1] == 8  # the last block ends exactly at the last token


def test_items_are_shifted_int64_blocks():
    tokens = np.arange(100, 120)
    ds = TextDataset(tokens, seq_len=4, stride=3)
    for idx in range(len(ds)):
        x, y = ds[idx]
        assert x.dtype == ember.int64 and y.dtype == ember.int64
        assert tuple(x.shape) == (4,) and tuple(y.shape) == (4,)
        start = idx * 3
        assert x.tolist() == list(range(100 + start, 104 + start))
        assert y.tolist() == list(range(101 + start, 105 + start))


def test_stride_defaults_to_seq_len_and_stride_one_gives_every_window():
    ds = TextDataset(np.arange(10), seq_len=3)
    assert ds.stride == 3
    assert [ds[i][0].tolist()[0] for i in range(len(ds))] == [0, 3, 6]
    ds = TextDataset(np.arange(10), seq_len=3, stride=1)
    assert len(ds) == 7
    assert [ds[i][0].tolist()[0] for i in range(len(ds))] == list(range(7))


def test_items_are_views_of_an_int64_array():
    tokens = np.arange(50, dtype=np.int64)
    ds = TextDataset(tokens, seq_len=8)
    x, y = ds[2]
    assert np.shares_memory(x.numpy(), tokens)
    assert np.shares_memory(y.numpy(), tokens)
    tokens[16] = -7  # the dataset sees changes: nothing was copied
    assert ds[2][0].tolist()[0] == -7


def test_items_are_views_of_an_int64_tensor():
    t = ember.arange(50, dtype=ember.int64)
    ds = TextDataset(t, seq_len=8, stride=4)
    x, y = ds[3]
    assert np.shares_memory(x.numpy(), t.numpy())
    assert np.shares_memory(y.numpy(), t.numpy())
    assert np.shares_memory(ds.tokens.numpy(), t.numpy())


def test_other_integer_inputs_are_converted_once():
    for tokens in (np.arange(20, dtype=np.int32), np.arange(20, dtype=np.uint8),
                   list(range(20)), range(20), ember.tensor(list(range(20)), dtype=ember.int32)):
        ds = TextDataset(tokens, seq_len=5)
        x, y = ds[1]
        assert x.dtype == ember.int64
        assert x.tolist() == [5, 6, 7, 8, 9] and y.tolist() == [6, 7, 8, 9, 10]
    assert len(TextDataset([], seq_len=2)) == 0


def test_negative_indices():
    ds = TextDataset(np.arange(13), seq_len=4)  # 3 blocks
    assert len(ds) == 3
    assert ds[-1][0].tolist() == ds[2][0].tolist()
    assert ds[-3][1].tolist() == ds[0][1].tolist()
    assert ds[np.int64(-2)][0].tolist() == [4, 5, 6, 7]


@pytest.mark.parametrize("idx", [3, 4, -4, 100])
def test_out_of_range_raises_index_error(idx):
    ds = TextDataset(np.arange(13), seq_len=4)
    with pytest.raises(IndexError, match=f"index {idx} is out of range"):
        ds[idx]


def test_empty_dataset_raises_index_error():
    with pytest.raises(IndexError):
        TextDataset(np.arange(3), seq_len=4)[0]


@pytest.mark.parametrize("idx", [1.0, "0", slice(0, 2), None, True])
def test_non_integer_index_raises_type_error(idx):
    with pytest.raises(TypeError, match="integers"):
        TextDataset(np.arange(13), seq_len=4)[idx]


@pytest.mark.parametrize("seq_len, stride, name", [(0, None, "seq_len"), (-3, None, "seq_len"),
                                                   (4, 0, "stride"), (4, -1, "stride")])
def test_seq_len_and_stride_below_one_raise_value_error(seq_len, stride, name):
    with pytest.raises(ValueError, match=f"{name} must be at least 1, got"):
        TextDataset(np.arange(10), seq_len, stride)


@pytest.mark.parametrize("seq_len, stride", [(2.5, None), ("4", None), (4, 1.5), (True, None)])
def test_non_integer_seq_len_or_stride_raises_type_error(seq_len, stride):
    with pytest.raises(TypeError, match="must be an integer"):
        TextDataset(np.arange(10), seq_len, stride)


@pytest.mark.parametrize("tokens", [np.zeros((2, 5), dtype=np.int64), np.int64(3),
                                    [[1, 2], [3, 4]]])
def test_tokens_not_1d_raise_value_error(tokens):
    with pytest.raises(ValueError, match="1-D"):
        TextDataset(tokens, seq_len=2)


@pytest.mark.parametrize("tokens", [np.arange(10, dtype=np.float32), [0.5, 1.5, 2.5],
                                    np.ones(10, dtype=bool), ["a", "b", "c"]])
def test_tokens_not_integer_raise_type_error(tokens):
    with pytest.raises(TypeError, match="integer"):
        TextDataset(tokens, seq_len=2)


def test_float_tensor_raises_type_error():
    with pytest.raises(TypeError, match="float32"):
        TextDataset(ember.zeros(10), seq_len=2)


def test_repr():
    assert repr(TextDataset(np.arange(10), seq_len=3)) == (
        "TextDataset(num_tokens=10, seq_len=3, stride=3, len=3)"
    )


def test_is_a_dataset():
    data = pytest.importorskip("ember.utils.data")
    assert isinstance(TextDataset(np.arange(10), 3), data.Dataset)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_works_with_dataloader(num_workers):
    data = pytest.importorskip("ember.utils.data")
    tokens = np.arange(1000, 1104)
    ds = TextDataset(tokens, seq_len=5, stride=2)
    assert len(ds) == 50  # (104 - 5 - 1) // 2 + 1
    loader = data.DataLoader(ds, batch_size=8, shuffle=False, num_workers=num_workers)
    batches = list(loader)
    assert len(batches) == 7  # ceil(50 / 8)
    xs = np.concatenate([x.numpy() for x, _ in batches])
    ys = np.concatenate([y.numpy() for _, y in batches])
    first_x, first_y = batches[0]
    assert tuple(first_x.shape) == (8, 5) and first_x.dtype == ember.int64
    assert tuple(first_y.shape) == (8, 5) and first_y.dtype == ember.int64
    expected = np.stack([tokens[i * 2: i * 2 + 5] for i in range(50)])
    np.testing.assert_array_equal(xs, expected)
    np.testing.assert_array_equal(ys, expected + 1)


def test_dataloader_with_workers_and_shuffle_covers_every_block():
    data = pytest.importorskip("ember.utils.data")
    ember.manual_seed(0)
    ds = TextDataset(np.arange(61), seq_len=3)  # 20 blocks
    loader = data.DataLoader(ds, batch_size=6, shuffle=True, num_workers=2, drop_last=True)
    starts = sorted(int(v) for x, _ in loader for v in x.numpy()[:, 0])
    assert len(starts) == 18 and len(set(starts)) == 18
    assert set(starts) <= set(range(0, 60, 3))
