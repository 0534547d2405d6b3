"""Forward-mode automatic differentiation (``torch.autograd.forward_ad``).

A *dual tensor* carries a tangent next to its value. Inside ``dual_level()`` every op on dual
tensors also computes its output's tangent, the Jacobian-vector product ``J @ t``, so one
pass through a function gives its directional derivative::

    with dual_level():
        out = f(make_dual(x, t))
        value, jvp = unpack_dual(out)

How it works (see ``ember/autograd/_forward_ad``): entering a level installs wrappers around
``Op.apply`` and the few paths that skip it; leaving it removes them and drops every
tangent, so code outside a level runs exactly as before. Each op's tangent comes from a
short formula (``_forward_ad/rules_*.py``) or, for ops without one, from the op's
reverse-mode formula by the double-vjp trick.

As torch, only one level exists at a time (nested levels raise), and a custom
``autograd.Function`` takes part through its ``jvp`` staticmethod. Complex tensors take part
as in torch: the tangent of ``f`` at ``z`` in the direction ``dz`` is the directional
derivative ``(df/dz) dz + (df/dconj(z)) conj(dz)`` (``f'(z) dz`` for a holomorphic ``f``,
``conj(dz)`` for ``conj``, ``Re(dz)`` for ``real``).
"""
from __future__ import annotations

import functools
from typing import NamedTuple

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]

# the level the other functions use by default; -1: none (torch's global of the same name)
_current_level = -1


def enter_dual_level() -> int:
    """Enter a new forward grad level and make it the current one.

    Returns:
        The new level (always 0: one level at a time, as in torch).

    Raises:
        RuntimeError: a level is already open ("Nested forward mode AD is not supported at
            the moment").
    """
    global _current_level
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    from ._forward_ad import _install

    _install.install()
    _current_level = 0
    return _current_level


def exit_dual_level(*, level: int | None = None) -> None:
    """Leave the current forward grad level: every tangent made in it is dropped.

    Raises:
        RuntimeError: ``level`` is not the current one, or no level is open.
    """
    global _current_level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    from ._forward_ad import _install, _state

    try:
        _state.drop_all()
    finally:
        _install.uninstall()
        _current_level = level - 1


def make_dual(tensor, tangent, *, level: int | None = None):
    """A dual tensor: a view of ``tensor`` that carries ``tangent`` (``torch.autograd.
    forward_ad.make_dual``).

    ``tangent`` is kept as it is (not copied) when its layout matches ``tensor``'s, and
    copied into that layout otherwise. The result is differentiable in reverse mode too:
    its ``grad_fn`` leads back to ``tensor``.

    Args:
        tensor: a floating point or complex tensor, the primal value.
        tangent: a floating point or complex tensor of the same shape, the direction. A
            complex tangent is the direction ``dz`` of torch's directional derivative
            ``(df/dz) dz + (df/dconj(z)) conj(dz)``.
        level: the forward grad level (the current one by default).

    Raises:
        RuntimeError: no level is open, ``level`` is not the current one, the shapes differ,
            or ``tensor`` already has a tangent at this level.
        ValueError: ``tensor`` or ``tangent`` is neither floating point nor complex.
    """
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if level != _current_level:
        raise RuntimeError("Invalid level given to _make_dual")
    from ._forward_ad import _dual

    return _dual.make(tensor, tangent)


class UnpackedDualTensor(NamedTuple):
    """What :func:`unpack_dual` returns: the ``primal`` value and its ``tangent`` (None when
    the tensor has none)."""

    primal: object
    tangent: object


def unpack_dual(tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """Split a dual tensor into ``(primal, tangent)`` (``torch.autograd.forward_ad.
    unpack_dual``).

    ``primal`` is a view of ``tensor`` without the tangent (differentiable in reverse mode);
    ``tangent`` is the tangent itself, or None when ``tensor`` has none at ``level`` (always,
    outside a level).
    """
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    from ._forward_ad import _dual

    return UnpackedDualTensor(*_dual.unpack(tensor, level == _current_level))


class dual_level:  # noqa: N801  (torch's name)
    """Context manager (and decorator) for a forward AD level: entered on ``with``, left at
    the end of the block, which drops every tangent made inside it.

    Only one level is supported at a time, as in torch; for higher-order forward
    derivatives use :func:`ember.func.jvp`.

    Example::

        with dual_level():
            y, jvp = unpack_dual(f(make_dual(x, t)))
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        exit_dual_level()

    def __call__(self, fn):
        """Decorate ``fn``: each call runs inside a fresh dual level."""

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)

        return wrapper
