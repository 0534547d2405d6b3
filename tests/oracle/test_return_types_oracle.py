"""``ember.return_types`` against ``torch.return_types``: every op returning a structseq gives
the same type name, fields and repr (``torch.`` read as ``ember.``), behaves as a tuple,
pickles, and flattens as a pytree node with the same leaves and spec. Skipped without torch.
"""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import ember
import ember.return_types as ert
from ember.utils import _pytree as ep
from tests.helpers import to_numpy

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # torch.qr etc. are deprecated

X = [[3.0, -1.0, 2.0, 2.0], [0.5, 4.0, -2.0, 4.0]]
DISTINCT = [[3.0, -1.0, 2.0, 0.0], [0.5, 4.0, -2.0, 1.5]]  # kthvalue's index on ties is torch's
X_NAN = [[3.0, float("nan"), 2.0], [-1.0, 0.5, float("nan")]]
INTS = [[2, 7, 7, 1], [5, 5, 3, 3]]
SPD = [[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]]
INDEF = [[1.0, 2.0, 0.0], [2.0, -3.0, 1.0], [0.0, 1.0, 2.0]]
GENERAL = [[0.0, 2.0, 1.0], [3.0, 1.0, -1.0], [1.0, 0.0, 4.0]]
TALL = [[1.0, 2.0], [3.0, 1.0], [0.0, 1.0], [2.0, 2.0]]
RHS = [[1.0, 0.0], [2.0, -1.0], [0.0, 3.0]]
POINTS = [[0.1, 0.2], [0.4, 0.9], [0.8, 0.5], [0.3, 0.3], [0.9, 0.1]]


def _t(m, values, dtype="float64"):
    return m.tensor(np.asarray(values, dtype=dtype))


# name -> f(m): the call (ember or torch) returning a structseq
CALLS = {
    "max": lambda m: m.max(_t(m, X), 1),
    "max_method_keepdim": lambda m: _t(m, X).max(0, keepdim=True),
    "min": lambda m: m.min(_t(m, X), 0),
    "sort": lambda m: m.sort(_t(m, X), 1, descending=True),
    "sort_method": lambda m: _t(m, INTS, "int64").sort(),
    "topk": lambda m: m.topk(_t(m, X), 2),
    "kthvalue": lambda m: m.kthvalue(_t(m, DISTINCT), 2, 1),
    "median": lambda m: m.median(_t(m, X), 1),
    "nanmedian": lambda m: m.nanmedian(_t(m, X_NAN), 1),
    "mode": lambda m: m.mode(_t(m, INTS, "int64"), 1),
    "cummax": lambda m: m.cummax(_t(m, X), 1),
    "cummin": lambda m: _t(m, X).cummin(0),
    "aminmax": lambda m: m.aminmax(_t(m, X), dim=0),
    "frexp": lambda m: m.frexp(_t(m, X, "float32")),
    "histogram": lambda m: m.histogram(_t(m, X), bins=4),
    "histogramdd": lambda m: m.histogramdd(_t(m, POINTS), bins=[2, 3]),
    "slogdet": lambda m: m.slogdet(_t(m, GENERAL)),
    "linalg_slogdet": lambda m: m.linalg.slogdet(_t(m, GENERAL)),
    "qr": lambda m: m.qr(_t(m, GENERAL)),
    "linalg_qr": lambda m: m.linalg.qr(_t(m, TALL), mode="complete"),
    "svd": lambda m: m.svd(m.diag(_t(m, [3.0, 1.0, 2.0]))),
    "linalg_svd": lambda m: m.linalg.svd(m.diag(_t(m, [3.0, 1.0, 2.0]))),
    "linalg_eigh": lambda m: m.linalg.eigh(m.diag(_t(m, [3.0, 1.0, 2.0]))),
    "lu_unpack": lambda m: m.lu_unpack(*m.linalg.lu_factor(_t(m, GENERAL))),
    "linalg_lu": lambda m: m.linalg.lu(_t(m, GENERAL)),
    "linalg_lu_factor": lambda m: m.linalg.lu_factor(_t(m, GENERAL)),
    "linalg_lu_factor_ex": lambda m: m.linalg.lu_factor_ex(_t(m, GENERAL)),
    "linalg_cholesky_ex": lambda m: m.linalg.cholesky_ex(_t(m, SPD)),
    "linalg_inv_ex": lambda m: m.linalg.inv_ex(_t(m, GENERAL)),
    "linalg_solve_ex": lambda m: m.linalg.solve_ex(_t(m, GENERAL), _t(m, RHS)),
    "linalg_ldl_factor": lambda m: m.linalg.ldl_factor(_t(m, INDEF)),
    "linalg_ldl_factor_ex": lambda m: m.linalg.ldl_factor_ex(_t(m, INDEF)),
    "linalg_lstsq": lambda m: m.linalg.lstsq(_t(m, TALL), _t(m, [[1.0], [0.0], [2.0], [1.0]]),
                                             driver="gelsd"),
    "triangular_solve": lambda m: m.triangular_solve(_t(m, RHS), m.triu(_t(m, SPD))),
}

