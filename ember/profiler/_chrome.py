"""Chrome trace JSON (the format torch's Kineto writes), for ``chrome://tracing`` or Perfetto.

Each event is an ``"X"`` (complete) event, ``cpu_op`` or ``user_annotation``, on its
thread; an op and the backward node it recorded are joined by a ``fwdbwd`` flow arrow
(matched by sequence number); with ``profile_memory`` every allocation is a ``[memory]``
instant. The file is written atomically (a temporary file, then a rename), gzipped when the
path ends in ``.gz``.
"""
from __future__ import annotations

import gzip
import json
import os

from .._io import atomic_write


def _rows(events, base_us, profile_memory):
    pid = os.getpid()
    rows = [{"ph": "M", "name": "process_name", "ts": base_us, "pid": pid, "tid": 0,
             "args": {"name": "python"}},
            {"ph": "M", "name": "process_labels", "ts": base_us, "pid": pid, "tid": 0,
             "args": {"labels": "CPU"}}]
    for tid in sorted({e.thread for e in events}):
        rows.append({"ph": "M", "name": "thread_name", "ts": base_us, "pid": pid, "tid": tid,
                     "args": {"name": f"thread {tid} (python)"}})
    forward, backward = {}, {}
    for i, e in enumerate(events):
        args = {"External id": e.id, "Record function id": 0, "Ev Idx": i}
        if e.sequence_nr >= 0:
            args["Sequence number"] = e.sequence_nr
            args["Fwd thread id"] = 0
            (backward if e.scope == 1 else forward).setdefault(e.sequence_nr, e)
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
        rows.append({"ph": "X", "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
                     "name": e.trace_name, "pid": pid, "tid": e.thread,
                     "ts": round(base_us + e.time_range.start, 3),
                     "dur": round(e.time_range.elapsed_us(), 3), "args": args})
    for flow_id, seq in enumerate(sorted(set(forward) & set(backward)), 1):
        f, b = forward[seq], backward[seq]
        rows.append({"ph": "s", "id": flow_id, "pid": pid, "tid": f.thread, "cat": "fwdbwd",
                     "name": "fwdbwd", "ts": round(base_us + f.time_range.start, 3)})
        rows.append({"ph": "f", "id": flow_id, "pid": pid, "tid": b.thread, "cat": "fwdbwd",
                     "name": "fwdbwd", "ts": round(base_us + b.time_range.start, 3), "bp": "e"})
    if profile_memory:
        total = 0
        for e in sorted(events, key=lambda e: e.time_range.end):
            nbytes = e.self_cpu_memory_usage
            if nbytes > 0:
                total += nbytes
                rows.append({"ph": "i", "cat": "cpu_instant_event", "s": "t", "name": "[memory]",
                             "pid": pid, "tid": e.thread,
                             "ts": round(base_us + e.time_range.end, 3),
                             "args": {"Total Reserved": 0, "Total Allocated": total,
                                      "Bytes": nbytes, "Device Id": -1, "Device Type": 0}})
    return rows


def write_chrome_trace(path, events, base_ns, metadata=None, profile_memory=False):
    """Write ``events`` (an ``EventList``) to ``path`` as a Chrome trace, atomically.

    ``base_ns``: the wall-clock time (``time.time_ns()``) of the events' zero.
    """
    path = os.fspath(path)
    trace = {"schemaVersion": 1, "deviceProperties": []}
    trace.update(metadata or {})
    trace.update({"displayTimeUnit": "ms", "baseTimeNanoseconds": base_ns,
                  "traceEvents": _rows(events, base_ns / 1000.0, profile_memory),
                  "traceName": path})
    data = json.dumps(trace).encode("utf-8")
    with atomic_write(path, "wb") as f:
        if path.endswith(".gz"):
            with gzip.GzipFile(fileobj=f, mode="wb") as z:
                z.write(data)
        else:
            f.write(data)
