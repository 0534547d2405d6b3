"""``Tensor.grad``: where backward leaves a leaf's gradient, with torch's checks.

Reading it on a non-leaf that does not retain its gradient warns (backward never fills it);
assigning checks the value is a Tensor of the tensor's shape and dtype, with torch's errors.
ember's own code reads and writes the slot ``_grad`` directly.
"""
from __future__ import annotations

from ._dtype import c_type_name, scalar_type_name
from ._tensor import Tensor
from ._user_warning import warn_at_user

_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If "
    "you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. "
    "See github.com/pytorch/pytorch/pull/30531 for more information.")


def _check_assigned_grad(t, value):
    """torch's errors for ``t.grad = value``: a Tensor of ``t``'s shape and dtype."""
    if not isinstance(value, Tensor):
        raise TypeError("assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(value).__name__}")
    if value._data.shape != t._data.shape:
        raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a "
                           f"tensor of size '{list(t.shape)}'. Please ensure that the gradient "
                           "and the tensor are the same size")
    if value._data.dtype != t._data.dtype and t._data.dtype.kind in "fc":
        got = c_type_name(value._data.dtype)
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{got}' to a tensor with grad_dtype "
            f"'{scalar_type_name(t._data.dtype)}'. The gradient must "
            "match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
            "tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. "
            "Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may "
            "break downstream systems that assume they match.")


def _get_grad(self):
    """The gradient backward accumulated into this tensor (None before; on a non-leaf
    only after ``retain_grad()``, and reading it otherwise warns, as torch)."""
    g = self._grad
    if g is None and self._grad_fn is not None and not self.retains_grad:
        warn_at_user(_NON_LEAF_GRAD)
    return g


def _set_grad(self, value):
    if value is not None:
        _check_assigned_grad(self, value)
    self._grad = value


Tensor.grad = property(_get_grad, _set_grad, doc=_get_grad.__doc__)
