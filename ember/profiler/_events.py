"""Events, their averages and lists of them: torch's ``torch.autograd.profiler_util``, CPU only.

A ``FunctionEvent`` is one recorded interval (an op, a backward node, a ``record_function``
range). ``EventList`` finds each event's parent from the intervals on its thread (the
innermost interval that contains it), which gives self time (total minus the children's
totals) and self memory the same way. ``key_averages`` sums the events that share a key.
"""
from __future__ import annotations

import enum
import itertools
from collections import defaultdict
from operator import attrgetter

from .._io import atomic_write


class DeviceType(enum.IntEnum):
    """Where an event ran (torch's ``torch.autograd.DeviceType``); ember's are all CPU."""

    CPU = 0
    CUDA = 1


class Interval:
    """An event's start and end, in microseconds from the profiler's start."""

    def __init__(self, start, end):
        self.start = start
        self.end = end

    def elapsed_us(self):
        """The interval's length in microseconds."""
        return self.end - self.start


def _format_time(time_us):
    """``1.234s``, ``1.234ms`` or ``1.234us``, as torch's tables print times."""
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us, total_time_us):
    if total_time_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_time_us:.2f}%"


def _format_memory(nbytes):
    """``1.50 KB``-style byte counts, as torch's tables print memory."""
    kb, mb, gb = 1024, 1024 ** 2, 1024 ** 3
    if abs(nbytes) >= gb:
        return f"{nbytes * 1.0 / gb:.2f} GB"
    if abs(nbytes) >= mb:
        return f"{nbytes * 1.0 / mb:.2f} MB"
    if abs(nbytes) >= kb:
        return f"{nbytes * 1.0 / kb:.2f} KB"
    return str(nbytes) + " B"


def _time_str(name):
    return property(lambda self: _format_time(getattr(self, name)),
                    doc=f"``{name}`` formatted as torch prints it.")


class _FormattedTimes:
    """``cpu_time`` (the mean per call) and the ``*_str`` spellings of the times."""

    cpu_time_str = _time_str("cpu_time")
    device_time_str = _time_str("device_time")
    cpu_time_total_str = _time_str("cpu_time_total")
    device_time_total_str = _time_str("device_time_total")
    self_cpu_time_total_str = _time_str("self_cpu_time_total")
    self_device_time_total_str = _time_str("self_device_time_total")

    @property
    def cpu_time(self):
        """Mean CPU time per call, in microseconds."""
        return 0.0 if self.count == 0 else 1.0 * self.cpu_time_total / self.count

    @property
    def device_time(self):
        """Mean device time per call: always 0 (ember has no device)."""
        return 0.0


