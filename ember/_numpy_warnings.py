"""NumPy's floating-point warnings, kept out of ember's ops.

NumPy warns when a ufunc overflows, divides by zero or makes a NaN (``np.exp(100.)`` in
float32 says "overflow encountered in exp"); torch returns the same inf or nan without a word.
A warnings filter drops those warnings when they come from ember's own modules, so ember is as
quiet as torch while NumPy code of the user's own keeps NumPy's behaviour. A filter costs
nothing when no warning is raised, unlike ``np.errstate`` around every op.
"""
from __future__ import annotations

import warnings

FLOAT_WARNING_MESSAGE = r"(overflow|invalid value|divide by zero|underflow) encountered"
EMBER_MODULES = r"ember(\.|$)"


def silence_float_warnings_from_ember() -> None:
    """Add the filter (once; repeated calls leave a single entry)."""
    warnings.filterwarnings("ignore", FLOAT_WARNING_MESSAGE, RuntimeWarning, EMBER_MODULES)
