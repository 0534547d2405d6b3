"""ember's small torch sub-modules against torch's: utils._pytree, utils.dlpack, utils.weak,
nn.modules.utils, compiler, multiprocessing, signal.windows and types."""
import gc
import warnings
from collections import OrderedDict, defaultdict, deque, namedtuple

import numpy as np
import pytest

import ember
import ember.compiler as ecompiler
import ember.multiprocessing as emp
import ember.nn.modules.utils as eutils
import ember.signal.windows as ewin
import ember.types as etypes
import ember.utils._pytree as ep
import ember.utils.dlpack as edl
import ember.utils.weak as eweak

NT = namedtuple("NT", "a b")
NT2 = namedtuple("NT2", "a b")


def _outcome(fn, *args, **kwargs):
    """(result, None) or (None, (exception type name, message)) of ``fn(*args, **kwargs)``."""
    try:
        return fn(*args, **kwargs), None
    except Exception as e:  # noqa: BLE001
        return None, (type(e).__name__, str(e))


# --- utils._pytree -------------------------------------------------------------------------------
TREES = [
    1,
    None,
    (),
    [],
    {},
    (1,),
    [1, None, (2, 3.5)],
    (1, [2, {"a": 3, "b": [4, 5]}], "s"),
    {"b": 1, "a": (2, [3])},
    OrderedDict([("z", 1), ("y", [2, 3])]),
    defaultdict(list, {"k": (1, 2)}),
    deque([1, [2, 3]], maxlen=4),
    deque([1, 2]),
    NT(1, [2, NT(3, 4)]),
    [NT2((1, 2), {"q": None})],
    {"x": OrderedDict(p=deque([7]))},
]


@pytest.mark.parametrize("i", range(len(TREES)))
def test_flatten_spec_repr_and_unflatten_match_torch(torch, i):
    tp = torch.utils._pytree
    tree = TREES[i]
    e_leaves, e_spec = ep.tree_flatten(tree)
    t_leaves, t_spec = tp.tree_flatten(tree)
    assert e_leaves == t_leaves
    assert repr(e_spec) == repr(t_spec) and str(e_spec) == str(t_spec)
    assert ep.treespec_pprint(e_spec) == tp.treespec_pprint(t_spec)
    for attr in ("num_leaves", "num_nodes", "num_children"):
        assert getattr(e_spec, attr) == getattr(t_spec, attr), attr
    assert e_spec.is_leaf() == t_spec.is_leaf()
    assert e_spec.context == t_spec.context
    rebuilt = ep.tree_unflatten([f"<{x}>" for x in e_leaves], e_spec)
    expected = tp.tree_unflatten([f"<{x}>" for x in t_leaves], t_spec)
    assert repr(rebuilt) == repr(expected) and type(rebuilt) is type(expected)
    assert ep.tree_leaves(tree) == tp.tree_leaves(tree)
    assert list(ep.tree_iter(tree)) == list(tp.tree_iter(tree))
    assert repr(ep.tree_structure(tree)) == repr(tp.tree_structure(tree))


def test_dict_subclass_and_tensor_are_leaves_as_in_torch(torch):
    class D(dict):
        pass

    tree = [D(a=1), ember.ones(2), (ember.zeros(1),)]
    leaves, spec = ep.tree_flatten(tree)
    t_leaves, t_spec = torch.utils._pytree.tree_flatten([D(a=1), torch.ones(2), (torch.zeros(1),)])
    assert len(leaves) == len(t_leaves) == 3 and leaves[0] == {"a": 1}
    assert repr(spec) == repr(t_spec)


SPEC_PAIRS = [
    ({"a": 1, "b": 2}, {"b": 1, "a": 2}),
    ({"a": 1}, {"a": [1]}),
    ({"a": 1}, OrderedDict(a=1)),
    ((1, 2), [1, 2]),
    ((1, 2), (3, 4)),
    (NT(1, 2), NT2(1, 2)),
    (NT(1, 2), (1, 2)),
    (deque([1], maxlen=2), deque([1])),
    (defaultdict(int, a=1), defaultdict(list, a=1)),
    ([1, (2,)], [5, (6,)]),
]


