"""Count the FLOPs of the ops run inside a block: ``torch.utils.flop_counter``.

``FlopCounterMode`` counts what torch's counts, with torch's formulas: matrix products
(``aten.mm``, ``aten.addmm``, ``aten.bmm``, ``aten.baddbmm``) and convolutions
(``aten.convolution``, ``aten.convolution_backward``), forward and backward, attributed to
the modules running at the time (``ModuleTracker``). ember has no dispatcher to watch, so
``ember/utils/_flop_ops.py`` translates ember's ops into the aten calls torch makes for them
(the same shapes, the same kernels: ``nn.Linear`` is an ``addmm`` forward and two ``mm``
backward; ``matmul`` folds or batches as torch's does; attention is torch's CPU math path,
two ``bmm``; ``einsum`` and the recurrent layers as torch decomposes them).

Op keys are strings, torch's names for the ops: ``"aten.mm"`` is what ``str(aten.mm)`` is in
torch, and this module's ``aten`` namespace spells them the same way (``aten.mm ==
"aten.mm"``), so ``counts["Global"][aten.mm]`` reads as in torch. Formulas may also be
registered for an ember ``Function`` / ``Op`` class (the key is then the class): each call
is counted with the call's arguments.
"""
from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from math import prod
from typing import Any

from .._tensor import Tensor
from . import _flop_ops
from .module_tracker import ModuleTracker

__all__ = ["FlopCounterMode", "register_flop_formula"]


class _Aten:
    """``aten.mm``, ``aten.convolution`` ...: the op keys of the flop counter (strings)."""

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return "aten." + name


aten = _Aten()


def get_shape(i):
    """A tensor's shape (a tuple); anything else as it is."""
    if isinstance(i, Tensor):
        return tuple(i.shape)
    return i


def _shapes(x):
    if isinstance(x, Tensor):
        return tuple(x.shape)
    if isinstance(x, (tuple, list)):
        return type(x)(_shapes(v) for v in x) if type(x) in (tuple, list) else x
    if isinstance(x, dict):
        return {k: _shapes(v) for k, v in x.items()}
    return x


def shape_wrapper(f):
    """Wrap a formula written on shapes: tensors among its arguments (and its ``out_val``)
    are passed as their shapes, the output as ``out_shape``."""

    @wraps(f)
    def nf(*args, out_val=None, **kwargs):
        args, kwargs, out_shape = _shapes((args, kwargs, out_val))
        return f(*args, out_shape=out_shape, **kwargs)

    return nf


flop_registry: dict[Any, Any] = {}


def _check_target(target):
    from ..autograd.function import Function

    if not (isinstance(target, str) or (isinstance(target, type)
                                        and issubclass(target, Function))):
        raise ValueError(f"register_flop_formula(targets): expected each target to be an op "
                         f"name (i.e. aten.mm or 'mylib.foo') or an autograd Function "
                         f"class, got {target} which is of type {type(target)}")


def register_flop_formula(targets, get_raw=False) -> Callable[[Callable], Callable]:
    """Decorator: register a FLOP formula for one op or a list of ops.

    Args:
        targets: an op key (``aten.mm``, i.e. the string ``"aten.mm"``; any name) or an ember
            ``Function`` / ``Op`` class, or a list or tuple of them.
        get_raw: pass the formula the call's arguments as they are; by default tensors are
            passed as their shapes and the output's shape as ``out_shape``.

    Returns:
        The decorator; it returns the formula (wrapped unless ``get_raw``).

    Raises:
        ValueError: a target of another type.
        RuntimeError: a target registered already.
    """

    def register_fun(flop_formula):
        if not get_raw:
            flop_formula = shape_wrapper(flop_formula)
        for target in targets if isinstance(targets, (list, tuple)) else (targets,):
            _check_target(target)
            if target in flop_registry:
                raise RuntimeError(f"duplicate registrations for {target}")
            flop_registry[target] = flop_formula
        return flop_formula

    return register_fun


# --- torch's formulas ------------------------------------------------------------------------
@register_flop_formula(aten.mm)
def mm_flop(a_shape, b_shape, *args, out_shape=None, **kwargs) -> int:
    """Count flops for matmul: 2 m n k (a multiply and an add per term)."""
    m, k = a_shape
    k2, n = b_shape
    if k != k2:
        raise AssertionError(f"matmul: inner dimensions must match (k == k2), got {k} and {k2}")
    return m * n * 2 * k


@register_flop_formula(aten.addmm)
def addmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """Count flops for addmm: the product's (the addition is not counted)."""
    return mm_flop(a_shape, b_shape)


