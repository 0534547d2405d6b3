"""torch's top-level constants and small aliases: ``torch.pi``/``e``/``inf``/``nan``/``newaxis``,
``torch.GradScaler``, ``torch.set_anomaly_enabled`` and nn.init's deprecated spellings."""
import math
import warnings

import pytest

import ember


def test_numeric_constants_match_torch(torch):
    assert ember.pi == torch.pi and ember.e == torch.e and ember.inf == torch.inf
    assert math.isnan(ember.nan) and math.isnan(torch.nan)
    assert ember.newaxis is torch.newaxis is None
    x = ember.arange(6.0).reshape(2, 3)
    assert x[:, ember.newaxis].shape == torch.arange(6.0).reshape(2, 3)[:, torch.newaxis].shape


def test_grad_scaler_at_top_level(torch):
    assert ember.GradScaler is ember.amp.GradScaler
    assert torch.GradScaler is torch.amp.GradScaler


@pytest.mark.parametrize("enabled, check_nan", [(True, True), (True, False), (False, True)])
def test_set_anomaly_enabled(torch, enabled, check_nan):
    try:
        for lib in (torch, ember):
            lib.set_anomaly_enabled(enabled, check_nan=check_nan)
        assert ember.is_anomaly_enabled() == torch.is_anomaly_enabled() == enabled
        assert ember.is_anomaly_check_nan_enabled() == torch.is_anomaly_check_nan_enabled()
    finally:
        for lib in (torch, ember):
            lib.set_anomaly_enabled(False)


@pytest.mark.parametrize("name, args", [("dirac", ((4, 2, 3),)), ("eye", ((3, 5),)),
                                        ("sparse", ((6, 4), 0.5)), ("uniform", ((2, 3),))])
def test_deprecated_init_spellings_warn_like_torch(torch, name, args):
    messages = []
    for lib in (torch, ember):
        tensor = lib.empty(args[0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = getattr(lib.nn.init, name)(tensor, *args[1:])
        assert out is tensor
        messages.append([(w.category, str(w.message)) for w in caught])
    assert messages[0] == messages[1] and messages[0][0][0] is FutureWarning