@pytest.mark.parametrize("a,b", SPEC_PAIRS)
def test_spec_equality_and_hash_match_torch(torch, a, b):
    tp = torch.utils._pytree
    ea, eb = ep.tree_structure(a), ep.tree_structure(b)
    ta, tb = tp.tree_structure(a), tp.tree_structure(b)
    assert (ea == eb) == (ta == tb)
    assert (ea != eb) == (ta != tb)
    if ea == eb:
        assert hash(ea) == hash(eb)


MAP_CASES = [
    ([1, (2, 3)], [10, (20, 30)]),
    ([1, 2], [[5], {"q": 1}]),
    ([1, 2], [1, 2, 3]),
    ([1, 2], (1, 2)),
    ({"a": 1}, {"b": 1}),
    ({"a": 1, "c": 2}, {"b": 1, "c": 3}),
    ({"a": 1, "b": 2}, OrderedDict(b=5, a=6)),
    (NT(1, 2), NT2(1, 2)),
    (deque([1], maxlen=3), deque([2])),
    (defaultdict(list, a=1), {"a": 3}),
    ((1, 2), 5),
]


@pytest.mark.parametrize("a,b", MAP_CASES)
def test_tree_map_with_rests_and_its_errors_match_torch(torch, a, b):
    def pair(x, y):
        return (x, y)

    e = _outcome(lambda: ep.tree_map(pair, a, b))
    t = _outcome(lambda: torch.utils._pytree.tree_map(pair, a, b))
    assert repr(e) == repr(t)


def test_map_only_all_any_and_is_leaf_match_torch(torch):
    tp = torch.utils._pytree
    tree = [1, 2.0, "a", (3, {"k": -4}), None]
    for sel in (int, (int, str), lambda x: x == 2.0):
        assert ep.tree_map_only(sel, lambda x: x * 2, tree) == \
            tp.tree_map_only(sel, lambda x: x * 2, tree)
    assert _outcome(lambda: ep.tree_map_only(3, abs, tree))[1] == \
        _outcome(lambda: tp.tree_map_only(3, abs, tree))[1]
    seen_e, seen_t = [], []
    assert ep.tree_map_only_(int, seen_e.append, tree) is tree
    tp.tree_map_only_(int, seen_t.append, tree)
    assert seen_e == seen_t == [1, 3, -4]
    for fn in ("tree_all", "tree_any"):
        for pred in (lambda x: x is not None, lambda x: isinstance(x, int) and x < 0):
            assert getattr(ep, fn)(pred, tree) == getattr(tp, fn)(pred, tree)
        assert getattr(ep, fn)(bool, []) == getattr(tp, fn)(bool, [])
    for fn in ("tree_all_only", "tree_any_only"):
        assert getattr(ep, fn)(int, lambda x: x > 0, tree) == \
            getattr(tp, fn)(int, lambda x: x > 0, tree)

    def is_tuple(x):
        return isinstance(x, tuple)

    assert repr(ep.tree_flatten(tree, is_leaf=is_tuple)) == \
        repr(tp.tree_flatten(tree, is_leaf=is_tuple))
    assert ep.tree_is_leaf((1,), is_leaf=is_tuple) == tp.tree_is_leaf((1,), is_leaf=is_tuple)


def test_key_paths_match_torch(torch):
    tp = torch.utils._pytree
    tree = {"a": [1, NT(2, deque([3]))], "b": OrderedDict(c=defaultdict(int, d=4))}
    e_pairs, e_spec = ep.tree_flatten_with_path(tree)
    t_pairs, t_spec = tp.tree_flatten_with_path(tree)
    assert [ep.keystr(k) for k, _ in e_pairs] == [tp.keystr(k) for k, _ in t_pairs]
    assert [v for _, v in e_pairs] == [v for _, v in t_pairs] and repr(e_spec) == repr(t_spec)
    assert [repr(k) for k in e_pairs[1][0]] == [repr(k) for k in t_pairs[1][0]]
    assert all(ep.key_get(tree, k) == v for k, v in e_pairs)
    assert ep.tree_map_with_path(lambda p, x: ep.keystr(p) + str(x), tree) == \
        tp.tree_map_with_path(lambda p, x: tp.keystr(p) + str(x), tree)


