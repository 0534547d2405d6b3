"""ember's small torch sub-modules on their own (no torch): utils._pytree, utils.dlpack,
utils.weak, nn.modules.utils, compiler, multiprocessing, signal.windows, types."""
import copy
import dataclasses
import gc
import math
import multiprocessing
import os
import pickle
import subprocess
import sys
import warnings
from collections import OrderedDict, defaultdict, deque, namedtuple

import numpy as np
import pytest

import ember
import ember.compiler as compiler
import ember.multiprocessing as emp
import ember.signal.windows as win
import ember.types as etypes
import ember.utils._pytree as pytree
import ember.utils.weak as weak
from ember.nn.modules import utils as nn_utils

Point = namedtuple("Point", "x y")


# --- registration: lazy, and loaded by attribute access ------------------------------------------
def test_new_namespaces_load_lazily_and_by_attribute():
    names = ["ember.compiler", "ember.multiprocessing", "ember.signal", "ember.types",
             "ember.utils.weak", "ember.utils.dlpack", "ember.utils._pytree"]
    code = f"import sys, ember; print([n for n in {names} if n in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    assert ember.compiler is compiler and ember.multiprocessing is emp
    assert ember.signal.windows is win and ember.types is etypes
    assert ember.utils.weak is weak and ember.utils._pytree is pytree
    assert ember.utils.dlpack.from_dlpack is ember.from_dlpack


# --- utils._pytree -------------------------------------------------------------------------------
def test_flatten_orders_leaves_and_unflatten_rebuilds_every_container_type():
    tree = {"b": [1, (2, None)], "a": OrderedDict(z=3, y=Point(4, deque([5, 6], maxlen=3))),
            "c": defaultdict(list, k=7)}
    leaves, spec = pytree.tree_flatten(tree)
    assert leaves == [1, 2, None, 3, 4, 5, 6, 7]  # insertion order, None is a leaf
    assert spec.num_leaves == 8 and pytree.tree_leaves(tree) == leaves
    back = pytree.tree_unflatten([x * 10 if x else x for x in leaves], spec)
    assert list(back) == ["b", "a", "c"] and back["b"] == [10, (20, None)]
    assert type(back["a"]) is OrderedDict and list(back["a"]) == ["z", "y"]
    assert type(back["a"]["y"]) is Point and back["a"]["y"].y.maxlen == 3
    assert back["c"].default_factory is list and back["c"]["k"] == 70


def test_spec_equality_is_exact_type_and_key_order():
    s = pytree.tree_structure
    assert s({"a": 1, "b": 2}) == s({"a": 5, "b": "six"})
    assert s({"a": 1, "b": 2}) != s({"b": 1, "a": 2})
    assert s({"a": 1}) != s(OrderedDict(a=1)) and s((1, 2)) != s([1, 2])
    assert s(Point(1, 2)) != s((1, 2)) and s(Point(1, 2)) == s(Point("u", "v"))
    assert hash(s([1, {"k": (2,)}])) == hash(s([3, {"k": (4,)}]))
    assert s({"a": [1]}) != s({"a": 1})