# name -> f(m, out): the ops ember takes ``out=`` for, returning the ``*_out`` type
OUT_CALLS = {
    "max": lambda m, out: m.max(_t(m, X), 1, out=out),
    "min": lambda m, out: m.min(_t(m, X), 1, keepdim=True, out=out),
    "sort": lambda m, out: m.sort(_t(m, X), 0, out=out),
    "topk": lambda m, out: m.topk(_t(m, DISTINCT), 3, largest=False, out=out),
    "kthvalue": lambda m, out: m.kthvalue(_t(m, DISTINCT), 1, 0, out=out),
    "histogram": lambda m, out: m.histogram(_t(m, X), bins=3, out=out),
    "linalg_lu": lambda m, out: m.linalg.lu(_t(m, GENERAL), out=out),
    "linalg_lu_factor": lambda m, out: m.linalg.lu_factor(_t(m, GENERAL), out=out),
    "linalg_lu_factor_ex": lambda m, out: m.linalg.lu_factor_ex(_t(m, GENERAL), out=out),
    "linalg_ldl_factor": lambda m, out: m.linalg.ldl_factor(_t(m, INDEF), out=out),
    "linalg_ldl_factor_ex": lambda m, out: m.linalg.ldl_factor_ex(_t(m, INDEF), out=out),
}


def _as_ember_repr(text):
    return text.replace("torch.", "ember.")


def _public(cls):
    return {a for a in dir(cls) if not a.startswith("__")}


@pytest.mark.parametrize("name", list(CALLS))
def test_result_type_fields_and_repr_match_torch(name, torch):
    out, t_out = CALLS[name](ember), CALLS[name](torch)
    assert type(out).__name__ == type(t_out).__name__
    assert type(out).__module__ == "ember.return_types"
    assert type(out) is getattr(ert, type(t_out).__name__)
    assert type(out).__match_args__ == type(t_out).__match_args__
    assert repr(out) == _as_ember_repr(repr(t_out))
    assert str(out) == _as_ember_repr(str(t_out))


@pytest.mark.parametrize("name", list(CALLS))
def test_result_is_a_tuple_read_by_name_index_and_unpacking(name, torch):
    out, t_out = CALLS[name](ember), CALLS[name](torch)
    assert isinstance(out, tuple) and type(out).__bases__ == (tuple,)
    assert len(out) == len(t_out) == out.n_fields == t_out.n_fields
    assert (out.n_sequence_fields, out.n_unnamed_fields) == (t_out.n_sequence_fields,
                                                             t_out.n_unnamed_fields)
    *first, last = out
    assert last is out[-1] and all(a is b for a, b in zip(first, out[:-1]))
    for k, field in enumerate(type(out).__match_args__):
        assert getattr(out, field) is out[k]
    assert type(out[:1]) is type(t_out[:1]) is tuple
    assert out == tuple(out) and hash(out) == hash(tuple(out))