def test_flatten_up_to_errors_and_unflatten_errors_match_torch(torch):
    tp = torch.utils._pytree
    for spec_tree, tree in [([1, (2, 3)], [[5], (6, {"x": 1})]), ([1, 2], (1, 2)),
                            ({"a": 1}, {"a": 1, "b": 2}), (NT(1, 2), NT2(1, 2)),
                            ([1, 2], [1, 2, 3])]:
        e = _outcome(ep.tree_structure(spec_tree).flatten_up_to, tree)
        t = _outcome(tp.tree_structure(spec_tree).flatten_up_to, tree)
        assert repr(e) == repr(t)
    for leaves, spec_tree in [([1, 2], (1,)), ([], [1, [2]])]:
        e = _outcome(ep.tree_unflatten, leaves, ep.tree_structure(spec_tree))
        t = _outcome(tp.tree_unflatten, leaves, tp.tree_structure(spec_tree))
        assert e == t and e[1] is not None
    assert _outcome(lambda: ep.tree_unflatten([1], 5)) == \
        _outcome(lambda: tp.tree_unflatten([1], 5))
    # the arguments may come swapped
    assert ep.tree_unflatten(ep.tree_structure((1, 2)), [3, 4]) == \
        tp.tree_unflatten(tp.tree_structure((1, 2)), [3, 4])


def test_register_pytree_node_matches_torch(torch):
    tp = torch.utils._pytree

    class Box:
        def __init__(self, x, y, tag):
            self.x, self.y, self.tag = x, y, tag

        def __repr__(self):
            return f"Box({self.x!r}, {self.y!r}, {self.tag!r})"

    def flat(b):
        return [b.x, b.y], b.tag

    def unflat(values, tag):
        return Box(*values, tag)

    for lib in (ep, tp):
        lib.register_pytree_node(Box, flat, unflat)
    tree = [Box(1, (2, 3), "t"), 4]
    e_leaves, e_spec = ep.tree_flatten(tree)
    t_leaves, t_spec = tp.tree_flatten(tree)
    assert e_leaves == t_leaves and repr(e_spec) == repr(t_spec)
    assert repr(ep.tree_map(lambda v: v * 10, tree)) == repr(tp.tree_map(lambda v: v * 10, tree))
    assert ep.treespec_pprint(e_spec) == tp.treespec_pprint(t_spec)
    assert _outcome(lambda: ep.register_pytree_node(Box, flat, unflat)) == \
        _outcome(lambda: tp.register_pytree_node(Box, flat, unflat))
    assert _outcome(lambda: ep.tree_flatten_with_path(tree)) == \
        _outcome(lambda: tp.tree_flatten_with_path(tree))
    assert repr(_outcome(lambda: e_spec.flatten_up_to([Box(1, 2, "other"), 4]))) == \
        repr(_outcome(lambda: t_spec.flatten_up_to([Box(1, 2, "other"), 4])))


def test_leafspec_and_treespec_constructors_match_torch(torch):
    tp = torch.utils._pytree
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter("always")
        e_leaf = ep.LeafSpec()
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        t_leaf = tp.LeafSpec()
    assert [(w.category, str(w.message)) for w in ew] == \
        [(w.category, str(w.message)) for w in tw]
    assert (e_leaf == ep.tree_structure(1)) == (t_leaf == tp.tree_structure(1))
    assert (ep.TreeSpec(None, None, []) == ep.tree_structure(1)) == \
        (tp.TreeSpec(None, None, []) == tp.tree_structure(1))
    spec = ep.TreeSpec(list, None, [ep.treespec_leaf(), ep.treespec_tuple([ep.treespec_leaf()])])
    tspec = tp.TreeSpec(list, None, [tp.treespec_leaf(), tp.treespec_tuple([tp.treespec_leaf()])])
    assert repr(spec) == repr(tspec) and repr(spec.child(1)) == repr(tspec.child(1))
    assert repr(ep.treespec_dict(a=ep.treespec_leaf())) == \
        repr(tp.treespec_dict(a=tp.treespec_leaf()))
    assert _outcome(ep.treespec_tuple, [1])[1] == _outcome(tp.treespec_tuple, [1])[1]
    assert _outcome(ep.TreeSpec, None, 3, []) == _outcome(tp.TreeSpec, None, 3, [])


