"""Seeded random autograd programs about views, in-place ops and graph semantics, run with
torch (the oracle) and with ember.

Each program (``tests/oracle/_fuzz_programs.py``) is a few lines over float64 leaves:
broadcasting binary ops, unary ops, reductions, views (view, reshape, transpose, permute, t,
narrow, select, strided slices, unsqueeze/squeeze, expand, diagonal, unbind, split, chunk,
as_strided), in-place ops on views and on bases with live views, setitem, detach, clone,
retain_grad, tensor hooks, no_grad blocks, then ``backward()`` of a randomly weighted sum (or
``autograd.grad(create_graph=True)`` and a second backward). After every line the variables'
shapes, dtypes, values, ``requires_grad``, ``is_leaf``, ``grad_fn`` names, ``_version`` and
``_is_view()`` must agree; where torch raises, ember must raise the same type with the same
first line; at the end the leaves' (and retained) ``.grad`` must agree.
"""
import functools

import pytest

import ember
from tests.oracle._fuzz_programs import generate, replay

torch = pytest.importorskip("torch")

SEEDS = range(240)


@functools.cache
def _program(seed):
    return generate(seed, torch)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_program_matches_torch(seed):
    prog = _program(seed)
    problem = replay(prog, ember)
    assert problem is None, f"seed {seed}:\n{prog.text()}\n--> {problem}"


def test_programs_cover_the_features():
    """The generator reaches what it is meant to test (guards against a silent narrowing)."""
    text = "\n".join(_program(seed).text() for seed in SEEDS)
    for feature in ("_()", "] = ", ".unbind(", ".split(", ".chunk(", ".expand(", ".diagonal(",
                    ".as_strided(", "register_hook", "retain_grad", "T.no_grad()", ".detach_()",
                    "create_graph=True", ".copy_(", ".clamp_(", ".zero_()", "T.maximum(",
                    "T.where(", "keepdim=True"):
        assert feature in text, feature


def test_some_programs_raise_in_torch():
    """A share of the programs hit torch's view+inplace and saved-tensor errors."""
    errors = [s.error for seed in SEEDS for s in _program(seed).steps if s.error]
    assert len(errors) >= 20
    assert any("inplace" in e[1] for e in errors)
