"""Module API corners against torch: ``set_submodule``, ``Module.compile`` and the reprs of
ParameterList / ParameterDict holding tensors of several dtypes and plain objects."""
import warnings

import pytest

import ember


def _tree(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))


def _outcome(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)


@pytest.mark.parametrize("target, strict", [("1.0", False), ("1.0", True), ("1.extra", False),
                                             ("1.extra", True), ("0.weight", False),
                                             ("9.x", False), ("", False), ("2", False)])
def test_set_submodule_matches_torch(torch, target, strict):
    results = []
    for lib in (torch, ember):
        model = _tree(lib)

        def act(model=model, lib=lib):
            model.set_submodule(target, lib.nn.Tanh(), strict=strict)
            return [name for name, _ in model.named_modules()], repr(model)
        results.append(_outcome(act))
    assert results[0] == results[1]


def test_set_submodule_refuses_a_non_module(torch):
    errors = [_outcome(lambda lib=lib: _tree(lib).set_submodule("0", 3)) for lib in (torch, ember)]
    assert errors[0][0] == errors[1][0] == "ValueError"
    assert errors[1][1] == "`module` is not an nn.Module, found <class 'int'>"


def test_module_compile_returns_none_and_the_module_still_runs(torch):
    model = _tree(ember)
    x = ember.ones(4, 2)
    before = model(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert model.compile() is None
    assert ember.equal(model(x), before)
    assert torch.nn.Linear(1, 1).compile.__doc__ and model.compile.__doc__


def test_parameter_containers_repr_like_torch(torch):
    reprs = []
    for lib in (torch, ember):
        nn = lib.nn
        entries = [nn.Parameter(lib.ones(2)), lib.ones(2, 3, dtype=lib.float64), 3]
        plist = nn.ParameterList(entries)
        pdict = nn.ParameterDict(dict(zip("abc", entries)))
        reprs.append((repr(plist), repr(pdict)))
    assert reprs[1] == tuple(r.replace("torch.float", "ember.float") for r in reprs[0])


def test_deepcopy_of_a_module_drops_parameter_grads_as_torch(torch):
    import copy

    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Embedding(5, 3, sparse=True), lib.nn.Linear(3, 2))
        model(lib.tensor([1, 1, 4])).sum().backward()
        twin = copy.deepcopy(model)
        results.append([(type(p).__name__, p.grad is None, p.requires_grad,
                         p.detach().numpy().tolist() == q.detach().numpy().tolist(),
                         p.data_ptr() != q.data_ptr())
                        for p, q in zip(twin.parameters(), model.parameters())])
        assert all(q.grad is not None for q in model.parameters())
    assert results[0] == results[1]
