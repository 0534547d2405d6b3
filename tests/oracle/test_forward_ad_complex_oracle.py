"""ember.autograd.forward_ad on complex tensors against torch.autograd.forward_ad: the values,
tangents and dtypes of the complex op table (tests/autograd/test_forward_ad_complex_cases.py)
in complex128 and complex64, with every input dual or only one; and ember.func's jvp,
linearize, nested jvp, forward over reverse and jacfwd's errors against torch.func."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as efw
from tests.autograd.test_forward_ad_complex_cases import CASES, make

pytestmark = [pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated"),
              pytest.mark.filterwarnings("ignore:Attempted to insert a get_attr Node"),
              pytest.mark.filterwarnings("ignore:Casting complex values to real")]

TORCH_CASES = [c for c in CASES if c.torch]


def _numpy(t):
    """A torch or ember tensor as an array (torch's lazy conjugates resolved)."""
    t = t.detach()
    return np.array((t.resolve_conj() if hasattr(t, "resolve_conj") else t).numpy())


def _run(case, torch, single=False, dual=None):
    """((value, tangent) of torch, (value, tangent) of ember); ``dual``: the positions of
    the inputs made dual (all by default)."""
    import torch.autograd.forward_ad as tfw

    rng = np.random.default_rng(0)
    pairs = [make(rng, spec, single) for spec in case.specs]
    dual = range(len(pairs)) if dual is None else dual
    results = []
    for L, fw in ((torch, tfw), (ember, efw)):
        with fw.dual_level():
            args = [fw.make_dual(L.tensor(x), L.tensor(t)) if i in dual else L.tensor(x)
                    for i, (x, t) in enumerate(pairs)]
            value, tangent = fw.unpack_dual(case.fn(L, *args))
            results.append((value, tangent))
    return results


def _check(case, torch_result, ember_result, rtol, atol):
    (tv, tt), (ev, et) = torch_result, ember_result
    np.testing.assert_allclose(_numpy(ev), _numpy(tv), rtol=rtol, atol=atol, err_msg=case.name)
    assert (et is None) == (tt is None), case.name
    assert str(et.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1], case.name
    np.testing.assert_allclose(_numpy(et), _numpy(tt), rtol=rtol, atol=atol,
                               err_msg=case.name)


@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c.name)
def test_tangents_match_torch(case, torch):
    _check(case, *_run(case, torch), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c.name)
def test_single_precision_tangents_match_torch(case, torch):
    _check(case, *_run(case, torch, single=True), rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("case", [c for c in TORCH_CASES if len(c.specs) > 1],
                         ids=lambda c: c.name)
@pytest.mark.parametrize("which", ["first", "last"])
def test_one_dual_input_matches_torch(case, which, torch):
    position = 0 if which == "first" else len(case.specs) - 1
    _check(case, *_run(case, torch, dual=(position,)), rtol=1e-9, atol=1e-11)


def test_where_torch_is_wrong_ember_differs(torch):
    # silu and cholesky_inverse: torch 2.13's tangents are not the derivatives of its results
    # (tests/autograd/test_forward_ad_complex.py checks ember's against finite differences)
    for case in [c for c in CASES if not c.torch]:
        (_, tt), (_, et) = _run(case, torch)
        assert not np.allclose(_numpy(et), _numpy(tt)), case.name


@pytest.mark.parametrize("name", ["inv", "abs_times", "svdvals", "eigvals", "sgn_angle"])
def test_tangents_are_differentiable_like_torch(name, torch):
    # reverse mode through a complex tangent: the gradient of |tangent|^2 with respect to z
    fns = {"inv": lambda L, v: L.linalg.inv(v), "abs_times": lambda L, v: v.abs() * v,
           "svdvals": lambda L, v: L.linalg.svdvals(v),
           "eigvals": lambda L, v: L.linalg.eigvals(v),
           "sgn_angle": lambda L, v: v.sgn() * v.angle()}
    import torch.autograd.forward_ad as tfw

    rng = np.random.default_rng(0)
    a, t = make(rng, ((3, 3), "c"))
    grads = []
    for L, fw in ((torch, tfw), (ember, efw)):
        z = L.tensor(a, requires_grad=True)
        with fw.dual_level():
            tangent = fw.unpack_dual(fns[name](L, fw.make_dual(z, L.tensor(t)))).tangent
            (tangent.abs() ** 2).sum().backward()
        grads.append(_numpy(z.grad))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-11)