def test_namedtuple_structseq_predicates_and_prefix_broadcast_match_torch(torch):
    import os
    import sys

    tp = torch.utils._pytree
    for obj in (NT, NT(1, 2), (1, 2), tuple, os.stat("."), type(os.stat(".")), sys.flags,
                torch.return_types.max, 3):
        for fn in ("is_namedtuple", "is_namedtuple_class", "is_namedtuple_instance",
                   "is_structseq", "is_structseq_class", "is_structseq_instance"):
            assert getattr(ep, fn)(obj) == getattr(tp, fn)(obj), (fn, obj)
    full = (1, [2, {"k": 3, "j": (4, 5)}], NT(6, 7))
    for prefix in (0, (0, 1, None), (0, [1, {"j": 2, "k": 3}], 4), (0, [1, 2], 3), (0, 1),
                   (0, [1, {"k": 2}], 3), (0, [1, 2], (3, 4)), (0, [1, 2], NT(3, 4)), [0, 1, 2]):
        assert ep._broadcast_to_and_flatten(prefix, ep.tree_structure(full)) == \
            tp._broadcast_to_and_flatten(prefix, tp.tree_structure(full)), prefix


# --- utils.dlpack --------------------------------------------------------------------------------
def test_dlpack_round_trips_with_torch(torch):
    t = torch.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(edl.from_dlpack(t).numpy(), t.numpy())
    view = ember.arange(12.0).reshape(3, 4)[:, 1:3]
    np.testing.assert_array_equal(torch.utils.dlpack.from_dlpack(view).numpy(), view.numpy())
    capsule = edl.to_dlpack(ember.tensor([1, -2, 3]))
    np.testing.assert_array_equal(torch.utils.dlpack.from_dlpack(capsule).numpy(), [1, -2, 3])
    assert edl.from_dlpack is ember.from_dlpack and edl.to_dlpack is ember.to_dlpack
    assert [(m.name, int(m)) for m in edl.DLDeviceType] == \
        [(m.name, int(m)) for m in torch.utils.dlpack.DLDeviceType]


# --- nn.modules.utils ----------------------------------------------------------------------------
def test_nn_modules_utils_match_torch(torch):
    tu = torch.nn.modules.utils
    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for x in (3, (1, 2), [4, 5, 6], "ab", range(3)):
            assert getattr(eutils, name)(x) == getattr(tu, name)(x)
        assert getattr(eutils, name).__name__ == getattr(tu, name).__name__
    assert eutils._ntuple(5)(0) == tu._ntuple(5)(0) and eutils._ntuple(5).__name__ == "parse"
    for t, n in (((1, 2), 2), ((3, 4, 5), 1), ((), 3)):
        assert eutils._reverse_repeat_tuple(t, n) == tu._reverse_repeat_tuple(t, n)
    for out, defaults in (([None, 4], [7, 8, 9]), (5, [1]), ([None], [2, 3]),
                          ([1, 2], [3, 4]), ([None, None], [1, 2, 3, 4])):
        assert _outcome(eutils._list_with_default, out, defaults) == \
            _outcome(tu._list_with_default, out, defaults)


def test_consume_prefix_in_state_dict_matches_torch(torch):
    tu = torch.nn.modules.utils

    def make():
        sd = OrderedDict([("module.w", 1), ("module.sub.b", 2), ("other", 3), ("module", 4)])
        sd._metadata = OrderedDict([("", {"v": 1}), ("module", {"v": 2}),
                                    ("module.sub", {"v": 3}), ("x", {"v": 4})])
        return sd

    e, t = make(), make()
    eutils.consume_prefix_in_state_dict_if_present(e, "module.")
    tu.consume_prefix_in_state_dict_if_present(t, "module.")
    assert list(e.items()) == list(t.items())
    assert list(e._metadata.items()) == list(t._metadata.items())


