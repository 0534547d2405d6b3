"""Bugs the autograd fuzzer (``test_fuzz_autograd_oracle.py``) found, one small program each,
run with torch and with ember: the same values, flags, ``grad_fn`` names, versions, errors
(type and first line) and leaf gradients."""
import numpy as np
import pytest

import ember
from tests.oracle._fuzz_programs import error_gist, facts, leaf_grads

torch = pytest.importorskip("torch")

SETUP = ("x = T.tensor([[1.5, -2.0, 0.5], [0.25, 1.0, -0.75]], dtype=T.float64, "
         "requires_grad=True)\ny = x * 1\n")


def _run(lib, lines):
    ns, out = {"T": lib}, []
    for line in lines:
        try:
            exec(line, ns)
        except Exception as exc:  # compared with torch's
            out.append(("raised", *error_gist(exc)))
            continue
        out.append(("ok", {k: v[:7] for k, v in facts(ns, lib).items()},
                    {k: v[7] for k, v in facts(ns, lib).items()}))
    return out, leaf_grads(ns, lib, ())


CASES = {
    "split_sizes_name": ["a, b = y.split([1, 1])", "a.mul_(2)"],
    "detach_of_view_is_no_view": ["v = y[1:]", "d = v.detach()", "d.add_(1)"],
    "detach__of_view": ["v = y.t()", "v.detach_()", "w = T.ones(3)[1:]", "w.detach_()"],
    "view_of_split_piece": ["a, b = y.split(1)", "a[0].mul_(2)", "a.view(3).t().add_(1)"],
    "view_of_leaf_split_piece": ["a, b = x.split(1)", "a[:, 1:].mul_(2)", "b.mul_(2)"],
    "setitem_through_split_piece": ["a, b = x.split(1)", "a[:, 0] = 2.0", "b[0] = b[0] * 2"],
    "split_under_no_grad": ["with T.no_grad():\n    a, b = y.split(1)", "a.mul_(2)"],
    "split_of_no_grad_view": ["with T.no_grad():\n    n = y[1:]", "a, = n.split(1)",
                              "a.mul_(2)"],
    "no_grad_view_of_split_piece": ["a, b = y.split(1)", "with T.no_grad():\n    w = a[0]",
                                    "w.mul_(2)"],
    "split_piece_after_base_change": ["a, b = y.unbind(0)", "y.mul_(2)", "a.grad_fn",
                                      "c = a * 2", "a.requires_grad", "a._version"],
    "no_grad_view_after_base_change": ["with T.no_grad():\n    n = y[1:]", "y.mul_(2)",
                                       "n.grad_fn", "n.is_leaf", "n.requires_grad"],
    "autograd_errors_before_overlap": ["z = x[0].expand(2, 3)", "z.tanh_()",
                                       "x.t().expand(2, 3, 2).mul_(2)"],
    "var_result_changed": ["v = y.var(0)", "v.mul_(2)", "v.sum().backward()"],
    "var_input_changed": ["v = y.var(1)", "y.mul_(2)", "v.sum().backward()"],
    "std_result_changed": ["v = y.std(0)", "v.mul_(2)", "v.sum().backward()"],
    "prod_result_changed": ["p = y.prod(-1)", "p.unsqueeze(-1).mul_(2)", "p.sum().backward()"],
    "norm_result_changed": ["n = x.norm()", "n[None] = 1.0", "n.backward()"],
    "norm_dim_result_changed": ["n = x.norm(dim=1)", "n.add_(1)", "n.sum().backward()"],
    "amax_result_changed": ["a = x.amax(-1)", "a.add_(2.0)", "a.sum().backward()"],
    "amin_keepdim_result_changed": ["a = x.amin(0, keepdim=True)", "a.add_(2.0)",
                                    "a.sum().backward()"],
    "logsumexp_result_changed": ["s = x.logsumexp(1)", "s.mul_(2)", "s.sum().backward()"],
    "logsumexp_keepdim": ["s = x.logsumexp(1, keepdim=True)", "s.sum().backward()"],
    "pow_scalar_result_changed": ["p = x ** 2.0", "p.reshape(-1).copy_(T.ones(6))",
                                  "p.sum().backward()"],
    "pow_tensor_result_changed": ["p = (x.abs() + 0.5) ** y", "p.add_(1)",
                                  "p.sum().backward()"],
    "unbind_1d_pieces_are_views": ["a, b, c = y[0].unbind(0)", "y.mul_(2)", "a._version"],
    "unflatten_strided_is_view": ["u = y[:, 1:].unflatten(0, (1, 2))", "u.sum().backward()"],
    "index_put_shared_memory": ["z = T.ones(3, dtype=T.float64)",
                                "z[T.tensor([0, 0])] = z[:2]", "z[T.tensor([0, 1, 2])] = z"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fuzz_found_case_matches_torch(name):
    lines = [SETUP] + CASES[name]
    (want, want_grads), (got, got_grads) = _run(torch, lines), _run(ember, lines)
    for line, w, g in zip(lines, want, got):
        assert w[0] == g[0] and w[1] == g[1], f"{line!r}: ember {g[:2]}, torch {w[:2]}"
        if w[0] == "ok":
            for k in w[2]:
                np.testing.assert_allclose(g[2][k], w[2][k], rtol=1e-12, err_msg=k)
    assert sorted(want_grads) == sorted(got_grads)
    for k, w in want_grads.items():
        assert (w is None) == (got_grads[k] is None), k
        if w is not None:
            np.testing.assert_allclose(got_grads[k], w, rtol=1e-12, err_msg=k)

CASES_MORE = {
    "lerp_number_weight_inputs_changed": ["a = x * 2", "b = x * 1", "a.lerp_(b, 0.3)",
                                          "b.mul_(2)", "a.sum().backward()"],
    "lerp_tensor_weight_inputs_changed": ["a = x * 2", "b = x * 1", "a.lerp_(b, y * 0.3)",
                                          "b.mul_(2)", "a.sum().backward()"],
    "setitem_whole_is_copy_or_fill": ["a = x * 1", "a[:] = 2.0", "b = x * 1", "b[...] = x[0]",
                                      "c = x * 1", "c[0:2, ::1] = x * 3", "x[:] = 1.0"],
    "setitem_leaf_view_before_overlap": ["e = x[0].expand(2, 3)", "e[1:] = 2.0",
                                         "v = x.view(6)", "v[0::2] = v[0::2]"],
    "setitem_overlap_after_strip": ["a = y * 1", "a[None] = a", "a[1:] = a[1:][None]",
                                    "a[0][None] = a[0]", "a[:1] = a[0]", "a[1:] = a[:1]"],
    "setitem_mask_one_element_value": ["a = y.sum(0, keepdim=True)[:, :1] * 1",
                                       "a[a > -9] = a", "b = y * 1", "b[b > 0] = b[0]"],
    "setitem_value_stale_no_grad_view": ["with T.no_grad():\n    n = y[1:, :1]\n    n.mul_(2)",
                                         "a = y * 1", "a[a > 0] = n"],
    "inplace_zero_dim_overlap": ["a = y * 1", "a.add_(a[0, 0])", "a[0].mul_(a[0, 1])",
                                 "a.fill_(a[1, 1])", "a.masked_fill_(a > 0, a[0, 0])",
                                 "s = y.sum()", "s.view(1, 1).add_(s)", "s.unsqueeze(0).copy_(s)"],
    "clone_of_expanded_is_contiguous": ["c = x[0].expand(2, 3).clone()", "f = c.flatten()",
                                        "f.mul_(2)", "c.sum().backward()"],
    "no_grad_view_requires_grad": ["with T.no_grad():\n    n = x[1:]\n    w = y.t()",
                                   "s = (n * 3).sum() + (w * w).sum() + n[0].sum()",
                                   "s.backward()", "n.retain_grad()"],
    "no_grad_view_of_leaf_inplace": ["with T.no_grad():\n    n = x[1:]", "n.mul_(2)",
                                     "n[0].add_(1)", "n.t().zero_()"],
}
CASES.update(CASES_MORE)


@pytest.mark.parametrize("name", sorted(CASES_MORE))
def test_fuzz_found_case_more_matches_torch(name):
    test_fuzz_found_case_matches_torch(name)


def test_second_derivative_through_relu_and_abs_reaches_the_input():
    """torch's relu and abs backward formulas depend on the input (with a zero derivative):
    a second backward gives the input a zero gradient, not None."""
    for lib in (torch, ember):
        x = lib.tensor([[1.5, -2.0, 0.5]], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([[1.0, 2.0, 3.0]], dtype=lib.float64)
        for f in (lib.relu, lib.abs):
            (g,) = lib.autograd.grad((f(x) * w).sum(), x, create_graph=True)
            (gg,) = lib.autograd.grad(g.sum(), x, allow_unused=True)
            assert gg is not None, (lib.__name__, f)
            np.testing.assert_array_equal(gg.detach().numpy(force=True), np.zeros((1, 3)))