@pytest.mark.parametrize("name", list(CALLS))
def test_result_pickles_and_flattens_as_torch(name, torch):
    out, t_out = CALLS[name](ember), CALLS[name](torch)
    back = pickle.loads(pickle.dumps(out))
    assert type(back) is type(out) and repr(back) == repr(out)
    leaves, spec = ep.tree_flatten(out)
    t_leaves, t_spec = torch.utils._pytree.tree_flatten(t_out)
    assert repr(spec) == repr(t_spec)
    assert len(leaves) == len(t_leaves)
    for leaf, t_leaf in zip(leaves, t_leaves):
        np.testing.assert_allclose(to_numpy(leaf), to_numpy(t_leaf), rtol=1e-6, atol=1e-9)
    again = ep.tree_unflatten(leaves, spec)
    assert type(again) is type(out) and again == out
    assert all(a is b for a, b in zip(ep.tree_leaves(again), leaves))
    keys = [path for path, _ in ep.tree_flatten_with_path(out)[0]]
    t_keys = [path for path, _ in torch.utils._pytree.tree_flatten_with_path(t_out)[0]]
    assert [ep.keystr(k) for k in keys] == [torch.utils._pytree.keystr(k) for k in t_keys]


@pytest.mark.parametrize("name", list(OUT_CALLS))
def test_out_variant_is_returned_holding_the_out_tensors(name, torch):
    results = {}
    for m in (ember, torch):
        plain = CALLS[name](m) if name in CALLS else OUT_CALLS[name](m, None)
        out = tuple(m.empty(0, dtype=r.dtype) for r in plain)
        results[m] = (OUT_CALLS[name](m, out), out)
    (e_res, e_out), (t_res, t_out) = results[ember], results[torch]
    assert type(e_res).__name__ == type(t_res).__name__ == f"{name}_out"
    assert type(e_res) is getattr(ert, f"{name}_out")
    assert repr(e_res) == _as_ember_repr(repr(t_res))
    assert all(r is o for r, o in zip(e_res, e_out)) == all(r is o for r, o in zip(t_res, t_out))


def test_every_ember_type_exists_in_torch_with_the_same_fields_and_members(torch):
    names = [n for n in ert.__all__ if n not in ("pytree_register_structseq", "all_return_types")]
    assert len(names) == len(ert.all_return_types) >= 43
    for name in names:
        cls, t_cls = getattr(ert, name), getattr(torch.return_types, name)
        assert cls.__match_args__ == t_cls.__match_args__, name
        assert cls.n_fields == t_cls.n_fields, name
        assert _public(cls) == _public(t_cls), name
        for attr in ("_fields", "_asdict", "_replace", "_make"):
            assert hasattr(cls, attr) == hasattr(t_cls, attr), (name, attr)
    assert ember.return_types is ert


def test_constructor_errors_match_torch(torch):
    for mod in (ert, torch.return_types):  # any iterable of the right length will do
        assert mod.max([1, 2]) == mod.max(iter((1, 2)), {}) == (1, 2)
        assert type(mod.max(sequence=(1, 2))) is mod.max
    cases = [lambda mod: mod.max(1), lambda mod: mod.max((1,)), lambda mod: mod.max((1, 2, 3)),
             lambda mod: mod.linalg_lstsq((1, 2)), lambda mod: mod.max((1, 2), 5)]
    for case in cases:
        with pytest.raises(TypeError) as err:
            case(ert)
        with pytest.raises(TypeError) as t_err:
            case(torch.return_types)
        assert str(err.value) == _as_ember_repr(str(t_err.value))


def test_fields_are_read_only_and_types_cannot_be_subclassed_as_in_torch(torch):
    out, t_out = ember.sort(_t(ember, X)), torch.sort(_t(torch, X))
    for obj in (out, t_out):
        with pytest.raises(AttributeError, match="readonly attribute"):
            obj.values = obj.indices
        with pytest.raises(AttributeError):
            obj.extra = 1
    for mod in (ert, torch.return_types):
        with pytest.raises(TypeError, match="is not an acceptable base type"):
            type("Sub", (mod.sort,), {})


def test_vmap_of_a_structseq_result_keeps_its_type(torch):
    x = np.asarray([[[3.0, 1.0], [0.0, 2.0]], [[-1.0, 5.0], [4.0, 4.0]]])
    out = ember.func.vmap(lambda v: ember.max(v, 1))(ember.tensor(x))
    t_out = torch.func.vmap(lambda v: torch.max(v, 1))(torch.tensor(x))
    assert repr(out) == _as_ember_repr(repr(t_out))
