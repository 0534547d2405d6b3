"""Forward-mode AD of the triangular solves, householder_product and the LU ops against
torch.autograd.forward_ad (the cases of tests/autograd/test_forward_ad_linalg.py), and
zeta's error, which torch raises too."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as efw
from tests.autograd.test_forward_ad_linalg import CASES, arrays_of, forward_tangents
from tests.helpers import assert_close


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_tangents_match_torch(case, torch):
    import torch.autograd.forward_ad as tfw

    xs, ts = arrays_of(case, seed=1)
    eps, ets = forward_tangents(ember, efw, case, xs, ts)
    tps, tts = forward_tangents(torch, tfw, case, xs, ts)
    for ep, tp in zip(eps, tps):
        assert_close(ep, tp, msg=case.name)
    for et, tt in zip(ets, tts):
        assert (et is None) == (tt is None), case.name
        assert str(et.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1]
        assert_close(et, tt, rtol=1e-9, atol=1e-11, msg=case.name)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 3)])
def test_lu_outputs_tangents_match_torch(shape, torch):
    import torch.autograd.forward_ad as tfw

    rng = np.random.default_rng(2)
    a, t = rng.uniform(-2, 2, shape), rng.standard_normal(shape)
    results = []
    for L, fw in ((ember, efw), (torch, tfw)):
        with fw.dual_level():
            outs = L.linalg.lu(fw.make_dual(L.tensor(a), L.tensor(t)))
            results.append([fw.unpack_dual(o).tangent for o in outs])
    (ep, el, eu), (tp, tl, tu) = results
    assert ep is None and tp is None
    assert_close(el, tl, rtol=1e-9, atol=1e-11)
    assert_close(eu, tu, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("dual", [(0,), (1,), (0, 1)])
def test_zeta_forward_ad_error_matches_torch(dual, torch):
    import torch.autograd.forward_ad as tfw

    messages = []
    for L, fw in ((ember, efw), (torch, tfw)):
        x, q = L.tensor([2.5, 3.0]).double(), L.tensor([1.5, 2.0]).double()
        with fw.dual_level():
            args = [fw.make_dual(v, L.ones(2).double()) if i in dual else v
                    for i, v in enumerate((x, q))]
            with pytest.raises(NotImplementedError) as info:
                L.special.zeta(*args)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
