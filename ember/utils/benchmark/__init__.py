"""Benchmarking, as ``torch.utils.benchmark``: ``Timer`` measures a statement and returns a
``Measurement`` (replicates, median, IQR, torch's repr); ``Compare`` lays many out as
tables. Python statements only: no C++ timing, no Callgrind (``Timer.collect_callgrind``
raises ``NotImplementedError``), no fuzzers.

Example::

    from ember.utils import benchmark
    x = ember.randn(256, 256)
    m = benchmark.Timer("x @ x", globals={"x": x}, label="mm").blocked_autorange()
    benchmark.Compare([m]).print()
"""
from . import common
from .common import Measurement, TaskSpec, set_torch_threads
from .compare import Colorize, Compare
from .timer import Language, Timer, timer

select_unit, unit_to_english = common.select_unit, common.unit_to_english
trim_sigfig, ordered_unique = common.trim_sigfig, common.ordered_unique

__all__ = ["TaskSpec", "Measurement", "select_unit", "unit_to_english", "trim_sigfig",
           "ordered_unique", "set_torch_threads", "Timer", "timer", "Language", "Colorize",
           "Compare"]
