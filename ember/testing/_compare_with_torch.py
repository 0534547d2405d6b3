"""Check ember against PyTorch yourself: ``compare_with_torch(fn, *inputs)``.

``fn`` takes the library as its first argument, so the same code runs on both::

    def f(torch, x, w):
        return torch.tanh(x @ w).sum(dim=1)

    report = ember.testing.compare_with_torch(f, np.random.randn(4, 3), np.random.randn(3, 2))
    print(report)   # values, dtypes, gradients and errors, side by side

Torch is never imported by ember itself; without it the report says so and only the ember
run happens.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

# torch.testing.assert_close's defaults, by dtype: (rtol, atol)
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


@dataclass
class Comparison:
    """The report of ``compare_with_torch``: true when ember and torch agree.

    Attributes:
        differences: one line per disagreement (values, dtypes, shapes, gradients, errors).
        checked: one line per thing that agreed.
        notes: remarks that are not differences (e.g. error messages worded differently).
        skipped: why torch was not run (``None`` when it was).
        ember_result, torch_result: what ``fn`` returned (or the exception it raised).
    """

    differences: list = field(default_factory=list)
    checked: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    skipped: str | None = None
    ember_result: object = None
    torch_result: object = None

    @property
    def ok(self) -> bool:
        """True when nothing differs (also when torch is not installed: see ``skipped``)."""
        return not self.differences

    def __bool__(self):
        return self.ok

    def report(self) -> str:
        """The report as text."""
        if self.skipped:
            head = f"compare_with_torch: torch not run ({self.skipped}); ember ran"
            if isinstance(self.ember_result, BaseException):
                head += f" and raised {type(self.ember_result).__name__}"
            return head
        n = len(self.differences)
        lines = ["compare_with_torch: " + ("ember and torch agree" if not n else
                                           f"{n} difference{'s' if n > 1 else ''}")]
        lines += [f"  same  {c}" for c in self.checked]
        lines += [f"  DIFF  {d}" for d in self.differences]
        lines += [f"  note  {x}" for x in self.notes]
        return "\n".join(lines)

    __str__ = report

    def __repr__(self):
        return self.report()


def _tolerance(dtype_name, rtol, atol):
    r, a = _TOLERANCES.get(dtype_name, (0.0, 0.0))
    return (r if rtol is None else rtol), (a if atol is None else atol)


def _convert_inputs(lib, inputs, requires_grad):
    out = []
    for x in inputs:
        arr = None
        rg = False
        if isinstance(x, np.ndarray):
            arr = x
            rg = requires_grad and x.dtype.kind == "f"
        elif _is_ember_tensor(x):
            arr = x.detach().numpy()
            rg = x.requires_grad
        elif _is_torch_tensor(x):
            arr = x.detach().cpu().numpy()
            rg = x.requires_grad
        if arr is None:
            out.append(x)
            continue
        t = lib.tensor(np.array(arr, copy=True))
        if rg:
            t.requires_grad_(True)
        out.append(t)
    return out


def _is_ember_tensor(x):
    import ember

    return isinstance(x, ember.Tensor)


def _is_torch_tensor(x):
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _flatten(value, path="output"):
    """``[(path, leaf)]`` of a nested output (tuples, lists, dicts)."""
    if isinstance(value, (list, tuple)) and not _is_size(value):
        items = []
        for i, v in enumerate(value):
            items += _flatten(v, f"{path}[{i}]")
        return items or [(path, value)]
    if isinstance(value, dict):
        items = []
        for k in sorted(value, key=str):
            items += _flatten(value[k], f"{path}[{k!r}]")
        return items
    return [(path, value)]


def _is_size(v):
    return type(v).__name__ == "Size"


def _tensor_info(t):
    """(numpy array, dtype name) of an ember or torch tensor, else None."""
    if _is_ember_tensor(t) or _is_torch_tensor(t):
        arr = t.detach().cpu().numpy() if _is_torch_tensor(t) else t.detach().numpy()
        return np.asarray(arr), str(t.dtype).split(".")[-1]
    return None


def _compare_values(path, e, t, rtol, atol, rep):
    ei, ti = _tensor_info(e), _tensor_info(t)
    if (ei is None) != (ti is None):
        rep.differences.append(f"{path}: ember gives {type(e).__name__}, torch gives "
                               f"{type(t).__name__}")
        return
    if ei is None:
        if _is_size(e) or _is_size(t):
            e, t = tuple(e), tuple(t)
        if isinstance(e, bool) or isinstance(t, bool) or not (
                isinstance(e, numbers.Number) and isinstance(t, numbers.Number)):
            if e != t or type(e) is not type(t):
                rep.differences.append(f"{path}: ember {e!r} ({type(e).__name__}), torch {t!r} "
                                       f"({type(t).__name__})")
            else:
                rep.checked.append(f"{path}: {e!r}")
            return
        # Python floats mostly come from float32 tensors (.item()): float32's tolerances
        r, a = _tolerance("float32" if isinstance(e, float) else "", rtol, atol)
        if type(e) is not type(t):
            rep.differences.append(f"{path}: ember gives a {type(e).__name__}, torch a "
                                   f"{type(t).__name__}")
        elif not np.isclose(e, t, rtol=r, atol=a):
            rep.differences.append(f"{path}: ember {e!r}, torch {t!r}")
        else:
            rep.checked.append(f"{path}: {e!r}")
        return
    (ea, edt), (ta, tdt) = ei, ti
    ok = True
    if edt != tdt:
        rep.differences.append(f"{path}: dtype {edt} in ember, {tdt} in torch")
        ok = False
    if ea.shape != ta.shape:
        rep.differences.append(f"{path}: shape {list(ea.shape)} in ember, {list(ta.shape)} in "
                               "torch")
        return
    r, a = _tolerance(tdt, rtol, atol)
    # complex values compare as complex (|difference|), never through their real parts
    wide = np.complex128 if "c" in (ea.dtype.kind, ta.dtype.kind) else np.float64
    if ea.dtype.kind in "fc" or ta.dtype.kind in "fc":
        close = np.isclose(ea.astype(wide), ta.astype(wide), rtol=r, atol=a, equal_nan=True)
    else:
        close = ea == ta
    if not np.all(close):
        bad = np.argwhere(~np.asarray(close))
        idx = tuple(int(v) for v in bad[0]) if bad.size else ()
        diff = np.abs(ea.astype(wide) - ta.astype(wide))
        rep.differences.append(
            f"{path}: values differ at {int((~np.asarray(close)).sum())} of {ea.size} elements "
            f"(max abs diff {float(np.nanmax(diff)):.3g}); first at {list(idx)}: ember "
            f"{ea[idx]!r}, torch {ta[idx]!r} (rtol={r}, atol={a})")
        ok = False
    if ok:
        rep.checked.append(f"{path}: {tdt} {list(ta.shape)}")


def _first_line(e):
    s = str(e)
    return s.splitlines()[0] if s else ""


def _backward(lib, outputs, seed):
    """Backward of sum(out * w) over the float outputs that require grad (w seeded)."""
    rng = np.random.default_rng(seed)
    total = None
    for _, o in outputs:
        info = _tensor_info(o)
        if info is None or info[0].dtype.kind != "f" or not o.requires_grad:
            continue
        w = lib.tensor(rng.standard_normal(info[0].shape).astype(info[0].dtype))
        term = (o * w).sum()
        total = term if total is None else total + term
    if total is not None:
        total.backward()
    return total is not None


def compare_with_torch(fn, *inputs, rtol: float | None = None, atol: float | None = None,
                       grad: bool = True, seed: int = 0) -> Comparison:
    """Run ``fn(ember, *inputs)`` and ``fn(torch, *inputs)`` and report every difference.

    NumPy arrays (and ember or torch tensors) among ``inputs`` become a tensor of the same
    dtype in each library; floating-point arrays require grad (tensors keep their
    ``requires_grad``); other values are passed as they are.

    Compared: each output's values (with ``torch.testing``'s tolerances for its dtype
    unless ``rtol``/``atol`` are given), dtype and shape; Python numbers and other values;
    with ``grad``, the ``.grad`` of every input that requires grad after backward of
    ``sum(output * w)`` for fixed random ``w``; and errors: whether both raise, the
    exception types, and their first lines.

    Args:
        fn: ``fn(lib, *inputs)``, where ``lib`` is ``ember`` or ``torch``.
        *inputs: arguments (see above).
        rtol, atol: tolerances for every comparison (default: by dtype, as torch).
        grad: also compare gradients.
        seed: seeds the random output weights of the gradient check.

    Returns:
        A ``Comparison`` (true when they agree); printing it shows the report.
    """
    import ember

    rep = Comparison()
    try:
        import torch
    except ImportError:
        torch = None
    e_inputs = _convert_inputs(ember, inputs, grad)
    try:
        e_out = fn(ember, *e_inputs)
    except Exception as exc:  # noqa: BLE001 - compared with torch's behaviour below
        e_out = exc
    rep.ember_result = e_out
    if torch is None:
        rep.skipped = "torch is not installed"
        return rep
    t_inputs = _convert_inputs(torch, inputs, grad)
    try:
        t_out = fn(torch, *t_inputs)
    except Exception as exc:  # noqa: BLE001 - compared with ember's behaviour
        t_out = exc
    rep.torch_result = t_out
    e_err, t_err = isinstance(e_out, Exception), isinstance(t_out, Exception)
    if e_err or t_err:
        if e_err and t_err:
            if type(e_out).__name__ != type(t_out).__name__:
                rep.differences.append(f"error: ember raises {type(e_out).__name__}, torch "
                                       f"raises {type(t_out).__name__}: {_first_line(t_out)}")
            else:
                rep.checked.append(f"error: both raise {type(t_out).__name__}")
                if _first_line(e_out) != _first_line(t_out):
                    rep.notes.append(f"error messages differ: ember {_first_line(e_out)!r}; "
                                     f"torch {_first_line(t_out)!r}")
        elif e_err:
            rep.differences.append(f"error: ember raises {type(e_out).__name__}: "
                                   f"{_first_line(e_out)}; torch returns a result")
        else:
            rep.differences.append(f"error: torch raises {type(t_out).__name__}: "
                                   f"{_first_line(t_out)}; ember returns a result")
        return rep
    e_flat, t_flat = _flatten(e_out), _flatten(t_out)
    if [p for p, _ in e_flat] != [p for p, _ in t_flat]:
        rep.differences.append(f"output structure: ember gives {[p for p, _ in e_flat]}, torch "
                               f"gives {[p for p, _ in t_flat]}")
        return rep
    for (path, e), (_, t) in zip(e_flat, t_flat):
        _compare_values(path, e, t, rtol, atol, rep)
    if not grad:
        return rep
    try:
        e_ran = _backward(ember, e_flat, seed)
    except Exception as exc:  # noqa: BLE001
        e_ran = exc
    try:
        t_ran = _backward(torch, t_flat, seed)
    except Exception as exc:  # noqa: BLE001
        t_ran = exc
    if isinstance(e_ran, Exception) or isinstance(t_ran, Exception):
        if type(e_ran).__name__ != type(t_ran).__name__:
            rep.differences.append(
                f"backward: ember {_outcome(e_ran)}, torch {_outcome(t_ran)}")
        return rep
    if e_ran != t_ran:
        rep.differences.append(f"backward: an output requires grad in "
                               f"{'ember' if e_ran else 'torch'} only")
        return rep
    for i, (e, t) in enumerate(zip(e_inputs, t_inputs)):
        if _tensor_info(e) is None or not getattr(e, "requires_grad", False):
            continue
        eg, tg = e.grad, t.grad
        if (eg is None) != (tg is None):
            rep.differences.append(f"inputs[{i}].grad: {'None' if eg is None else 'a tensor'} "
                                   f"in ember, {'None' if tg is None else 'a tensor'} in torch")
        elif eg is not None:
            _compare_values(f"inputs[{i}].grad", eg, tg, rtol, atol, rep)
    return rep


def _outcome(r):
    if isinstance(r, Exception):
        return f"raises {type(r).__name__}: {_first_line(r)}"
    return "runs"
