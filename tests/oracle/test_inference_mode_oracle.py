"""``inference_mode`` as torch: its own flag (``is_inference_mode_enabled`` is False in a
plain ``no_grad``), inference tensors (``is_inference``, views inherit it from their base),
and torch's errors for saving one for backward or changing one in place outside the mode."""
import pytest

import ember


def _flags(lib):
    out = []
    with lib.no_grad():
        out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        with lib.inference_mode(False):
            out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
    with lib.inference_mode():
        out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        with lib.inference_mode(False):
            out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
            out.append(lib.ones(2).is_inference())
        out.append(lib.is_inference_mode_enabled())
    out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
    return out


def test_mode_flags_match_torch(torch):
    assert _flags(ember) == _flags(torch)


def _marks(lib):
    x = lib.ones(4)
    with lib.inference_mode():
        made = lib.ones(3)
        computed = x * 2
        view_of_normal = x[1:]
        reshaped = x.reshape(2, 2)
        made.add_(1)
        made[0] = 7.0
    return [made.is_inference(), computed.is_inference(), view_of_normal.is_inference(),
            reshaped.is_inference(), made[1:].is_inference(), made.detach().is_inference(),
            made.clone().is_inference(), (made + 1).is_inference(), lib.is_inference(made),
            made.tolist()]


def test_which_tensors_are_inference_tensors_matches_torch(torch):
    assert _marks(ember) == _marks(torch)


def _decorated(lib):
    @lib.inference_mode()
    def called():
        return lib.ones(1).is_inference()

    @lib.inference_mode
    def bare():
        return lib.ones(1).is_inference()

    return called(), bare(), lib.is_inference_mode_enabled()


def test_decorator_forms_match_torch(torch):
    assert _decorated(ember) == _decorated(torch) == (True, True, False)


@pytest.mark.parametrize("use", [
    lambda lib, t: t.requires_grad_(),
    lambda lib, t: (lib.ones(3, requires_grad=True) * t).sum().backward(),
    lambda lib, t: t.add_(1), lambda lib, t: t.mul_(2.0), lambda lib, t: t.exp_(),
    lambda lib, t: t.__setitem__(0, 5.0), lambda lib, t: t[1:].add_(1),
    lambda lib, t: (lib.ones(3, requires_grad=True) + t).sum().backward(),
], ids=["requires_grad_", "saved by mul", "add_", "mul_", "exp_", "setitem", "view add_",
        "add saves nothing"])
def test_using_an_inference_tensor_outside_the_mode_matches_torch(torch, use):
    outcomes = []
    for lib in (torch, ember):
        with lib.inference_mode():
            t = lib.ones(3)
        try:
            use(lib, t)
            outcomes.append("ok")
        except RuntimeError as e:
            outcomes.append(str(e).replace("torch", "LIB").replace("ember", "LIB"))
    assert outcomes[1] == outcomes[0]


def _grad_mode_inside(lib):
    """Grad mode switched on inside inference_mode: reported, but nothing records."""
    w = lib.ones(2, requires_grad=True)
    out = []
    with lib.inference_mode():
        for switch in (lib.enable_grad, lambda: lib.set_grad_enabled(True)):
            with switch():
                y = w * 2
                fresh = lib.ones(2, requires_grad=True)
                z = fresh * 3
                out.append((lib.is_grad_enabled(), y.requires_grad, y.grad_fn is None,
                            y.is_inference(), fresh.requires_grad, z.requires_grad))
            out.append(lib.is_grad_enabled())
        with lib.no_grad(), lib.enable_grad():
            out.append(((w * 2).requires_grad, lib.is_grad_enabled()))
        with lib.inference_mode(False):
            v = w * 2
            out.append((v.requires_grad, v.grad_fn is None, v.is_inference()))
    out.append((lib.is_grad_enabled(), (w * 2).requires_grad))
    return out


def test_enable_grad_inside_inference_mode_records_nothing_as_torch(torch):
    assert _grad_mode_inside(ember) == _grad_mode_inside(torch)


def test_enable_grad_inside_inference_mode_reports_grad_mode_but_records_nothing():
    w = ember.ones(2, requires_grad=True)
    with ember.inference_mode(), ember.enable_grad():
        assert ember.is_grad_enabled()
        y = (w * 2).sum()
    assert y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
