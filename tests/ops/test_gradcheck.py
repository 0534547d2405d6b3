"""Every row of the op table: backward against float64 central differences."""
from __future__ import annotations

import numpy as np
import pytest

from ember.autograd import gradcheck
from tests.helpers import make_inputs
from tests.ops.op_table import OPS


@pytest.mark.parametrize("case", OPS, ids=lambda c: c.name)
def test_backward_matches_finite_differences(case):
    inputs = make_inputs(case, dtype=np.float64, seed=0)
    assert gradcheck(case.fn, inputs)
