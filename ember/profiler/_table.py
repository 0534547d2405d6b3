"""The profiler's text table, laid out as torch's ``_build_table`` lays it out (CPU columns)."""
from __future__ import annotations

from ._events import EventList, _format_memory, _format_time, _format_time_share

_WIDTH = 12
_SPACING = 2


def _in_unit(time_us, default_str, time_unit):
    if time_unit == "s":
        return f"{time_us / 1e6:.3f}s"
    if time_unit == "ms":
        return f"{time_us / 1e3:.3f}ms"
    if time_unit == "us":
        return f"{time_us:.3f}us"
    return default_str


def _trim_path(path, width):
    if len(path) > width:
        path = path[len(path) - width:]
        if len(path) > 3:
            path = "..." + path[3:]
    return path


def build_table(events, sort_by=None, header=None, row_limit=100, max_src_column_width=75,
                max_name_column_width=55, max_shapes_column_width=80, profile_memory=False,
                top_level_events_only=False, time_unit=None):
    """The summary table of ``events`` (``FunctionEvent``s or ``FunctionEventAvg``s)."""
    if len(events) == 0:
        return ""
    has_input_shapes = any(e.input_shapes is not None and len(e.input_shapes) > 0
                           for e in events)
    has_overload_names = any(e.overload_name for e in events)
    if sort_by is not None:
        attr = sort_by.replace("cuda", "device").replace("xpu", "device").replace(
            "privateuse1", "device")
        events = EventList(sorted(events, key=lambda e: getattr(e, attr), reverse=True),
                           profile_memory=profile_memory)

    name_width = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_width = min(name_width, max_name_column_width)
    shapes_width = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes_column_width is not None:
        shapes_width = min(shapes_width, max_shapes_column_width)
    stacks = [e.stack for e in events if e.stack]
    src_width = None
    if stacks:
        src_width = max(max(len(entry) for entry in s) for s in stacks) + 4
        if max_src_column_width is not None:
            src_width = min(src_width, max_src_column_width)

    headers = ["Name"]
    if has_overload_names:
        headers.append("Overload Name")
    headers += ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    append_node_id = any(e.node_id != -1 for e in events)
    if append_node_id:
        headers.append("Node ID")

    row_format, header_sep, line_length = "", "", -_SPACING

    def add_column(padding, text_dir=">"):
        nonlocal row_format, header_sep, line_length
        row_format += "{: " + text_dir + str(padding) + "}" + " " * _SPACING
        header_sep += "-" * padding + " " * _SPACING
        line_length += padding + _SPACING

    add_column(name_width)
    if has_overload_names:
        add_column(name_width)
    for _ in headers[1 + has_overload_names:]:
        add_column(_WIDTH)
    if has_input_shapes:
        headers.append("Input Shapes")
        add_column(shapes_width)
    if stacks:
        headers.append("Source Location")
        add_column(src_width, text_dir="<")

    lines = []
    total_self = sum(e.self_cpu_time_total for e in events)
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_events_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [header_sep, row_format.format(*headers), header_sep]

    shown = 0
    for evt in events:
        if shown == row_limit:
            break
        if top_level_events_only and evt.cpu_parent is not None:
            continue
        shown += 1
        name = evt.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + "..."
        evt.self_cpu_percent = _format_time_share(evt.self_cpu_time_total, total_self)
        evt.total_cpu_percent = (_format_time_share(evt.cpu_time_total, total_self)
                                 if not evt.is_async else 0)
        row = [name]
        if has_overload_names:
            row.append(evt.overload_name)
        row += [evt.self_cpu_percent,
                _in_unit(evt.self_cpu_time_total, evt.self_cpu_time_total_str, time_unit),
                evt.total_cpu_percent,
                _in_unit(evt.cpu_time_total, evt.cpu_time_total_str, time_unit),
                _in_unit(evt.cpu_time, evt.cpu_time_str, time_unit)]
        if profile_memory:
            row += [_format_memory(evt.cpu_memory_usage),
                    _format_memory(evt.self_cpu_memory_usage)]
        row.append(evt.count)
        if append_node_id:
            row.append(evt.node_id)
        if has_input_shapes:
            row.append(str(evt.input_shapes)[:shapes_width])
        if stacks:
            row.append(_trim_path(evt.stack[0], src_width) if evt.stack else "")
        lines.append(row_format.format(*row))
        if stacks:
            empty = [""] * (len(headers) - 1)
            for entry in evt.stack[1:]:
                lines.append(row_format.format(*(empty + [_trim_path(entry, src_width)])))
            lines.append(row_format.format(*(empty + [""])))

    lines.append(header_sep)
    lines.append("Self CPU time total: "
                 + _in_unit(total_self, _format_time(total_self), time_unit))
    return "\n".join(lines) + "\n"
