"""``torch.autograd.profiler``: the lower-level profiler API, over ``ember.profiler``.

``profile`` records one window (``ember.profiler.profile`` drives one per recording cycle);
``record_function`` labels a block. ``emit_nvtx`` and ``emit_itt`` (annotations for NVIDIA's
and Intel's tools) are not provided: ember runs no device code for them to annotate.
"""
from __future__ import annotations

from ..profiler import ProfilerActivity  # noqa: F401
from ..profiler._autograd import profile  # noqa: F401
from ..profiler._events import (  # noqa: F401
    DeviceType,
    EventList,
    FunctionEvent,
    FunctionEventAvg,
)
from ..profiler._record import record_function  # noqa: F401