# --- compiler ------------------------------------------------------------------------------------
def test_compiler_flags_and_decorators_match_torch(torch):
    tc = torch.compiler
    for name in ("is_compiling", "is_dynamo_compiling", "is_exporting"):
        assert getattr(ecompiler, name)() is getattr(tc, name)() is False
    assert ecompiler.reset() is tc.reset() is None

    def f(x, y=1):
        """doc"""
        return x * 2 + y

    for lib in (ecompiler, tc):
        for wrapped in (lib.disable(f), lib.disable()(f), lib.disable(f, recursive=False),
                        lib.disable(lib.disable(f))):
            assert wrapped is not f and wrapped(3, y=4) == 10
            assert wrapped.__name__ == "f" and wrapped.__doc__ == "doc"
            assert wrapped.__wrapped__ is f and wrapped._torchdynamo_disable is True
            assert wrapped._torchdynamo_orig_callable is f
        assert lib.allow_in_graph(f) is f
        assert lib.assume_constant_result(f) is f and f._dynamo_marked_constant is True
    assert ecompiler.allow_in_graph([f, f]) == tc.allow_in_graph([f, f])
    assert _outcome(lambda: ecompiler.allow_in_graph(3)) == _outcome(lambda: tc.allow_in_graph(3))
    assert _outcome(lambda: ecompiler.disable(3)) == _outcome(lambda: tc.disable(3))
    assert ecompiler.disable(f, recursive=False)._torchdynamo_disable_recursive is \
        tc.disable(f, recursive=False)._torchdynamo_disable_recursive


# --- utils.weak ----------------------------------------------------------------------------------
def _weak_story(lib, weak):
    """What a WeakIdKeyDictionary / WeakIdRef / TensorWeakRef does in one scripted use."""
    log = []
    a, b = lib.ones(2), lib.ones(2)  # equal values, different objects
    d = weak.WeakIdKeyDictionary()
    d[a] = "a"
    d[b] = "b"
    log += [len(d), d[a], d.get(b), a in d, lib.ones(2) in d, 3 in d, d.get(lib.zeros(1), "-")]
    log += [sorted(d.values()), d.setdefault(a, "x"), sorted(v for _, v in d.items())]
    c = d.copy()
    log += [type(c).__name__, len(c), c == d, d == {}, repr(d).startswith("<WeakIdKeyDictionary")]
    del b
    gc.collect()
    log += [len(d), list(d.values()), len(c)]
    log += [d.pop(a), len(d), d.pop(a, "gone")]
    r1, r2 = weak.WeakIdRef(a), weak.WeakIdRef(a)
    log += [r1 == r2, hash(r1) == id(a), r1() is a]
    tr = weak.TensorWeakRef(a)
    log += [tr() is a]
    del a, r2
    gc.collect()
    log += [tr(), r1() is None, r1 == r1]
    log += [_outcome(lambda: weak.TensorWeakRef(3))[1]]
    log += [weak.WeakTensorKeyDictionary is weak.WeakIdKeyDictionary]
    return log


def test_weak_dictionaries_and_refs_behave_as_torch(torch):
    assert _weak_story(ember, eweak) == _weak_story(torch, torch.utils.weak)


# --- multiprocessing -----------------------------------------------------------------------------
def test_multiprocessing_surface_matches_torch(torch):
    tmp = torch.multiprocessing
    assert set(tmp.__all__) <= set(emp.__all__)
    for name in tmp.__all__:
        assert hasattr(emp, name), name
    assert emp.get_sharing_strategy() == tmp.get_sharing_strategy()
    assert emp.get_all_sharing_strategies() == tmp.get_all_sharing_strategies()
    assert _outcome(lambda: emp.set_sharing_strategy("shm")) == \
        _outcome(lambda: tmp.set_sharing_strategy("shm"))
    for cls in ("ProcessContext", "ProcessRaisedException", "ProcessExitedException", "spawn",
                "start_processes", "SpawnContext"):
        assert hasattr(emp, cls) and hasattr(tmp, cls)
    ee = emp.ProcessExitedException("m", 1, 22, -9, "SIGKILL")
    te = tmp.ProcessExitedException("m", 1, 22, -9, "SIGKILL")
    assert ee.__reduce__()[1] == te.__reduce__()[1] and str(ee) == str(te)
    assert issubclass(emp.ProcessRaisedException, emp.ProcessException)


# --- signal.windows ------------------------------------------------------------------------------
WINDOW_PARAMS = {
    "exponential": [{}, {"tau": 0.5}, {"center": 1.5, "sym": False}, {"tau": 3.0, "sym": False}],
    "gaussian": [{}, {"std": 0.4}, {"std": 2.5, "sym": False}],
    "kaiser": [{}, {"beta": 0.0}, {"beta": 3.3, "sym": False}],
    "general_cosine": [{"a": [0.46, 0.23, 0.31]}, {"a": (0.5, 0.5), "sym": False}, {"a": [1.0]}],
    "general_hamming": [{}, {"alpha": 0.6}, {"alpha": 0.5, "sym": False}],
}


