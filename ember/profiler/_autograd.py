"""``ember.autograd.profiler.profile``: torch's lower-level profiler, which records one window.

``ember.profiler.profile`` drives one of these per recording cycle, as torch's drives its
``torch.autograd.profiler.profile``.
"""
from __future__ import annotations

import time
import warnings
from time import perf_counter_ns

from . import _record
from ._events import EventList

_DEVICES = ("cuda", "xpu", "mtia", "hpu")


class profile:  # noqa: N801  (torch's name)
    """Context manager that records ember's ops, backward nodes and ``record_function``
    ranges while it is active, and summarises them (torch's
    ``torch.autograd.profiler.profile``).

    Args:
        enabled: False makes the context manager do nothing (and ``__enter__`` return None).
        use_cuda: deprecated in torch; ember has no CUDA, so it warns as torch does on a
            machine without CUDA and records the CPU only.
        use_device: ``"cuda"`` (and the like): warned about and ignored, as above.
        record_shapes: record each op's input shapes (``FunctionEvent.input_shapes``).
        profile_memory: record the bytes each op's outputs allocate (views count 0); ember
            counts allocations only, so unlike torch's no event shows frees.
        with_stack: record the Python stack (outside ember) of each forward op; backward
            nodes get the stack of the op that recorded them.
        with_flops: not supported (raises ``NotImplementedError``).
        with_modules: accepted; as in torch's eager mode it records nothing more.
        use_kineto, use_cpu, acc_events, post_processing_timeout_s, activity_filters: as
            torch's (``acc_events`` keeps the events of earlier windows).

    Example::

        with ember.autograd.profiler.profile() as prof:
            loss = model(x).sum()
            loss.backward()
        print(prof.key_averages().table(sort_by="self_cpu_time_total"))
    """

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None, post_processing_timeout_s=None,
                 activity_filters=None):
        self.enabled = enabled
        if not enabled:
            return
        for name, value in (("with_flops", with_flops),
                            ("experimental_config", experimental_config),
                            ("custom_trace_id_callback", custom_trace_id_callback)):
            if value:
                raise NotImplementedError(f"ember's profiler does not support {name}")
        self.use_cuda = use_cuda
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            use_device = "cuda"
        if use_device is not None:
            if use_device not in _DEVICES:
                warnings.warn(f"The {use_device} is not a valid device option.", stacklevel=2)
            else:  # ember has no device: torch's words for a machine without one
                up = use_device.upper()
                warnings.warn(f"{up} is not available, disabling {up} profiling", stacklevel=2)
            self.use_cuda = False
        self.use_device = None
        self.record_shapes = record_shapes
        self.with_flops = False
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.use_cpu = use_cpu
        self.acc_events = acc_events
        self.post_processing_timeout_s = post_processing_timeout_s
        self.entered = False
        self._function_events = None
        self._old_function_events = None
        self._needs_processing = False
        self._records = []
        self._recording = False
        self._t0 = None
        self._wall0 = time.time_ns()
        self.profiling_start_time_ns = 0
        self.profiling_end_time_ns = 0

    def __enter__(self):
        if not self.enabled:
            return None
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self._prepare_trace()
        self._start_trace()
        return self

    def _prepare_trace(self):
        self.entered = True

    def _start_trace(self):
        self.entered = True
        if self._recording:
            return
        if not self.use_cpu:
            raise AssertionError("No activities specified for the profiler")
        _record.activate(self, self.record_shapes, self.profile_memory, self.with_stack)
        self._recording = True
        self.profiling_start_time_ns = perf_counter_ns()
        if self._t0 is None:  # the events' zero (kept across windows with acc_events)
            self._t0 = self.profiling_start_time_ns
            self._wall0 = time.time_ns()

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled:
            return None
        if self._function_events and self.acc_events:
            self._old_function_events = self._function_events
        self._function_events = None
        self._needs_processing = True
        self.profiling_end_time_ns = perf_counter_ns()
        if self._recording:
            self._recording = False
            self._records = _record.deactivate(self)
        if self.acc_events:
            self._ensure_function_events()
        return False

    def __repr__(self):
        if self._needs_processing:
            self._ensure_function_events()
        if self._function_events is None:
            return "<unfinished torch.autograd.profile>"
        return repr(self._function_events)

    def __str__(self):
        if self._needs_processing:
            self._ensure_function_events()
        if self._function_events is None:
            return "<unfinished torch.autograd.profile>"
        return str(self._function_events)

    def _ensure_function_events(self):
        """Turn the records into ``FunctionEvent``s (once, on first use)."""
        if self._function_events is not None:
            return
        from ._events import events_from_records

        self._needs_processing = False
        self._function_events = events_from_records(
            self._records, self._t0 or 0, self.profile_memory, self.use_device)
        if self._old_function_events and self.acc_events:
            self._function_events.extend(self._old_function_events)
            self._old_function_events = None

    @property
    def function_events(self) -> EventList:
        """Every recorded event (``FunctionEvent``), in start order."""
        if self._function_events is None or self._needs_processing:
            self._ensure_function_events()
        return self._function_events

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        """The events as torch's table (see ``EventList.table``)."""
        self._ensure_function_events()
        return self._function_events.table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only)

    def export_chrome_trace(self, path, metadata=None, use_python_export=False):
        """Write a Chrome trace JSON file (Kineto's format), atomically; ``.gz`` compresses."""
        from ._chrome import write_chrome_trace

        self._ensure_function_events()
        write_chrome_trace(path, self._function_events, self._wall0, metadata,
                           self.profile_memory)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total"):
        """Write flame-graph stacks (needs ``with_stack=True``; see ``EventList.export_stacks``)."""
        self._ensure_function_events()
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        return self._function_events.export_stacks(path, metric)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """Sums per event name (and input shapes, stack): ``EventList.key_averages``."""
        self._ensure_function_events()
        return self._function_events.key_averages(group_by_input_shape, group_by_stack_n,
                                                  group_by_overload_name)

    def total_average(self):
        """One ``FunctionEventAvg`` summing every event (``EventList.total_average``)."""
        self._ensure_function_events()
        return self._function_events.total_average()

    @property
    def self_cpu_time_total(self):
        """The total of the events' self CPU times, in microseconds."""
        self._ensure_function_events()
        return self._function_events.self_cpu_time_total
