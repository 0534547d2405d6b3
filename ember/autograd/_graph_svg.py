"""A layered layout drawn as SVG (and the HTML page around it), so HTML and SVG views
need nothing installed. Part of :mod:`ember.autograd.graph`."""
from __future__ import annotations

import html

from ._graph_core import fmt_shape, out_meta
from ._graph_render import _COLORS, _kind, _label_lines, _render_text

# --- a layered layout drawn as SVG, so HTML and SVG need nothing installed ----------------
_CHAR_W, _LINE_H, _PAD, _GAP_X, _GAP_Y = 7, 14, 8, 24, 36


def _layout(view):
    """Layer = longest path from a root (edges always point down); order by parents' x."""
    layer = {}
    for node in view.order:  # run order is a topological order: parents come first
        layer.setdefault(node, 0)
        for _, child, _ in view.edges(node):
            if layer.get(child, -1) < layer[node] + 1:
                layer[child] = layer[node] + 1
    layers = {}
    for node in view.order:
        layers.setdefault(layer[node], []).append(node)
    boxes = {}
    for node in view.order:
        lines = _label_lines(view, node)
        w = max(len(x) for x in lines) * _CHAR_W + 2 * _PAD
        h = len(lines) * _LINE_H + 2 * _PAD
        boxes[node] = [0.0, 0.0, w, h, lines]
    parents = {}
    for node in view.order:
        for _, child, _ in view.edges(node):
            parents.setdefault(child, []).append(node)
    y = 10.0
    width = 0.0
    for k in sorted(layers):
        row = layers[k]
        if k:
            def centre(n):
                ps = parents.get(n, ())
                return sum(boxes[p][0] + boxes[p][2] / 2 for p in ps) / len(ps) if ps else 0.0
            row.sort(key=centre)
        x = 10.0
        h = 0.0
        for node in row:
            b = boxes[node]
            if k:
                x = max(x, (sum(boxes[p][0] + boxes[p][2] / 2 for p in parents.get(node, ()))
                            / max(len(parents.get(node, ())), 1)) - b[2] / 2)
            b[0], b[1] = x, y
            x += b[2] + _GAP_X
            h = max(h, b[3])
        width = max(width, x)
        y += h + _GAP_Y
    return boxes, width + 10, y


def _render_svg(view):
    if not view.order:
        return ('<svg xmlns="http://www.w3.org/2000/svg" width="420" height="40"><text x="10" '
                'y="24" font-family="monospace" font-size="12">no graph: the tensor does not '
                'require grad</text></svg>\n')
    boxes, width, height = _layout(view)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
           'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
           '</defs>']
    for node in view.order:
        px, py, pw, ph, _ = boxes[node]
        for _, child, nr in view.edges(node):
            cx, cy, cw, _, _ = boxes[child]
            x1, y1, x2, y2 = px + pw / 2, py + ph, cx + cw / 2, cy
            mid = (y1 + y2) / 2
            shape, _ = out_meta(child, nr)
            tip = html.escape(fmt_shape(shape)) if shape is not None else ""
            out.append(f'<path d="M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} '
                       f'{x2:.0f},{y2:.0f}" fill="none" stroke="#555" '
                       f'marker-end="url(#arrow)"><title>{tip}</title></path>')
    for node in view.order:
        x, y, w, h, lines = boxes[node]
        kind = _kind(view, node)
        rx = h / 2 if kind == "leaf" else 6
        out.append(f'<g><title>#{view.index[node]} {html.escape(node.name())}</title>'
                   f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="{rx:.0f}" '
                   f'fill="{_COLORS[kind]}" stroke="#333"/>')
        for j, line in enumerate(lines):
            weight = ' font-weight="bold"' if j == 0 else ""
            out.append(f'<text x="{x + _PAD:.0f}" y="{y + _PAD + (j + 0.8) * _LINE_H:.0f}"'
                       f'{weight}>{html.escape(line)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _render_html(view):
    text = _render_text(view, source=True)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ember graph</title>\n"
            "<style>body{font-family:sans-serif;margin:1em}pre{background:#f6f6f6;padding:1em;"
            "overflow:auto}.legend span{display:inline-block;padding:2px 8px;margin-right:6px;"
            "border:1px solid #333;font-family:monospace}</style></head><body>\n"
            "<h1>ember autograd graph</h1>\n<p class=\"legend\">"
            f"<span style=\"background:{_COLORS['root']}\">root</span>"
            f"<span style=\"background:{_COLORS['op']}\">backward function</span>"
            f"<span style=\"background:{_COLORS['leaf']}\">AccumulateGrad (leaf)</span>"
            f"<span style=\"background:{_COLORS['freed']}\">freed by backward</span></p>\n"
            "<p>Arrows point the way gradients flow: from the output down "
            "<code>next_functions</code> to the leaves.</p>\n"
            f"{_render_svg(view)}<details><summary>as text</summary><pre>"
            f"{html.escape(text)}</pre></details>\n</body></html>\n")