# --- torch.func ---------------------------------------------------------------------------------
Z = np.array([1 + 2j, 3 - 1j, 0.5 + 0.2j])
DZ = np.array([1j, 1 + 0j, 0.3 - 2j])
X = np.array([1.0, 2.0, 0.5])


def _both(torch, fn):
    """fn(L) for torch and for ember: its tensors as arrays, or the error's type and text."""
    out = []
    for L in (torch, ember):
        try:
            result = fn(L)
        except Exception as e:  # noqa: BLE001  (the errors are compared)
            out.append((type(e).__name__, str(e).replace("torch.", "").replace("ember.", "")))
            continue
        result = result if isinstance(result, tuple) else (result,)
        out.append([(_numpy(r), str(r.dtype).split(".")[-1]) for r in result])
    return out


def _same(torch, fn):
    expected, actual = _both(torch, fn)
    if isinstance(expected, tuple) or isinstance(actual, tuple):
        assert actual == expected
        return
    assert len(actual) == len(expected)
    for (a, ad), (e, ed) in zip(actual, expected):
        assert ad == ed
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-11)


FUNC_CASES = {
    "jvp": lambda L: L.func.jvp(lambda a: (a.sin() * a.conj()).abs() + a.real,
                                (L.tensor(Z),), (L.tensor(DZ),)),
    "jvp_complex_output": lambda L: L.func.jvp(lambda a, b: a * b.conj(),
                                               (L.tensor(Z), L.tensor(X)),
                                               (L.tensor(DZ), L.tensor(X))),
    "jvp_real_tangent": lambda L: L.func.jvp(L.sin, (L.tensor(Z),), (L.tensor(X),)),
    "jvp_complex_tangent_of_real": lambda L: L.func.jvp(L.sin, (L.tensor(X),),
                                                        (L.tensor(DZ),)),
    "jvp_has_aux": lambda L: L.func.jvp(lambda a: (a.exp(), a.abs()), (L.tensor(Z),),
                                        (L.tensor(DZ),), has_aux=True)[:2],
    "jvp_pytree": lambda L: L.func.jvp(lambda d: d["a"] @ d["b"],
                                       ({"a": L.tensor(Z), "b": L.tensor(DZ)},),
                                       ({"a": L.tensor(DZ), "b": L.tensor(Z)},)),
    "linearize": lambda L: L.func.linearize(L.exp, L.tensor(Z))[1](L.tensor(DZ)),
    "jvp_of_jvp": lambda L: L.func.jvp(
        lambda a: L.func.jvp(lambda b: b.exp() * b.conj(), (a,), (L.tensor(DZ),))[1],
        (L.tensor(Z),), (L.tensor(DZ),)),
    "jvp_of_jvp_real_output": lambda L: L.func.jvp(
        lambda a: L.func.jvp(lambda b: b.abs() * b.real, (a,), (L.tensor(DZ),))[1],
        (L.tensor(Z),), (L.tensor(DZ),)),
    "jvp_of_grad": lambda L: L.func.jvp(L.func.grad(lambda a: (a.sin().abs() ** 3).sum()),
                                        (L.tensor(Z),), (L.tensor(DZ),)),
    "vmap_of_jvp": lambda L: L.func.vmap(lambda a, t: L.func.jvp(L.exp, (a,), (t,))[1])(
        L.tensor(Z).reshape(3, 1), L.tensor(DZ).reshape(3, 1)),
    "jacfwd_complex_input": lambda L: L.func.jacfwd(L.sin)(L.tensor(Z)),
    "jacfwd_complex_output": lambda L: L.func.jacfwd(lambda a: a * 1j)(L.tensor(X)),
    "jacrev_complex_input": lambda L: L.func.jacrev(L.sin)(L.tensor(Z)),
    "jacfwd_complex_other_argument": lambda L: L.func.jacfwd(lambda a, b: a * b, argnums=0)(
        L.tensor(X), L.tensor(Z)),
    "jacrev_complex_second_output": lambda L: L.func.jacrev(lambda a: (a, a * 1j))(
        L.tensor(X)),
    "hessian_complex_input": lambda L: L.func.hessian(lambda a: a.abs().sum())(L.tensor(Z)),
    "jacfwd_real_through_complex": lambda L: L.func.jacfwd(
        lambda a: (a * (1 + 1j)).exp().abs())(L.tensor(X)),
}


@pytest.mark.parametrize("name", list(FUNC_CASES))
def test_func_transforms_match_torch(name, torch):
    _same(torch, FUNC_CASES[name])
