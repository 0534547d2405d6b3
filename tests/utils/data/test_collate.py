"""default_collate / default_convert rules, the error that says where, and PadCollate."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import ember
from ember.utils.data import (
    CollateError,
    DataLoader,
    PadCollate,
    PaddedBatch,
    collate,
    default_collate,
    default_collate_fn_map,
    default_convert,
)

from .datasets import VarLen

Point = collections.namedtuple("Point", ["x", "y"])


def test_tensors_stack_into_a_new_first_dim():
    out = default_collate([ember.ones(2, 3), ember.zeros(2, 3)])
    assert isinstance(out, ember.Tensor) and tuple(out.shape) == (2, 2, 3)
    assert out.dtype == ember.float32


def test_stacked_batch_is_a_copy_not_a_view():
    a = ember.zeros(3)
    out = default_collate([a, a])
    out[0, 0] = 5.0
    assert a[0].item() == 0.0


def test_numpy_arrays_and_scalars():
    out = default_collate([np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int32)])
    assert out.dtype == ember.int32 and tuple(out.shape) == (2, 3)
    assert default_collate([np.float32(1), np.float32(2)]).dtype == ember.float32
    assert default_collate([np.bool_(True), np.bool_(False)]).dtype == ember.bool


def test_python_numbers_follow_torch():
    assert default_collate([1.5, 2.0]).dtype == ember.float64
    ints = default_collate([1, 2])
    assert ints.dtype == ember.int64 and ints.tolist() == [1, 2]
    bools = default_collate([True, False])
    assert bools.dtype == ember.bool and bools.tolist() == [True, False]


def test_strings_and_bytes_stay_lists():
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([b"a", b"b"]) == [b"a", b"b"]


def test_mappings_namedtuples_sequences():
    out = default_collate([{"a": 1, "b": np.zeros(2)}, {"a": 2, "b": np.ones(2)}])
    assert out["a"].tolist() == [1, 2] and tuple(out["b"].shape) == (2, 2)
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3] and p.y.dtype == ember.float64
    t = default_collate([(1, "x"), (2, "y")])
    assert isinstance(t, list) and t[0].tolist() == [1, 2] and t[1] == ("x", "y")  # as torch
    lst = default_collate([[1, 2], [3, 4]])
    assert [v.tolist() for v in lst] == [[1, 3], [2, 4]]


def test_mixed_dtypes_promote_like_torch():
    out = default_collate([ember.zeros(2, dtype=ember.int64), ember.zeros(2)])
    assert out.dtype == ember.float32  # NumPy would say float64


def test_requires_grad_tensors_stay_differentiable():
    a = ember.ones(2, requires_grad=True)
    out = default_collate([a, a * 2])
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


def test_unsupported_types_raise_type_error():
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_shape_mismatch_keeps_torch_first_line_and_says_where():
    batch = [{"input_ids": np.zeros(5)}, {"input_ids": np.zeros(5)}, {"input_ids": np.zeros(7)}]
    with pytest.raises(RuntimeError) as info:
        default_collate(batch)
    err = info.value
    assert isinstance(err, CollateError)
    lines = str(err).splitlines()
    assert lines[0] == ("stack expects each tensor to be equal size, but got [5] at entry 0 "
                        "and [7] at entry 2")
    assert 'batch[2]["input_ids"] has shape [7]' in lines[1]
    assert "[5] at positions 0, 1; [7] at position 2" in lines[2]
    assert "PadCollate" in str(err) and "drop_last" in str(err)


def test_shape_mismatch_through_dataloader_names_dataset_index():
    loader = DataLoader(VarLen([4, 4, 4, 4, 4, 2]), batch_size=3)
    with pytest.raises(RuntimeError) as info:
        list(loader)
    msg = str(info.value)
    assert msg.startswith("stack expects each tensor to be equal size")
    assert 'batch[2]["input_ids"] (dataset index 5) has shape [2]' in msg
    assert "dataset index 5, the dataset's last item" in msg


def test_nested_path_in_tuples_and_namedtuples():
    with pytest.raises(CollateError) as info:
        default_collate([(1, Point(np.zeros(2), 0)), (2, Point(np.zeros(3), 0))])
    assert "batch[1][1].x has shape [3]" in str(info.value)


def test_unequal_sequence_lengths():
    with pytest.raises(RuntimeError) as info:
        default_collate([[1, 2], [1, 2], [1]])
    msg = str(info.value)
    assert msg.splitlines()[0] == "each element in list of batch should be of equal size"
    assert "batch[2] has length 1 elements" in msg


def test_shape_mismatch_beyond_first_dim_gives_other_hint():
    with pytest.raises(CollateError) as info:
        default_collate([np.zeros((2, 3)), np.zeros((2, 4))])
    assert "differ beyond their first dimension" in str(info.value)


def test_collate_error_survives_pickling():
    import pickle

    with pytest.raises(CollateError) as info:
        default_collate([np.zeros(2), np.zeros(3)])
    err = pickle.loads(pickle.dumps(info.value))
    assert str(err) == str(info.value) and err.sizes == [(2,), (3,)]


def test_collate_fn_map_extension():
    class Box:
        def __init__(self, v):
            self.v = v

    def collate_box(batch, *, collate_fn_map=None):
        return sum(b.v for b in batch)

    assert collate([Box(1), Box(2)], collate_fn_map={Box: collate_box}) == 3
    custom = {**default_collate_fn_map, Box: collate_box}
    out = collate([(Box(1), 1), (Box(5), 2)], collate_fn_map=custom)
    assert out[0] == 6 and out[1].tolist() == [1, 2]


def test_default_convert():
    out = default_convert((np.zeros(2), 1, "a"))
    assert isinstance(out, list) and isinstance(out[0], ember.Tensor)
    assert out[0].dtype == ember.float64 and out[1] == 1 and out[2] == "a"
    assert default_convert(np.float64(2)).dtype == ember.float64
    s = np.array(["x"])
    assert default_convert(s) is s
    p = default_convert(Point(np.array(0), 1))
    assert isinstance(p, Point) and isinstance(p.x, ember.Tensor)
    d = default_convert({"a": np.ones(1)})
    assert isinstance(d["a"], ember.Tensor)


# --- PadCollate -------------------------------------------------------------------------


def test_pad_collate_plain_sequences():
    out = PadCollate(padding_value=-1)([ember.tensor([1, 2, 3]), ember.tensor([4])])
    assert isinstance(out, PaddedBatch)
    x, lengths, mask = out
    assert x.tolist() == [[1, 2, 3], [4, -1, -1]]
    assert lengths.tolist() == [3, 1] and lengths.dtype == ember.int64
    assert mask.tolist() == [[True, True, True], [True, False, False]]


def test_pad_collate_left_and_time_first():
    x, lengths, mask = PadCollate(padding_side="left", batch_first=False)(
        [np.array([1, 2]), np.array([3])])
    assert x.tolist() == [[1, 0], [2, 3]]
    assert mask.tolist() == [[True, False], [True, True]]


def test_pad_collate_trailing_dims_and_lists():
    x, lengths, _ = PadCollate()([np.ones((2, 3), np.float32), np.ones((1, 3), np.float32)])
    assert tuple(x.shape) == (2, 2, 3) and x.dtype == ember.float32
    y, _, _ = PadCollate()([[1.5, 2.5], [3.5]])
    assert y.dtype == ember.float32


def test_pad_collate_tuples_pad_sequence_fields_only():
    out = PadCollate(padding_values={0: 9})([(np.array([1, 2]), 0), (np.array([3]), 1)])
    assert out[0].data.tolist() == [[1, 2], [3, 9]]
    assert out[1].tolist() == [0, 1]


def test_pad_collate_dicts_per_key_values_and_missing_keys():
    batch = [{"input_ids": [5, 6, 7], "labels": [1, 1, 1], "id": 0},
             {"input_ids": [8], "id": 1}]
    out = PadCollate(padding_values={"input_ids": 0, "labels": -100})(batch)
    assert out["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert out["input_ids_lengths"].tolist() == [3, 1]
    assert out["input_ids_mask"].tolist() == [[True] * 3, [True, False, False]]
    assert out["labels"].tolist() == [[1, 1, 1], [-100, -100, -100]]  # missing: filled
    assert out["labels_mask"].tolist() == [[True] * 3, [False] * 3]  # and masked out
    assert out["labels_lengths"].tolist() == [3, 0]
    assert out["id"].tolist() == [0, 1]


def test_pad_collate_missing_scalar_key_gets_presence_mask():
    out = PadCollate(padding_values={"w": 0.0})([{"x": [1], "w": 2.0}, {"x": [1, 2]}])
    assert out["w"].tolist() == [2.0, 0.0] and out["w_mask"].tolist() == [True, False]


def test_pad_collate_missing_key_error_option():
    with pytest.raises(KeyError, match=r"batch\[1\] has no key 'labels'"):
        PadCollate(missing="error")([{"x": [1], "labels": [1]}, {"x": [2]}])


def test_pad_collate_validation():
    with pytest.raises(ValueError, match="padding_side"):
        PadCollate(padding_side="middle")
    with pytest.raises(ValueError, match="missing"):
        PadCollate(missing="drop")
    with pytest.raises(CollateError, match="trailing dimensions differ"):
        PadCollate()([np.ones((2, 3)), np.ones((2, 4))])


def test_pad_collate_in_a_dataloader_with_workers():
    loader = DataLoader(VarLen([3, 1, 2, 5]), batch_size=2, num_workers=2,
                        collate_fn=PadCollate())
    batches = list(loader)
    assert batches[0]["input_ids"].tolist() == [[1, 2, 3], [1, 0, 0]]
    assert batches[1]["input_ids_lengths"].tolist() == [2, 5]
    assert batches[1]["label"].tolist() == [2, 3]
