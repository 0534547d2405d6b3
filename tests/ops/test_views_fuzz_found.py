"""Regressions found by the view-chain fuzzer (``tests/oracle/test_fuzz_views_oracle.py``),
minimised, with torch's results written out by hand."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck


def test_cat_and_stack_of_transposed_inputs_are_contiguous():
    x = ember.arange(6.).reshape(2, 3).t()
    joined = ember.cat([x, x])
    assert joined.stride() == (2, 1) and joined.is_contiguous()
    assert joined.view(-1).tolist() == [0., 3., 1., 4., 2., 5.] * 2
    stacked = ember.stack([x, x], 1)
    assert stacked.stride() == (4, 2, 1) and stacked.is_contiguous()


def test_cat_of_channels_last_inputs_stays_channels_last():
    x = ember.arange(24.).reshape(1, 2, 3, 4).contiguous(memory_format=ember.channels_last)
    assert ember.cat([x, x], 1).stride() == (48, 1, 16, 4)
    assert ember.cat([x, x.contiguous()], 1).stride() == (48, 12, 4, 1)  # mixed: row-major


def test_unfold_windows_can_be_written():
    x = ember.arange(6.)
    x.unfold(0, 3, 2).fill_(-1)
    assert x.tolist() == [-1., -1., -1., -1., -1., 5.]


def test_unfold_of_an_expanded_input_counts_windows_not_memory():
    x = ember.tensor([1., 2.], requires_grad=True)
    y = x.expand(1, 1, 3, 2).unfold(2, 3, 1)  # one window over the 3 repeats of each element
    (y * ember.arange(6.).reshape(1, 1, 1, 2, 3)).sum().backward()
    assert x.grad.tolist() == [0. + 1. + 2., 3. + 4. + 5.]


def test_unfold_of_overlapping_windows_gradient():
    x = ember.arange(5., dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: t.expand(2, 5).unfold(1, 2, 1).unfold(1, 2, 1) ** 2, (x,))
    z = ember.tensor([1 + 1j, 2 + 2j, 3 + 3j], dtype=ember.complex128, requires_grad=True)
    y = z.unfold(0, 2, 1).unfold(0, 2, 1)  # windows of windows: complex, overlapping
    ember.view_as_real(y).sum().backward()
    assert z.grad.tolist() == [1 + 1j, 2 + 2j, 1 + 1j]  # z1 sits in both windows


def test_as_strided_of_an_expanded_input_shares_the_gradient():
    x = ember.arange(4., requires_grad=True)
    y = x.expand(2, 4).as_strided((3,), (1,), 0)
    (y * ember.tensor([0., 1., 2.])).sum().backward()
    assert x.grad.tolist() == [0., 1., 2., 0.]  # torch divides by the 2 repeats
    x64 = ember.arange(4., dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: t.expand(2, 4).t().as_strided((2, 2), (1, 1), 1) ** 2, (x64,))


def test_as_strided_beyond_the_input_is_a_view_with_a_gradient():
    base = ember.arange(6., requires_grad=True)
    part = base * 1
    y = part[2:4].as_strided((3, 2), (1, 1), 1)  # storage elements 1..4, the input holds 2..3
    assert y._base is part and y.grad_fn.name() == "AsStridedBackward0"
    (y * ember.arange(6.).reshape(3, 2)).sum().backward()
    assert base.grad.tolist() == [0., 0., 1. + 2., 3. + 4., 0., 0.]
    plain = ember.arange(12.)
    outside = plain.view(3, 4)[0].as_strided((2,), (1,), 6)
    assert outside._base is plain and outside.tolist() == [6., 7.]


def test_as_strided_counts_in_the_inputs_own_elements():
    z = ember.arange(6.).reshape(2, 3) * (1 + 1j)
    r = ember.view_as_real(z).as_strided((3,), (2,), 1)  # the imaginary parts
    assert r.dtype == ember.float32 and r.tolist() == [0., 1., 2.]
    im = z.imag.as_strided((2,), (2,), 3)
    assert im.dtype == ember.float32 and im.tolist() == [1., 2.]
    c = ember.view_as_complex(ember.arange(8.).reshape(4, 2)).as_strided((2,), (1,), 2)
    assert c.dtype == ember.complex64 and c.tolist() == [4 + 5j, 6 + 7j]


def test_channels_last_clone_of_a_channels_last_tensor_is_a_copy():
    x = ember.arange(32.).reshape(4, 1, 2, 4)  # C=1: already channels_last
    c = x.clone(memory_format=ember.channels_last)
    c.fill_(-1)
    assert x[0, 0, 0].tolist() == [0., 1., 2., 3.]
    assert c.is_contiguous(memory_format=ember.channels_last)


def test_repeat_once_gives_a_contiguous_copy():
    x = ember.arange(6.).reshape(2, 3).t().expand(1, 3, 2)
    r = x.repeat(1, 1, 1)
    assert r.is_contiguous() and r.stride() == (6, 2, 1)
    assert r.view(-1).tolist() == [0., 3., 1., 4., 2., 5.]


@pytest.mark.parametrize("op", ["reshape", "view"])
def test_inferred_size_of_an_empty_tensor_is_ambiguous(op):
    with pytest.raises(RuntimeError, match=r"^cannot reshape tensor of 0 elements into shape "
                       r"\[0, 1, -1\] because the unspecified dimension size -1 can be any "
                       r"value and is ambiguous$"):
        getattr(ember.zeros(0), op)(0, 1, -1)
    with pytest.raises(RuntimeError, match=r"^shape '\[0, -1\]' is invalid for input of size "
                                           r"6$"):
        getattr(ember.zeros(6), op)(0, -1)


def test_unflatten_rewords_inference_errors_as_torch():
    with pytest.raises(RuntimeError, match=r"^unflatten: Provided sizes \[4, -1\] don't "
                                           r"multiply up to the size of dim 1 \(6\)"):
        ember.zeros(1, 6).unflatten(1, (4, -1))
    with pytest.raises(RuntimeError) as info:
        ember.zeros(1, 0).unflatten(1, (0, -1))
    assert str(info.value).splitlines() == [
        "unflatten got an unexpected error:",
        "cannot reshape tensor of 0 elements into shape [0, -1] because the unspecified "
        "dimension size -1 can be any value and is ambiguous"]


def test_empty_unfold_and_broadcast_are_views():
    x = ember.zeros(1, 0, 4)
    assert x.unfold(-1, 4, 1)._base is x
    assert x.broadcast_to((2, 1, 0, 4))._base is x


def test_unfold_and_as_strided_plain_gradients_unchanged():
    x = ember.tensor(np.arange(7.), requires_grad=True)
    x.unfold(0, 3, 2).sum().backward()
    assert x.grad.tolist() == [1., 1., 2., 1., 2., 1., 1.]


def test_clone_of_an_expanded_tensor_sorts_its_strides_as_torch():
    x = ember.arange(6.).reshape(3, 2, 1).expand(3, 2, 2).movedim(1, 0)  # strides (1, 2, 0)
    c = x.clone()
    assert c.stride() == (2, 4, 1) and not c.is_contiguous()
    assert c.tolist() == x.tolist()
    assert ember.arange(4.).expand(3, 4).clone().stride() == (4, 1)
