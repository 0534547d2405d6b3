"""The ``ember`` package's lazily imported sub-packages: each name it promises imports, and
a name it lacks answers ``hasattr`` with False (AttributeError), as a module should."""
import importlib

import pytest

import ember


@pytest.mark.parametrize("name", ["nn", "optim", "utils", "text", "models", "autograd",
                                  "testing", "cuda", "backends", "distributed", "amp",
                                  "serialization", "linalg", "special", "random", "jit",
                                  "distributions", "cpu", "func", "profiler", "compiler",
                                  "multiprocessing", "signal", "types", "fx", "fft",
                                  "accelerator", "version", "torch_version", "functional",
                                  "mps", "xpu"])
def test_lazy_subpackage_imports(name):
    assert getattr(ember, name) is importlib.import_module(f"ember.{name}")


@pytest.mark.parametrize("name", ["onnx", "mtia", "no_such_thing"])
def test_missing_name_is_an_attribute_error(name):
    assert not hasattr(ember, name)
    with pytest.raises(AttributeError, match=name):
        getattr(ember, name)


def test_lazy_functions_load_their_module_on_first_use():
    for name, module in ember._LAZY_FUNCTIONS.items():
        fn = getattr(ember, name)
        assert callable(fn) and fn is getattr(importlib.import_module(f"ember.{module}"), name)


def test_layouts_are_torch_layout_objects_not_modules():
    import copy
    import pickle

    x = ember.ones(2, 3)
    assert x.layout is ember.strided and x.t().layout is ember.strided
    assert isinstance(ember.strided, ember.layout) and repr(ember.strided) == "ember.strided"
    assert ember.sparse_coo is not ember.strided and isinstance(ember.sparse_csr, ember.layout)
    assert pickle.loads(pickle.dumps(ember.strided)) is ember.strided
    assert copy.deepcopy(ember.sparse_coo) is ember.sparse_coo
    assert ember.zeros(2, layout=ember.strided).layout is ember.strided


@pytest.mark.parametrize("make", [lambda **k: ember.zeros(2, 3, **k),
                                  lambda **k: ember.ones_like(ember.ones(2), **k),
                                  lambda **k: ember.randn(2, **k),
                                  lambda **k: ember.arange(3, **k),
                                  lambda **k: ember.hann_window(4, **k)])
def test_creation_refuses_layouts_it_cannot_make(make):
    assert make(layout=ember.strided).layout is ember.strided
    with pytest.raises(NotImplementedError, match="sparse_coo"):
        make(layout=ember.sparse_coo)
    with pytest.raises(TypeError, match="layout"):
        make(layout="strided")