class FunctionEvent(_FormattedTimes):
    """One recorded interval: an op (``aten::mul``), a backward node, or a labelled range.

    Attributes:
        id: the event's number, in start order (from 1).
        name: the event's name; ``key`` too.
        trace_name: the name the Chrome trace shows (``ProfilerStep#3`` where ``name`` is
            ``ProfilerStep*``).
        time_range: ``Interval`` in microseconds from the profiler's start.
        thread: the OS thread id it ran on.
        input_shapes: one shape per positional input (``[]`` for non-tensors), when the
            profiler had ``record_shapes=True``; else ``[]``.
        stack: ``file(line): function`` entries, innermost first (``with_stack=True``).
        scope: 0 for forward ops and ranges, 1 for backward nodes (torch's RecordScope).
        sequence_nr: the autograd node's sequence number, linking an op to its backward.
        cpu_memory_usage: bytes allocated inside the interval (``profile_memory=True``).
        cpu_parent / cpu_children: the enclosing event and the directly nested ones.
    """

    def __init__(self, id, name, thread, start_us, end_us, overload_name="", fwd_thread=None,
                 input_shapes=None, stack=None, scope=0, use_device=None, cpu_memory_usage=0,
                 device_memory_usage=0, is_async=False, is_remote=False, sequence_nr=-1,
                 node_id=-1, device_type=DeviceType.CPU, device_index=0, is_legacy=False,
                 flops=None, trace_name=None, is_user_annotation=False):
        self.id = id
        self.node_id = node_id
        self.name = name
        self.overload_name = overload_name
        self.trace_name = name if trace_name is None else trace_name
        self.time_range = Interval(start_us, end_us)
        self.thread = thread
        self.fwd_thread = fwd_thread
        self.kernels = []
        self.count = 1
        self.cpu_children = []
        self.cpu_parent = None
        self.input_shapes = [] if input_shapes is None else input_shapes
        self.concrete_inputs = []
        self.kwinputs = {}
        self.stack = [] if stack is None else stack
        self.scope = scope
        self.use_device = use_device
        self.cpu_memory_usage = cpu_memory_usage
        self.device_memory_usage = device_memory_usage
        self.is_async = is_async
        self.is_remote = is_remote
        self.sequence_nr = sequence_nr
        self.device_type = device_type
        self.device_index = device_index
        self.is_legacy = is_legacy
        self.flops = flops
        self.is_user_annotation = is_user_annotation
        self.self_cpu_percent = -1
        self.total_cpu_percent = -1

    def append_cpu_child(self, child):
        """Add a directly nested event."""
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent):
        """Set the innermost event that contains this one."""
        self.cpu_parent = parent

    @property
    def self_cpu_memory_usage(self):
        """Bytes allocated in this event and not in its children."""
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def self_device_memory_usage(self):
        """Always 0 (ember has no device)."""
        return 0

    @property
    def cpu_time_total(self):
        """The interval's length, in microseconds."""
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self):
        """Time not spent in the children, in microseconds."""
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def device_time_total(self):
        """Always 0 (ember has no device)."""
        return 0

    @property
    def self_device_time_total(self):
        """Always 0 (ember has no device)."""
        return 0

    @property
    def key(self):
        """What ``key_averages`` groups by: the name."""
        return self.name

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} overload_name={self.overload_name} "
                f"device_type={self.device_type} node_id={self.node_id} "
                f"cpu_time={self.cpu_time_str} start_us={self.time_range.start} "
                f"end_us={self.time_range.end} "
                f"cpu_children={[c.id for c in self.cpu_children]} thread={self.thread} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage} "
                f"is_async={self.is_async} is_remote={self.is_remote} "
                f"seq_nr={self.sequence_nr} is_legacy={self.is_legacy}>")