@register_flop_formula(aten.bmm)
def bmm_flop(a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """Count flops for the bmm operation: 2 b m n k."""
    b, m, k = a_shape
    b2, k2, n = b_shape
    if b != b2:
        raise AssertionError(f"bmm: batch dimensions must match (b == b2), got {b} and {b2}")
    if k != k2:
        raise AssertionError(f"bmm: inner dimensions must match (k == k2), got {k} and {k2}")
    return b * m * n * 2 * k


@register_flop_formula(aten.baddbmm)
def baddbmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """Count flops for the baddbmm operation: the batched product's."""
    return bmm_flop(a_shape, b_shape)


@register_flop_formula(aten._scaled_mm)
def _scaled_mm_flop(a_shape, b_shape, scale_a_shape, scale_b_shape, bias_shape=None,
                    scale_result_shape=None, out_dtype=None, use_fast_accum=False,
                    out_shape=None, **kwargs) -> int:
    """Count flops for _scaled_mm."""
    return mm_flop(a_shape, b_shape)


def conv_flop_count(x_shape: list[int], w_shape: list[int], out_shape: list[int],
                    transposed: bool = False) -> int:
    """Count flops for convolution: 2 per multiply-add of every output position (every input
    position when ``transposed``) with the filter, times batch, in and out channels; the
    bias is not counted.

    Args:
        x_shape: the input shape before convolution.
        w_shape: the filter shape.
        out_shape: the output shape after convolution.
        transposed: is the convolution transposed.

    Returns:
        The number of flops.
    """
    batch_size = x_shape[0]
    conv_shape = (x_shape if transposed else out_shape)[2:]
    c_out, c_in, *filter_size = w_shape
    return prod(conv_shape) * prod(filter_size) * batch_size * c_out * c_in * 2


@register_flop_formula([aten.convolution, aten._convolution, aten.cudnn_convolution,
                        aten._slow_conv2d_forward, aten.convolution_overrideable])
def conv_flop(x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed, *args,
              out_shape=None, **kwargs) -> int:
    """Count flops for convolution."""
    return conv_flop_count(x_shape, w_shape, out_shape, transposed=transposed)


@register_flop_formula(aten.convolution_backward)
def conv_backward_flop(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation,
                       transposed, _output_padding, _groups, output_mask, out_shape,
                       **kwargs) -> int:
    """Count flops for convolution backward: the input's gradient is a transposed
    convolution of the output's gradient with the weight, the weight's a convolution of the
    input with the output's gradient (batch and channels swapped)."""

    def t(shape):
        return [shape[1], shape[0]] + list(shape[2:])

    flop_count = 0
    if output_mask[0]:
        grad_input_shape = get_shape(out_shape[0])
        flop_count += conv_flop_count(grad_out_shape, w_shape, grad_input_shape,
                                      not transposed)
    if output_mask[1]:
        grad_weight_shape = get_shape(out_shape[1])
        if transposed:
            flop_count += conv_flop_count(t(grad_out_shape), t(x_shape), t(grad_weight_shape),
                                          transposed=False)
        else:
            flop_count += conv_flop_count(t(x_shape), t(grad_out_shape), t(grad_weight_shape),
                                          transposed=False)
    return flop_count


def sdpa_flop_count(query_shape, key_shape, value_shape):
    """Count flops for self-attention: the two batched products (grouped-query attention:
    key and value may have fewer heads than the query)."""
    b, h_q, s_q, d_q = query_shape
    _b2, h_kv, s_k, _d2 = key_shape
    _b3, _h3, _s3, d_v = value_shape
    if not (b == _b2 == _b3 and h_kv == _h3 and d_q == _d2 and s_k == _s3):
        raise AssertionError(f"sdpa_flop_count: query/key/value shapes are incompatible: "
                             f"q={query_shape}, k={key_shape}, v={value_shape}")
    if h_q < h_kv or h_q % h_kv != 0:
        raise AssertionError(f"sdpa_flop_count: query heads ({h_q}) must be a multiple of "
                             f"key/value heads ({h_kv})")
    return (bmm_flop((b * h_q, s_q, d_q), (b * h_q, d_q, s_k))
            + bmm_flop((b * h_q, s_q, s_k), (b * h_q, s_k, d_v)))


def sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape):
    """Count flops for self-attention backward: the scores recomputed, then the gradients
    through both products (five batched products)."""
    b, h_q, s_q, d_q = query_shape
    _b2, h_kv, s_k, _d2 = key_shape
    _b3, _h3, _s3, d_v = value_shape
    _b4, _h4, _s4, _d4 = grad_out_shape
    if not (b == _b2 == _b3 == _b4 and h_kv == _h3 and h_q == _h4):
        raise AssertionError("sdpa_backward_flop_count: batch/heads mismatch among tensors")
    if h_q < h_kv or h_q % h_kv != 0:
        raise AssertionError(f"sdpa_backward_flop_count: query heads ({h_q}) must be a "
                             f"multiple of key/value heads ({h_kv})")
    if not (d_q == _d2 and d_v == _d4 and s_k == _s3 and s_q == _s4):
        raise AssertionError("sdpa_backward_flop_count: grad_out/value/key/query shapes are "
                             "incompatible")
    bh = b * h_q
    return (bmm_flop((bh, s_q, d_q), (bh, d_q, s_k)) + bmm_flop((bh, s_q, d_v), (bh, d_v, s_k))
            + bmm_flop((bh, s_k, s_q), (bh, s_q, d_v)) + bmm_flop((bh, s_q, s_k), (bh, s_k, d_q))
            + bmm_flop((bh, d_q, s_q), (bh, s_q, s_k)))


