"""NumPy's floating-point warnings stay out of ember's ops (torch is silent there), while the
user's own NumPy code keeps them.

The checks run in a fresh interpreter: pytest imports ember inside its own
``warnings.catch_warnings``, which drops the filters a module adds at import.
"""
import subprocess
import sys
import textwrap

OPS = """
import numpy as np
import ember
import ember.nn.functional as F

x = ember.tensor([100.0, -100.0, 0.0, 1e30])
assert ember.isinf(ember.exp(x)).any()
ember.pow(x, 2)
x * 1e30
assert ember.isnan(x / 0).any()
ember.log(x)
x.to(ember.float16)
ember.tensor([float("nan")]).long()
F.gelu(x)
leaf = x.clone().requires_grad_()
ember.sqrt(leaf).sum().backward()
assert ember.isinf(leaf.grad).any()
"""


def _stderr_of(code):
    run = subprocess.run([sys.executable, "-W", "default", "-c", textwrap.dedent(code)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stderr


def test_overflow_zero_division_and_invalid_casts_in_ember_are_silent():
    assert "RuntimeWarning" not in _stderr_of(OPS)


def test_the_users_numpy_still_warns():
    err = _stderr_of(OPS + "np.exp(np.float32(100.0))\n")
    assert err.count("RuntimeWarning") == 1 and "overflow encountered in exp" in err


def test_the_filter_is_added_once():
    _stderr_of("""
        import warnings
        import ember
        from ember._numpy_warnings import silence_float_warnings_from_ember
        before = list(warnings.filters)
        silence_float_warnings_from_ember()
        assert warnings.filters == before
    """)