class FunctionEventAvg(_FormattedTimes):
    """The sums over the events that share a key (``EventList.key_averages``).

    ``count`` is how many there were; ``cpu_time_total``, ``self_cpu_time_total``,
    ``cpu_memory_usage`` and ``self_cpu_memory_usage`` are sums; ``cpu_time`` is the mean.
    """

    def __init__(self) -> None:
        self.key = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.use_device = None
        self.cpu_time_total = 0
        self.device_time_total = 0
        self.self_cpu_time_total = 0
        self.self_device_time_total = 0
        self.input_shapes = None
        self.overload_name = None
        self.stack = None
        self.scope = None
        self.cpu_memory_usage = 0
        self.device_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.self_device_memory_usage = 0
        self.cpu_children = None
        self.cpu_parent = None
        self.device_type = DeviceType.CPU
        self.is_legacy = False
        self.is_user_annotation = False
        self.flops = 0

    def add(self, other):
        """Add one event (or another average) into the sums; returns ``self``."""
        if self.key is None:
            self.key = other.key
            self.node_id = other.node_id
            self.is_async = other.is_async
            self.is_remote = other.is_remote
            self.cpu_parent = other.cpu_parent
            self.cpu_children = other.cpu_children
            self.overload_name = other.overload_name
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.scope = other.scope
            self.device_type = other.device_type
            self.is_legacy = other.is_legacy
            self.use_device = other.use_device
            self.is_user_annotation = other.is_user_annotation
        if not isinstance(other, (FunctionEvent, FunctionEventAvg)):
            raise AssertionError("Expected other to be a FunctionEvent or FunctionEventAvg")
        if other.key != self.key:
            raise AssertionError(f"Expected keys to match, but got {other.key} vs {self.key}")
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.count += other.count
        if other.flops:
            self.flops = (self.flops or 0) + other.flops
        return self

    def __iadd__(self, other):
        return self.add(other)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of ``FunctionEvent`` (or ``FunctionEventAvg``) with torch's helpers:
    ``table``, ``key_averages``, ``total_average``, ``export_chrome_trace`` and
    ``export_stacks``."""

    def __init__(self, *args, use_device=None, profile_memory=False, with_flops=False):
        super().__init__(*args)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops
        self._tree_built = False

    def _build_tree(self):
        self._populate_cpu_children()
        self._remove_dup_nodes()
        self._set_backward_stacktraces()
        self._tree_built = True

    def __str__(self):
        return self.table()

    def _populate_cpu_children(self):
        """Each event's parent: the innermost earlier interval on its thread that contains it.

        Sorted by (start, -end), a stack holds the chain of open intervals; an interval that
        starts at or after the top's end, or ends after it, is not inside the top: pop.
        """
        events = sorted((e for e in self if not e.is_async), key=attrgetter("thread"))
        for _, thread_events in itertools.groupby(events, key=lambda e: (e.thread, e.node_id)):
            ordered = sorted(thread_events,
                             key=lambda e: (e.time_range.start, -e.time_range.end))
            open_events = []
            for event in ordered:
                while open_events:
                    parent = open_events[-1]
                    if (event.time_range.start >= parent.time_range.end
                            or event.time_range.end > parent.time_range.end):
                        open_events.pop()
                    else:
                        parent.append_cpu_child(event)
                        event.set_cpu_parent(parent)
                        break
                open_events.append(event)

    def _remove_dup_nodes(self):
        """Fold an only child named like its parent into the parent (torch's rule)."""
        while True:
            drop = set()
            for i, e in enumerate(self):
                p = e.cpu_parent
                if p is not None and p.name == e.name and len(p.cpu_children) == 1:
                    p.cpu_children = e.cpu_children
                    for c in e.cpu_children:
                        c.cpu_parent = p
                    drop.add(i)
            if not drop:
                return
            kept = [e for i, e in enumerate(self) if i not in drop]
            self.clear()
            self.extend(kept)

    def _set_backward_stacktraces(self):
        """Events inside a backward node get the stack of the forward op that made it."""
        def bw_parent(evt):
            while evt is not None and evt.scope != 1:
                evt = evt.cpu_parent
            return evt

        fwd_stacks = {}
        for evt in self:
            if bw_parent(evt) is None and evt.stack:
                fwd_stacks.setdefault((evt.sequence_nr, evt.thread), evt.stack)
        for evt in self:
            p = bw_parent(evt)
            if p is not None and p.sequence_nr >= 0:
                evt.stack = fwd_stacks.get((p.sequence_nr, p.fwd_thread), [])

    @property
    def self_cpu_time_total(self):
        """The sum of every event's self CPU time, in microseconds."""
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        """The events as torch's text table.

        Args:
            sort_by: attribute to sort by, largest first (``cpu_time_total``,
                ``self_cpu_time_total``, ``cpu_time``, ``count``, ``cpu_memory_usage``,
                ``self_cpu_memory_usage``; ``cuda_*`` names read ember's zero device times).
                Default: the order they were recorded in.
            row_limit: at most this many rows (-1: all).
            header: a line printed above the table.
            top_level_events_only: only events with no parent.
            time_unit: ``"s"``, ``"ms"`` or ``"us"`` for every time (default: per value).

        Returns:
            The table as a string.
        """
        from ._table import build_table

        return build_table(self, sort_by=sort_by, row_limit=row_limit,
                           max_src_column_width=max_src_column_width,
                           max_name_column_width=max_name_column_width,
                           max_shapes_column_width=max_shapes_column_width, header=header,
                           profile_memory=self._profile_memory,
                           top_level_events_only=top_level_events_only, time_unit=time_unit)

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace (torch's EventList format: a JSON array of
        ``"X"`` events), atomically: a temporary file, then a rename.

        Args:
            path: the file to write; open it in ``chrome://tracing`` or Perfetto.
        """
        import json

        rows = [{"name": e.trace_name, "ph": "X", "ts": e.time_range.start,
                 "dur": e.time_range.elapsed_us(), "tid": e.thread, "pid": "CPU functions",
                 "args": {}} for e in self if getattr(e, "trace_name", None) is not None]
        with atomic_write(path, "w") as f:
            json.dump(rows, f)

    def supported_export_stacks_metrics(self):
        """The metrics ``export_stacks`` accepts."""
        return ["self_cpu_time_total", "self_cuda_time_total", "self_xpu_time_total",
                "self_privateuse1_time_total"]

    def export_stacks(self, path: str, metric: str):
        """Write one ``frame;frame;... value`` line per event with a stack (flame-graph input).

        Args:
            path: the file to write (atomically).
            metric: one of ``supported_export_stacks_metrics()``.
        """
        if metric not in self.supported_export_stacks_metrics():
            raise ValueError("metric should be one of: "
                             + str(self.supported_export_stacks_metrics()))
        attr = metric.replace("cuda", "device").replace("xpu", "device").replace(
            "privateuse1", "device")
        translate = str.maketrans(" ;\t\n", "____")
        with atomic_write(path, "w") as f:
            for evt in self:
                if evt.stack:
                    value = getattr(evt, attr)
                    if int(value) > 0:
                        frames = ";".join(e.translate(translate) for e in reversed(evt.stack))
                        f.write(f"{frames} {int(value)}\n")

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """Sum the events that share a key: the name, plus the input shapes with
        ``group_by_input_shapes`` and the top ``group_by_stack_n`` stack entries.

        Returns:
            An ``EventList`` of ``FunctionEventAvg``, in order of first appearance.
        """
        if not self._tree_built:
            raise AssertionError("Expected tree to be built before calling key_averages")
        stats = defaultdict(FunctionEventAvg)
        for evt in self:
            key = [str(evt.key), str(evt.node_id), str(evt.device_type), str(evt.is_legacy),
                   str(evt.is_user_annotation)]
            if group_by_overload_name:
                key.append(evt.overload_name)
            if group_by_input_shapes:
                key.append(str(evt.input_shapes))
            if group_by_stack_n > 0:
                key += evt.stack[:group_by_stack_n]
            stats[tuple(key)].add(evt)
        avg_list = EventList(stats.values(), use_device=self._use_device,
                             profile_memory=self._profile_memory, with_flops=self._with_flops)
        for evt in avg_list:
            evt.stack = evt.stack[:group_by_stack_n]
            if not group_by_input_shapes:
                evt.input_shapes = ""
            if not group_by_overload_name:
                evt.overload_name = ""
        return avg_list

    def total_average(self):
        """One ``FunctionEventAvg`` with key ``"Total"`` summing every event."""
        total = FunctionEventAvg()
        for evt in self:
            total += evt
            total.key = None
        total.key = "Total"
        return total


def events_from_records(records, t0_ns, profile_memory=False, use_device=None):
    """``FunctionEvent``s (tree built) from ``_record`` records; times relative to ``t0_ns``."""
    events = []
    for i, r in enumerate(records):
        name = r.name
        trace_name = name
        if name.startswith("ProfilerStep#"):
            name = "ProfilerStep*"  # torch's wildcard: every step is one row
        events.append(FunctionEvent(
            id=i + 1, name=name, trace_name=trace_name, thread=r.tid,
            start_us=(r.start - t0_ns) / 1000.0, end_us=(r.end - t0_ns) / 1000.0,
            fwd_thread=r.tid, input_shapes=r.shapes, stack=r.stack, scope=r.scope,
            use_device=use_device, cpu_memory_usage=r.mem if profile_memory else 0,
            sequence_nr=r.seq, is_user_annotation=r.cat == "user_annotation"))
    out = EventList(events, use_device=use_device, profile_memory=profile_memory)
    out._build_tree()
    return out