@register_flop_formula([aten._scaled_dot_product_efficient_attention,
                        aten._scaled_dot_product_flash_attention,
                        aten._scaled_dot_product_cudnn_attention])
def sdpa_flop(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """Count flops for a fused attention kernel (ember runs torch's CPU math path instead:
    it is counted as its two ``bmm``)."""
    return sdpa_flop_count(query_shape, key_shape, value_shape)


@register_flop_formula([aten._scaled_dot_product_efficient_attention_backward,
                        aten._scaled_dot_product_flash_attention_backward,
                        aten._scaled_dot_product_cudnn_attention_backward])
def sdpa_backward_flop(grad_out_shape, query_shape, key_shape, value_shape, *args,
                       out_shape=None, **kwargs) -> int:
    """Count flops for a fused attention kernel's backward."""
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


# --- the table -----------------------------------------------------------------------------
def normalize_tuple(x):
    """``x`` as a tuple (a non-tuple becomes a 1-tuple)."""
    if not isinstance(x, tuple):
        return (x,)
    return x


suffixes = ["", "K", "M", "B", "T"]


def get_suffix_str(number):
    """The suffix a count is shown with: one per three digits, with one digit of overflow
    (1.01B shows as 1001M)."""
    index = max(0, min(len(suffixes) - 1, (len(str(number)) - 2) // 3))
    return suffixes[index]


def convert_num_with_suffix(number, suffix):
    """``number`` in units of ``suffix``, with three decimals: ``1.235K``."""
    index = suffixes.index(suffix)
    return f"{number / 1000 ** index:.3f}" + suffixes[index]


def convert_to_percent_str(num, denom) -> str:
    """``num / denom`` as a percentage with two decimals ("0%" when ``denom`` is 0)."""
    if denom == 0:
        return "0%"
    return f"{num / denom:.2%}"


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _tabulate(rows, headers, colalign):
    """The ``tabulate`` package's "simple" layout (torch prints with it): a column whose
    cells all read as numbers is printed with ``format(float, "g")``, each column as wide as
    its widest cell or its header plus two, columns two spaces apart, lines right-trimmed."""
    cols = [list(c) for c in zip(*rows)] if rows else [[] for _ in headers]
    for i, col in enumerate(cols):
        if col and all(_is_number(c) for c in col):
            cols[i] = [format(float(c), "g") for c in col]
    widths = [max([len(h) + 2] + [len(c) for c in col]) for h, col in zip(headers, cols)]

    def line(cells):
        return "  ".join(c.ljust(w) if a == "left" else c.rjust(w)
                         for c, w, a in zip(cells, widths, colalign)).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in zip(*cols)]
    return "\n".join(out)


def _key_str(key):
    return key.__name__ if isinstance(key, type) else str(key)


class FlopCounterMode:
    """Context manager that counts the FLOPs of the ops run inside it, per module.

    Counts are kept per module name (``"Global"`` for everything, then ``"Net"``,
    ``"Net.fc1"`` ..., as ``ModuleTracker`` names them), then per op (``aten.mm`` ...), for
    the forward and the backward run inside the block. On exit, with ``display``, the table
    is printed.

    Args:
        mods: not needed any more (torch's deprecated argument; a warning if given).
        depth: how deep in the module tree the printed table goes.
        display: print the table on exit.
        custom_mapping: ``{op key: formula}`` added to (or replacing) the registered
            formulas for this counter; a formula with ``_get_raw = True`` receives the
            arguments as they are.

    Example::

        with FlopCounterMode(display=False) as counter:
            model(x).sum().backward()
        counter.get_total_flops()
        counter.get_flop_counts()["Net.fc1"][aten.addmm]

    Differences from torch: op keys are strings (see the module's docstring). Counted are
    the ops ember translates (``matmul``/``mm``/``bmm``, ``F.linear``, ``addmm``,
    ``baddbmm``/``addbmm``, convolutions, attention, ``einsum``, RNN/LSTM/GRU layers) and
    ops with a formula registered under their class or, for built-in ops called through
    ``Op.apply``, their aten name (``"aten.relu"``); a formula registered for a composite
    (``"aten.linear"``) does not replace its translation. Where ember computes differently,
    its count follows: ``F.bilinear`` is a ``matmul`` (torch's ``_trilinear`` is not
    counted); with ``create_graph=True`` the backward computes (and counts) the gradients of
    every input that requires one; a projected LSTM's hidden products are ``aten.mm`` where
    torch's are ``aten.addmm``; a packed sequence's padded steps are counted. The counter is
    not reentrant, as torch's.
    """

    def __init__(self, mods=None, depth: int = 2, display: bool = True,
                 custom_mapping: dict[Any, Any] | None = None) -> None:
        self.flop_counts: dict[str, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
        self.depth = depth
        self.display = display
        self.mode = None
        if custom_mapping is None:
            custom_mapping = {}
        if mods is not None:
            warnings.warn("mods argument is not needed anymore, you can stop passing it",
                          stacklevel=2)
        self.flop_registry = {
            **flop_registry,
            **{k: v if getattr(v, "_get_raw", False) else shape_wrapper(v)
               for k, v in custom_mapping.items()},
        }
        self.mod_tracker = ModuleTracker()

    def get_total_flops(self) -> int:
        """All the FLOPs counted (the ``"Global"`` entry)."""
        return sum(self.flop_counts["Global"].values())

    def get_flop_counts(self) -> dict[str, dict[Any, int]]:
        """The counts as ``{module name: {op key: flops}}``."""
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def get_table(self, depth=None) -> str:
        """The counts as torch's table: one row per module (indented by depth) and per op,
        with FLOPs and percentage of the total; ``Global`` only when no module holds it
        all."""
        if depth is None:
            depth = self.depth
        if depth is None:
            depth = 999999
        header = ["Module", "FLOP", "% Total"]
        values = []
        global_flops = self.get_total_flops()
        global_suffix = get_suffix_str(global_flops)
        is_global_subsumed = False

        def process_mod(mod_name, depth):
            nonlocal is_global_subsumed
            total_flops = sum(self.flop_counts[mod_name].values())
            is_global_subsumed |= total_flops >= global_flops
            padding = " " * depth
            rows = [[padding + mod_name, convert_num_with_suffix(total_flops, global_suffix),
                     convert_to_percent_str(total_flops, global_flops)]]
            for k, v in self.flop_counts[mod_name].items():
                rows.append([padding + " - " + _key_str(k),
                             convert_num_with_suffix(v, global_suffix),
                             convert_to_percent_str(v, global_flops)])
            return rows

        for mod in sorted(self.flop_counts.keys()):
            if mod == "Global":
                continue
            mod_depth = mod.count(".") + 1
            if mod_depth > depth:
                continue
            values.extend(process_mod(mod, mod_depth - 1))
        if "Global" in self.flop_counts and not is_global_subsumed:
            for value in values:
                value[0] = " " + value[0]
            values = process_mod("Global", 0) + values
        if len(values) == 0:
            values = [["Global", "0", "0%"]]
        return _tabulate(values, header, ("left", "right", "right"))

    def __enter__(self):
        self.flop_counts.clear()
        self.mod_tracker.__enter__()
        _flop_ops.activate(self)
        self.mode = _flop_ops
        return self

    def __exit__(self, *args):
        if self.mode is None:
            raise AssertionError("Internal error: FlopCounter.__exit__ called but mode is None")
        self.mode = None
        try:
            _flop_ops.deactivate(self)
        finally:
            self.mod_tracker.__exit__()
        if self.display:
            print(self.get_table(self.depth))
        return False

    def _count_flops(self, func_packet, out, args, kwargs):
        if func_packet in self.flop_registry:
            flop_count_func = self.flop_registry[func_packet]
            flop_count = flop_count_func(*args, **kwargs, out_val=out)
            for par in set(self.mod_tracker.parents):
                self.flop_counts[par][func_packet] += flop_count
        return out