@pytest.mark.parametrize("name", ewin.__all__)
@pytest.mark.parametrize("M", [0, 1, 2, 5, 10, 17])
def test_window_values_match_torch(torch, name, M):
    params = WINDOW_PARAMS.get(name, [{}]) + [{"sym": False}] * (name not in WINDOW_PARAMS)
    if name == "general_cosine":
        params = params + [{"a": [0.3, 0.7], "sym": False}]
    for kw in params:
        for dt in ("float32", "float64"):
            if name == "exponential" and kw.get("center") is not None and kw.get("sym", True):
                continue
            e = getattr(ewin, name)(M, dtype=getattr(ember, dt), **kw)
            t = getattr(torch.signal.windows, name)(M, dtype=getattr(torch, dt), **kw)
            assert e.shape == tuple(t.shape) and str(e.dtype).split(".")[1] == dt
            tol = 2e-6 if dt == "float32" else 1e-12
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=tol, atol=tol,
                                       err_msg=f"{name} M={M} {kw} {dt}")


@pytest.mark.parametrize("name", ewin.__all__)
def test_window_default_dtype_and_requires_grad_match_torch(torch, name):
    kw = {"a": [0.5, 0.5]} if name == "general_cosine" else {}
    for M in (1, 6):
        e = getattr(ewin, name)(M, requires_grad=True, **kw)
        t = getattr(torch.signal.windows, name)(M, requires_grad=True, **kw)
        assert str(e.dtype) == str(t.dtype).replace("torch", "ember")
        assert e.requires_grad == t.requires_grad
        assert (e.grad_fn is None) == (t.grad_fn is None)
        assert e.is_leaf == t.is_leaf


WINDOW_ERRORS = [
    ("hann", (-1,), {}),
    ("cosine", (4,), {"dtype": "int64"}),
    ("kaiser", (4,), {"dtype": "float16"}),
    ("blackman", (-2,), {}),
    ("bartlett", (3,), {"dtype": "int32"}),
    ("exponential", (4,), {"tau": 0.0}),
    ("exponential", (4,), {"center": 1.0}),
    ("gaussian", (4,), {"std": -1.0}),
    ("kaiser", (4,), {"beta": -0.5}),
    ("general_cosine", (4,), {"a": []}),
    ("general_cosine", (4,), {"a": 3}),
    ("general_cosine", (1,), {"a": 3}),
    ("general_hamming", (-3,), {}),
    ("nuttall", (5,), {"dtype": "int64"}),
]


@pytest.mark.parametrize("name,args,kw", WINDOW_ERRORS)
def test_window_errors_match_torch(torch, name, args, kw):
    def run(lib, mod):
        kwargs = {k: getattr(lib, v) if k == "dtype" else v for k, v in kw.items()}
        return _outcome(lambda: getattr(mod, name)(*args, **kwargs))

    e, t = run(ember, ewin), run(torch, torch.signal.windows)
    assert e[1] is not None or t[1] is None
    if t[1] is None:  # both ran (M == 1 returns before the coefficients are looked at)
        assert e[1] is None and e[0].numpy().tolist() == t[0].numpy().tolist()
    else:
        assert e[1] == (t[1][0], t[1][1].replace("torch.", "ember."))


def test_window_layout_check_matches_torch(torch):
    e = _outcome(lambda: ewin.hann(4, layout="sparse"))
    t = _outcome(lambda: torch.signal.windows.hann(4, layout=torch.sparse_coo))
    assert e[1][0] == t[1][0] == "ValueError"
    assert e[1][1].split(", got")[0] == t[1][1].split(", got")[0]
    np.testing.assert_allclose(ewin.hann(4, layout=ember.strided).numpy(),
                               torch.signal.windows.hann(4, layout=torch.strided).numpy())


# --- types ---------------------------------------------------------------------------------------
def test_types_aliases_match_torch(torch):
    tt = torch.types
    assert etypes.Number == tt.Number and etypes._Number == tt._Number
    assert etypes.FileLike == tt.FileLike
    for v in (3, 2.5, True, "x", None, ember.ones(1)):
        assert isinstance(v, etypes.Number) == isinstance(v, tt.Number)
    for v in ("cpu", 0, None, ember.device("cpu")):
        assert isinstance(v, etypes.Device)
    assert set(etypes.__all__) <= set(tt.__all__)
