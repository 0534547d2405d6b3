"""Second derivatives through complex tensors against torch: the holomorphic ops run their
Tensor formulas on the conjugated gradient (as their first derivatives do), real/imag/conj
have formulas of their own, and the complex linalg formulas differentiate again."""
import numpy as np
import pytest

import ember

RNG = np.random.default_rng(0)
Z = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
W = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
M = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))
A = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3)) + 3 * np.eye(3)
B = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))
V2 = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
V3 = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))


def _c(lib, a):
    return lib.tensor(a, dtype=lib.complex128)


POINTWISE = {
    "mul": lambda m, z: (z * z * _c(m, W)).real.sum(),
    "exp": lambda m, z: z.exp().imag.sum(),
    "log": lambda m, z: (z.log() * _c(m, W)).real.sum(),
    "div": lambda m, z: (_c(m, W) / z).real.sum() + (z / _c(m, W)).imag.sum(),
    "pow": lambda m, z: (z ** 3).real.sum(),
    "sin and tanh": lambda m, z: (z.sin() + z.tanh()).imag.sum(),
    "matmul": lambda m, z: (z @ _c(m, M) @ _c(m, M).mT @ z.mT).real.sum(),
    "sigmoid": lambda m, z: z.sigmoid().real.sum(),
    "sqrt": lambda m, z: (z.sqrt() * z).real.sum(),
    "conj": lambda m, z: (z.conj() * z * z).real.sum(),
    "real and imag": lambda m, z: (z.real * z.imag * z.real).sum(),
    "sum and mean": lambda m, z: (z.sum(0) * z.mean(1)[:, None]).real.sum(),
    "prod": lambda m, z: z.prod(1).real.sum(),
    "add and sub": lambda m, z: ((z + 2j) * (z - _c(m, W))).imag.sum(),
    "cumsum": lambda m, z: (z.cumsum(1) ** 2).real.sum(),
    "view_as_real": lambda m, z: (m.view_as_real(z) ** 3).sum(),
    "view_as_complex": lambda m, z: (m.view_as_complex(m.view_as_real(z) * 2) ** 2).imag.sum(),
    "complex": lambda m, z: (m.complex(z.real, z.imag) ** 2).real.sum(),
}
LINALG = {
    "inv": lambda m, a: (m.linalg.inv(a) * _c(m, V3)).real.sum(),
    "det": lambda m, a: (m.linalg.det(a) * (1 + 2j)).real,
    "slogdet": lambda m, a: m.linalg.slogdet(a)[1] + m.linalg.slogdet(a)[0].imag,
    "solve": lambda m, a: (m.linalg.solve(a, _c(m, B)) ** 2).real.sum(),
    "eigvalsh": lambda m, a: m.linalg.eigvalsh(a + a.mH).sum() * m.linalg.eigvalsh(a + a.mH)[0],
    "svdvals": lambda m, a: (m.linalg.svdvals(a) ** 3).sum(),
    "matrix_exp": lambda m, a: m.linalg.matrix_exp(a * 0.3).imag.sum(),
    "pinv": lambda m, a: m.linalg.pinv(a).real.sum(),
    "qr": lambda m, a: (m.linalg.qr(a)[1] * _c(m, V3)).real.sum(),
}


def _second(lib, loss, start, v):
    z = _c(lib, start).requires_grad_()
    (g,) = lib.autograd.grad(loss(lib, z), z, create_graph=True)
    (gg,) = lib.autograd.grad((g * _c(lib, v)).real.sum(), z)
    return g.detach().resolve_conj().numpy(), gg.resolve_conj().numpy()


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_second_derivatives_match_torch(torch, name):
    for a, b in zip(_second(ember, POINTWISE[name], Z, V2), _second(torch, POINTWISE[name], Z, V2)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_second_derivatives_match_torch(torch, name):
    for a, b in zip(_second(ember, LINALG[name], A, V3), _second(torch, LINALG[name], A, V3)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("op", ["nan_to_num", "silu"])
def test_ops_torch_refuses_to_differentiate_on_complex(torch, op):
    for lib in (ember, torch):
        z = lib.tensor([1 + 1j], requires_grad=True)
        with pytest.raises(RuntimeError, match=f"{op} does not support automatic differentiation"):
            z.nan_to_num() if op == "nan_to_num" else lib.nn.functional.silu(z)
