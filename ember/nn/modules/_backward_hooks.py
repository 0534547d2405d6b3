"""Module backward hooks: identity nodes around a module's inputs and outputs that see the
gradients flowing through them (torch's ``BackwardHook``)."""
from __future__ import annotations

from ..._tensor import Tensor, _wrap
from ...autograd import grad_mode
from ...autograd.function import Op


class _HookIdentity(Op):
    """z_k = x_k; backward hands the gradients to ``hook``, which may replace them"""

    _backward_name = "BackwardHookFunctionBackward"

    @staticmethod
    def forward(ctx, *xs, hook):
        ctx.hook = hook
        return tuple(x.view() for x in xs)

    @staticmethod
    def backward(ctx, *grads):
        return tuple(ctx.hook(grads))


def _as_tensors(arrays):
    return tuple(_wrap(g) if g is not None else None for g in arrays)


def _as_arrays(tensors, like):
    return [t._data if isinstance(t, Tensor) else l for t, l in zip(tensors, like)]


class BackwardHook:
    """Wires ``register_full_backward_hook`` / ``_pre_hook`` callbacks for one call."""

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.slots = []
        self.inputs_need_grad = False

    def setup_input_hook(self, args):
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(positions)
        need = [i for i in positions if args[i].requires_grad]
        # where the inputs that need grad sit among the tensor arguments
        self.slots = [positions.index(i) for i in need]
        self.inputs_need_grad = bool(need) and grad_mode.state.enabled
        if not self.inputs_need_grad or not self.hooks:
            return args
        outs = _HookIdentity.apply(*(args[i] for i in need), hook=self._inputs_done)
        args = list(args)
        for i, t in zip(need, outs):
            args[i] = t
        return tuple(args)

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        items = (result,) if single else result
        if not isinstance(items, tuple):
            return result
        pos = [i for i, t in enumerate(items) if isinstance(t, Tensor) and t.requires_grad]
        if not pos or not grad_mode.state.enabled:
            return result
        outs = _HookIdentity.apply(*(items[i] for i in pos), hook=self._outputs_done)
        items = list(items)
        for i, t in zip(pos, outs):
            items[i] = t
        return items[0] if single else tuple(items)

    def _outputs_done(self, grads):
        grads = list(grads)
        for hook in self.pre_hooks:
            res = hook(self.module, _as_tensors(grads))
            if res is not None:
                res = res if isinstance(res, (tuple, list)) else (res,)
                grads = _as_arrays(res, grads)
        self.grad_outputs = _as_tensors(grads)
        if not self.inputs_need_grad:
            for hook in self.hooks:
                hook(self.module, (None,) * self.n_inputs, self.grad_outputs)
        return grads

    def _inputs_done(self, grads):
        full = [None] * self.n_inputs
        for slot, g in zip(self.slots, grads):
            full[slot] = g
        for hook in self.hooks:
            res = hook(self.module, _as_tensors(full), self.grad_outputs)
            if res is not None:
                res = res if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(full):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                       f"got {len(res)}, but expected {len(full)}")
                full = _as_arrays(res, full)
        return [full[slot] for slot in self.slots]