def test_treespec_is_frozen_and_copies_and_pickles():
    spec = pytree.tree_structure([1, {"k": Point(2, 3)}, deque([4], maxlen=2)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.num_leaves = 3
    for clone in (copy.copy(spec), copy.deepcopy(spec), pickle.loads(pickle.dumps(spec))):
        assert clone == spec and repr(clone) == repr(spec)
    assert pickle.loads(pickle.dumps(pytree.tree_structure(1))).is_leaf()
    assert pytree.treespec_pprint(spec) == "[*, {'k': Point(x=*, y=*)}, deque([*], maxlen=2)]"


def test_tree_map_broadcasts_other_trees_below_the_first_ones_leaves():
    assert pytree.tree_map(lambda x, y: [x] + y, [5, 6], [[7, 9], [1, 2]]) == [[5, 7, 9],
                                                                                 [6, 1, 2]]
    with pytest.raises(ValueError, match="Node arity mismatch"):
        pytree.tree_map(lambda x, y: x, [1, 2], [1])
    seen = []
    tree = {"a": (1, 2)}
    assert pytree.tree_map_(seen.append, tree) is tree and seen == [1, 2]


def test_only_maps_and_predicates_pick_leaves_by_type():
    tree = [1, -2.5, "s", (3, [True])]
    assert pytree.tree_map_only(int, lambda x: -x, tree) == [-1, -2.5, "s", (-3, [-1])]
    assert pytree.tree_map_only(float, abs, tree)[1] == 2.5
    assert pytree.tree_all_only(float, lambda x: x < 0, tree)
    assert not pytree.tree_any_only(str, lambda x: x == "t", tree)
    assert pytree.tree_any(lambda x: x == "s", tree) and not pytree.tree_all(bool, [1, 0])
    assert pytree.tree_all(bool, {}) and not pytree.tree_any(bool, ())
    with pytest.raises(TypeError, match="must be a type"):
        pytree.map_only(5)
    kept = pytree.tree_flatten([(1, 2), 3], is_leaf=lambda x: isinstance(x, tuple))[0]
    assert kept == [(1, 2), 3]


def test_key_paths_reach_their_leaves():
    tree = {"a": [1, Point(2, deque([3]))]}
    pairs, spec = pytree.tree_flatten_with_path(tree)
    assert [pytree.keystr(k) for k, _ in pairs] == ["['a'][0]", "['a'][1].x", "['a'][1].y[0]"]
    assert all(pytree.key_get(tree, k) == v for k, v in pairs)
    assert pytree.tree_leaves_with_path(tree) == pairs and spec.num_leaves == 3
    doubled = pytree.tree_map_with_path(lambda path, x: len(path) * x, tree)
    assert doubled == {"a": [2, Point(6, deque([12]))]}


def test_registered_node_and_dataclass_round_trip():
    class Pair:
        def __init__(self, left, right):
            self.left, self.right = left, right

    pytree.register_pytree_node(Pair, lambda p: ([p.left, p.right], None),
                                lambda v, c: Pair(*v))
    with pytest.raises(ValueError, match="already registered"):
        pytree.register_pytree_node(Pair, None, None)
    out = pytree.tree_map(lambda x: x + 1, [Pair(1, (2, 3))])
    assert out[0].left == 2 and out[0].right == (3, 4)
    with pytest.raises(ValueError, match="flatten_with_keys_fn"):
        pytree.tree_flatten_with_path(Pair(1, 2))

    @dataclasses.dataclass
    class Cfg:
        w: object
        b: object = None

    pytree.register_dataclass(Cfg)
    leaves, spec = pytree.tree_flatten(Cfg(w=[1, 2]))
    assert leaves == [1, 2] and pytree.tree_unflatten([5, 6], spec) == Cfg(w=[5, 6])
    assert [pytree.keystr(k) for k, _ in pytree.tree_flatten_with_path(Cfg(3, 4))[0]] == \
        [".w", ".b"]
    with pytest.raises(ValueError, match="Missing fields"):
        pytree.register_dataclass(Cfg, field_names=["w"])


def test_func_transforms_see_nodes_registered_through_utils_pytree():
    class Holder:
        def __init__(self, t):
            self.t = t

    pytree.register_pytree_node(Holder, lambda h: ([h.t], None), lambda v, c: Holder(v[0]))
    x = ember.arange(6.0).reshape(3, 2)
    out = ember.func.vmap(lambda h, p: Holder(h.t * p.x + p.y))(Holder(x), Point(x, x))
    assert isinstance(out, Holder)
    np.testing.assert_allclose(out.t.numpy(), x.numpy() ** 2 + x.numpy())


def test_unflatten_errors_and_namedtuple_predicates():
    with pytest.raises(ValueError, match="holds 1 items"):
        pytree.tree_unflatten([1, 2], pytree.tree_structure((0,)))
    with pytest.raises(TypeError, match="PyTreeSpec"):
        pytree.tree_unflatten([1], [2])
    assert pytree.is_namedtuple(Point) and pytree.is_namedtuple_instance(Point(1, 2))
    assert not pytree.is_namedtuple((1, 2)) and pytree.is_structseq(os.stat(".")) and \
        not pytree.is_structseq(Point(1, 2))


# --- utils.dlpack --------------------------------------------------------------------------------
def test_dlpack_exchanges_with_numpy():
    from ember.utils import dlpack

    a = np.arange(-3.0, 3.0).reshape(2, 3)
    np.testing.assert_array_equal(dlpack.from_dlpack(a).numpy(), a)
    t = ember.arange(10, dtype=ember.int64)[2:7]
    np.testing.assert_array_equal(np.from_dlpack(t), np.arange(2, 7))
    assert dlpack.DLDeviceType(t.__dlpack_device__()[0]) is dlpack.DLDeviceType.kDLCPU


# --- nn.modules.utils ----------------------------------------------------------------------------
def test_ntuple_helpers_and_prefix_stripping_load_a_wrapped_checkpoint():
    assert nn_utils._pair(3) == (3, 3) and nn_utils._triple([1, 2, 3]) == (1, 2, 3)
    assert nn_utils._single(0) == (0,) and nn_utils._quadruple(-1) == (-1,) * 4
    assert nn_utils._reverse_repeat_tuple((1, 2, 3), 2) == (3, 3, 2, 2, 1, 1)
    assert nn_utils._list_with_default([None, 5], [9, 8, 7]) == [8, 5]
    with pytest.raises(ValueError, match="at least 3"):
        nn_utils._list_with_default([None, 5], [1, 2])
    model = ember.nn.Sequential(ember.nn.Linear(3, 2))
    wrapped = ember.nn.Sequential(OrderedDict(module=model))
    sd = wrapped.state_dict()
    assert all(k.startswith("module.") for k in sd)
    nn_utils.consume_prefix_in_state_dict_if_present(sd, "module.")
    fresh = ember.nn.Sequential(ember.nn.Linear(3, 2))
    fresh.load_state_dict(sd)
    np.testing.assert_array_equal(fresh[0].weight.detach().numpy(),
                                  model[0].weight.detach().numpy())


# --- compiler ------------------------------------------------------------------------------------
def test_compiler_runs_everything_eagerly():
    assert compiler.is_compiling() is False and compiler.is_dynamo_compiling() is False

    @compiler.disable
    def f(x):
        return x + 1

    @compiler.disable(recursive=False)
    def g(x):
        return x * 3

    assert f(1) == 2 and g(2) == 6 and f.__name__ == "f" and f._torchdynamo_disable
    layer = ember.nn.Linear(2, 2)
    assert compiler.disable(layer) is layer
    with pytest.raises(AssertionError, match="callable"):
        compiler.disable(5)
    assert compiler.allow_in_graph(f) is f and compiler.assume_constant_result(g) is g
    assert compiler.reset() is None and compiler.cudagraph_mark_step_begin() is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert compiler.compile(layer) is layer and compiler.compile()(g) is g


# --- utils.weak ----------------------------------------------------------------------------------
def test_weak_id_dictionary_keys_tensors_by_identity_and_drops_dead_ones():
    a, b = ember.ones(3), ember.ones(3)
    d = weak.WeakTensorKeyDictionary({a: 1})
    d[b] = 2
    assert len(d) == 2 and d[a] == 1 and d[b] == 2 and ember.ones(3) not in d
    # an iteration defers the removal of a key that dies meanwhile
    for key in d.keys():
        if key is b:
            del key, b
            gc.collect()
    assert len(d) == 1 and list(d.values()) == [1]
    merged = d | {a: 5}
    assert merged[a] == 5 and d[a] == 1 and isinstance(merged, weak.WeakIdKeyDictionary)
    ref = weak.WeakIdRef(a)
    assert ref() is a and ref == weak.WeakIdRef(a) and hash(ref) == id(a)
    assert weak.TensorWeakRef(a)() is a
    del a
    gc.collect()
    assert len(d) == 0 and ref() is None


# --- multiprocessing -----------------------------------------------------------------------------
def _send_double(i, queue, tensor):
    queue.put((i, tensor * (i + 1), ember.nn.Parameter(tensor[:1])))


def _raise_value_error(i, message):
    raise ValueError(f"{message} in {i}")


def _exit_with_code(i):
    sys.exit(3 * i)


def test_spawn_sends_tensors_to_a_fresh_process_and_back_with_their_values():
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.SimpleQueue()
    sent = ember.arange(-3.0, 3.0).reshape(2, 3)[:, 1:]  # a non-contiguous view
    assert emp.spawn(_send_double, args=(queue, sent), nprocs=1) is None
    i, doubled, param = queue.get()
    assert i == 0 and doubled.dtype == ember.float32 and isinstance(param, ember.nn.Parameter)
    np.testing.assert_array_equal(doubled.numpy(), sent.numpy())
    np.testing.assert_array_equal(param.detach().numpy(), sent.numpy()[:1])


def test_spawn_reraises_a_child_exception_with_its_traceback():
    with pytest.warns(FutureWarning, match="only supports start_method=spawn"):
        with pytest.raises(emp.ProcessRaisedException) as info:
            emp.spawn(_raise_value_error, args=("boom",), start_method="fork")
    msg = str(info.value)
    assert "-- Process 0 terminated with the following error:" in msg
    assert "Traceback" in msg and "ValueError: boom in 0" in msg
    assert info.value.error_index == 0 and info.value.error_pid > 0


def test_start_processes_reports_the_failing_index_and_exit_code():
    context = emp.start_processes(_exit_with_code, args=(), nprocs=2, join=False,
                                  start_method="fork")
    assert isinstance(context, emp.ProcessContext) and len(set(context.pids())) == 2
    with pytest.raises(emp.ProcessExitedException,
                       match="process 1 terminated with exit code 3") as info:
        while not context.join():
            pass
    assert info.value.error_index == 1 and info.value.exit_code == 3
    assert emp.get_sharing_strategy() in emp.get_all_sharing_strategies()
    with pytest.raises(AssertionError, match="invalid sharing strategy"):
        emp.set_sharing_strategy("nope")


# --- signal.windows ------------------------------------------------------------------------------
def _periodic(numpy_window, M):
    return numpy_window(M + 1)[:-1]


@pytest.mark.parametrize("M", [2, 5, 16])
def test_windows_match_numpy_definitions(M):
    def f64(t):
        assert t.dtype == ember.float64
        return t.numpy()

    d = ember.float64
    for ours, ref in ((win.hann, np.hanning), (win.hamming, np.hamming),
                      (win.blackman, np.blackman), (win.bartlett, np.bartlett)):
        np.testing.assert_allclose(f64(ours(M, dtype=d)), ref(M), atol=1e-12)
        np.testing.assert_allclose(f64(ours(M, sym=False, dtype=d)), _periodic(ref, M),
                                   atol=1e-12)
    np.testing.assert_allclose(f64(win.kaiser(M, beta=4.0, dtype=d)), np.kaiser(M, 4.0),
                               rtol=1e-10)
    n = np.arange(M)
    np.testing.assert_allclose(f64(win.cosine(M, dtype=d)), np.sin(np.pi * (n + 0.5) / M))
    np.testing.assert_allclose(f64(win.gaussian(M, std=1.7, dtype=d)),
                               np.exp(-0.5 * ((n - (M - 1) / 2) / 1.7) ** 2))
    np.testing.assert_allclose(f64(win.exponential(M, tau=2.0, center=1.0, sym=False, dtype=d)),
                               np.exp(-np.abs(n - 1.0) / 2.0))
    a = [0.3635819, 0.4891775, 0.1365995, 0.0106411]
    z = 2 * np.pi * n / (M - 1)
    np.testing.assert_allclose(f64(win.nuttall(M, dtype=d)),
                               sum((-1) ** i * c * np.cos(i * z) for i, c in enumerate(a)),
                               atol=1e-12)
    np.testing.assert_allclose(f64(win.general_hamming(M, alpha=0.6, dtype=d)),
                               0.6 - 0.4 * np.cos(z), atol=1e-12)


def test_windows_edge_lengths_dtypes_and_errors():
    for name in win.__all__:
        kw = {"a": [0.5, 0.5]} if name == "general_cosine" else {}
        fn = getattr(win, name)
        assert fn(0, **kw).shape == (0,) and fn(3, **kw).dtype == ember.float32
        with pytest.raises(ValueError, match="non-negative window length"):
            fn(-1, **kw)
        with pytest.raises(ValueError, match="expects float32 or float64"):
            fn(4, dtype=ember.int64, **kw)
    assert win.kaiser(1).tolist() == [1.0] and win.bartlett(1).tolist() == [1.0]
    assert math.isclose(win.hann(5)[2].item(), 1.0, rel_tol=1e-6)
    out = win.hamming(6, requires_grad=True)
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()  # the graph reaches its internal leaf without error
    with pytest.raises(ValueError, match="Center must be None"):
        win.exponential(4, center=1.0)
    with pytest.raises(TypeError, match="Coefficients must be a list"):
        win.general_cosine(4, a=1.5)


# --- types ---------------------------------------------------------------------------------------
def test_types_aliases_accept_what_they_name():
    assert isinstance(2.5, etypes.Number) and not isinstance("2", etypes.Number)
    assert isinstance(ember.device("cpu"), etypes.Device) and isinstance(None, etypes.Device)
    assert isinstance("f.pt", etypes.FileLike) and etypes._dtype is ember.dtype
    assert isinstance(ember.Size([2]), etypes._size.__args__)
