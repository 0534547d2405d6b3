"""``ember.return_types`` without torch: the structseq behaviour of the shared result types,
their pytree registration, ``out=`` twins, and their use by ops, vmap and fx."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ember
import ember.return_types as ert
from ember.utils import _pytree as ep
from tests.helpers import to_numpy

pytestmark = pytest.mark.filterwarnings("ignore:torch.qr is deprecated:UserWarning")

X = [[3.0, -1.0, 2.0], [0.5, 4.0, -2.0]]


def _x(requires_grad=False):
    return ember.tensor(X, requires_grad=requires_grad)


@pytest.mark.parametrize("name, call", [
    ("max", lambda: ember.max(_x(), 1)),
    ("min", lambda: _x().min(0)),
    ("sort", lambda: _x().sort(descending=True)),
    ("topk", lambda: ember.topk(_x(), 2)),
    ("kthvalue", lambda: ember.kthvalue(_x(), 1)),
    ("median", lambda: _x().median(1)),
    ("nanmedian", lambda: ember.nanmedian(_x(), 0)),
    ("mode", lambda: ember.mode(ember.tensor([[1, 1, 2], [3, 2, 2]]), 1)),
    ("cummax", lambda: ember.cummax(_x(), 1)),
    ("cummin", lambda: _x().cummin(1)),
    ("aminmax", lambda: ember.aminmax(_x())),
    ("frexp", lambda: ember.frexp(_x())),
    ("histogram", lambda: ember.histogram(_x(), 3)),
    ("histogramdd", lambda: ember.histogramdd(_x().mT, bins=2)),
    ("slogdet", lambda: ember.slogdet(ember.eye(2) * 3)),
    ("svd", lambda: ember.svd(_x())),
    ("qr", lambda: ember.qr(_x())),
    ("linalg_svd", lambda: ember.linalg.svd(_x())),
    ("linalg_qr", lambda: ember.linalg.qr(_x())),
    ("linalg_eigh", lambda: ember.linalg.eigh(ember.eye(2))),
    ("linalg_lstsq", lambda: ember.linalg.lstsq(_x().mT, ember.ones(3, 1))),
    ("linalg_lu", lambda: ember.linalg.lu(_x())),
])
def test_ops_return_the_shared_type(name, call):
    out = call()
    assert type(out) is getattr(ert, name) and type(out).__name__ == name
    assert isinstance(out, tuple) and len(out) == type(out).n_fields


def test_repr_is_torchs_multi_line_layout_with_the_ember_prefix():
    assert repr(ert.max((1, "a"))) == "ember.return_types.max(\nvalues=1,\nindices='a')"
    assert str(ert.linalg_lstsq((1, 2, 3, 4))) == (
        "ember.return_types.linalg_lstsq(\nsolution=1,\nresiduals=2,\nrank=3,\n"
        "singular_values=4)")
    out = ember.max(_x(), 1)
    assert repr(out) == f"ember.return_types.max(\nvalues={out.values!r},\nindices={out[1]!r})"


def test_behaves_as_a_plain_tuple():
    a, b = ert.sort((1, 2)), ert.topk((1, 2))
    assert a == b == (1, 2) and hash(a) == hash((1, 2)) and a != (2, 1)
    assert type(a[:1]) is tuple and type(a + (3,)) is tuple and a[::-1] == (2, 1)
    assert a.count(1) == 1 and a.index(2) == 1 and list(a) == [1, 2]
    first, second = a
    assert (first, second) == (a.values, a.indices) == (a[0], a[-1])
    assert not hasattr(a, "__dict__")


def test_has_structseq_members_and_no_namedtuple_methods():
    cls = ert.linalg_lu_factor_ex
    assert (cls.n_fields, cls.n_sequence_fields, cls.n_unnamed_fields) == (3, 3, 0)
    assert cls.__match_args__ == ("LU", "pivots", "info") and cls.__bases__ == (tuple,)
    assert cls.__module__ == "ember.return_types" and cls.__qualname__ == "linalg_lu_factor_ex"
    for attr in ("_fields", "_asdict", "_replace", "_make", "_field_defaults"):
        assert not hasattr(cls, attr), attr
    assert not ep.is_namedtuple(cls((1, 2, 3)))


def test_constructor_takes_one_sequence_of_the_right_length():
    assert ert.frexp(iter([1, 2])) == (1, 2) and ert.frexp(sequence=[1, 2], dict={}) == (1, 2)
    with pytest.raises(TypeError, match="^constructor requires a sequence$"):
        ert.max(1)
    with pytest.raises(TypeError):
        ert.max(1, 2)  # the second argument must be a dict
    with pytest.raises(TypeError, match=r"^ember\.return_types\.svd\(\) takes a 3-sequence "
                                        r"\(2-sequence given\)$"):
        ert.svd((1, 2))
    with pytest.raises(TypeError, match=r"takes a dict as second arg, if any"):
        ert.max((1, 2), [])


def test_fields_are_read_only_and_the_types_are_final():
    out = ember.sort(_x())
    with pytest.raises(AttributeError, match="readonly attribute"):
        out.values = out.indices
    with pytest.raises(AttributeError, match="readonly attribute"):
        del out.indices
    with pytest.raises(AttributeError):
        out.other = 1
    with pytest.raises(TypeError, match=r"type 'ember\.return_types\.sort' is not an "
                                        r"acceptable base type"):
        type("Sub", (ert.sort,), {})


def test_pickle_copy_and_deepcopy_keep_the_type():
    out = ember.topk(_x(), 2)
    for back in (pickle.loads(pickle.dumps(out)), copy.deepcopy(out)):
        assert type(back) is ert.topk and back.values is not out.values
        np.testing.assert_array_equal(to_numpy(back.values), to_numpy(out.values))
    shallow = copy.copy(out)
    assert type(shallow) is ert.topk and shallow.values is out.values
    assert pickle.loads(pickle.dumps(ert.aminmax)) is ert.aminmax


def test_pytree_flattens_to_the_fields_with_no_context():
    out = ember.max(_x(), 1)
    leaves, spec = ep.tree_flatten({"r": out, "n": [1]})
    assert leaves[0] is out.values and leaves[1] is out.indices and leaves[2] == 1
    node = spec.child(0)
    assert node.type is ert.max and node.context is None and node.num_leaves == 2
    assert repr(node) == "TreeSpec(max, None, [*,\n  *])"
    rebuilt = ep.tree_unflatten(leaves, spec)["r"]
    assert type(rebuilt) is ert.max and rebuilt == out
    doubled = ep.tree_map(lambda t: t * 2 if isinstance(t, ember.Tensor) else t, out)
    assert type(doubled) is ert.max
    np.testing.assert_array_equal(to_numpy(doubled.values), 2 * to_numpy(out.values))
    paths = [ep.keystr(p) for p, _ in ep.tree_flatten_with_path(out)[0]]
    assert paths == ["[0]", "[1]"]
    with pytest.raises(ValueError, match="already registered"):
        ert.pytree_register_structseq(ert.max)
    with pytest.raises(ValueError, match="Type mismatch"):
        node.flatten_up_to(ert.min((1, 2)))


@pytest.mark.parametrize("name, call", [
    ("max", lambda out: ember.max(_x(), 1, out=out)),
    ("sort", lambda out: ember.sort(_x(), out=out)),
    ("histogram", lambda out: ember.histogram(_x(), 4, out=out)),
    ("linalg_lu_factor", lambda out: ember.linalg.lu_factor(ember.eye(3) * 2, out=out)),
])
def test_out_returns_the_out_twin_holding_the_given_tensors(name, call):
    plain = call(None)
    out = tuple(ember.empty(0, dtype=t.dtype) for t in plain)
    result = call(out)
    assert type(result) is getattr(ert, f"{name}_out")
    assert type(result).__match_args__ == type(plain).__match_args__
    assert all(r is o for r, o in zip(result, out))
    for r, p in zip(result, plain):
        np.testing.assert_array_equal(to_numpy(r), to_numpy(p))


def test_gradient_flows_through_a_named_field():
    x = _x(requires_grad=True)
    ember.sort(x, 1).values[:, 0].sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [[0, 1, 0], [0, 0, 1]])


def test_vmap_and_fx_keep_the_type():
    xs = ember.tensor(np.arange(12.0).reshape(2, 3, 2) % 5)
    out = ember.func.vmap(lambda v: ember.max(v, 1))(xs)
    assert type(out) is ert.max and tuple(out.values.shape) == (2, 3)
    np.testing.assert_array_equal(to_numpy(out.values), to_numpy(xs).max(2))

    def f(x):
        r = ember.sort(x, 1)
        return r.values + r[1]

    traced = ember.fx.symbolic_trace(f)
    np.testing.assert_array_equal(to_numpy(traced(_x())), to_numpy(f(_x())))
    whole = ember.fx.symbolic_trace(lambda x: ember.cummax(x, 0))
    assert type(whole(_x())) is ert.cummax


def test_every_type_has_fields_and_out_twins_match_their_op():
    assert ember.return_types is ert
    for cls in ert.all_return_types:
        assert cls.__match_args__ and cls.n_fields == len(cls.__match_args__)
        if cls.__name__.endswith("_out"):
            assert getattr(ert, cls.__name__[:-4]).__match_args__ == cls.__match_args__


def test_the_pytree_helpers_see_return_types_as_structseqs():
    from ember.utils import _pytree

    result = ember.arange(6.0).reshape(2, 3).max(1)
    assert _pytree.is_structseq(result) and _pytree.is_structseq(type(result))
    assert _pytree.is_structseq_class(ember.return_types.linalg_svd)
    assert not _pytree.is_structseq((1, 2)) and not _pytree.is_structseq_class(tuple)
