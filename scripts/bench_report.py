"""The HTML report of scripts/bench.py: one self-contained page (inline SVG drawn here, no script, no CDN, no
dependency outside the standard library) with the tables and, for every cell, the throughput over time of
the daemon's full-speed run and of the raw reference, and the send->ack latency percentile curve at half
the ack-mode maximum rate."""
import html as _html
import math

DAEMON_COLOR = "#1f5fa8"
ACKED_COLOR = "#7b3fa0"
RAW_COLOR = "#d9730d"
LATENCY_COLOR = "#2a8a3e"
WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 50, 46


def esc(text):
    return _html.escape(str(text), quote=True)


def nice_step(span, count):
    """A 1-2-5 step giving about `count` intervals over `span`."""
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def linear_ticks(high, count=5):
    step = nice_step(high, count)
    ticks, value = [], 0.0
    while value <= high * 1.0001:
        ticks.append(value)
        value += step
    return ticks, ticks[-1] if ticks[-1] >= high else ticks[-1] + step


def rate_label(value):
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def ms_label(value):
    return f"{value:g}" if value >= 1 else f"{value:.2g}"


def frame(title, x_label, y_label):
    """The chart's opening tag, title and axis labels; returns (parts, plot width, plot height)."""
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{esc(title)}">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<text x="{LEFT}" y="20" class="title">{esc(title)}</text>',
        f'<text x="{LEFT + pw / 2}" y="{HEIGHT - 8}" class="axis" text-anchor="middle">{esc(x_label)}</text>',
        f'<text x="14" y="{TOP + ph / 2}" class="axis" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + ph / 2})">{esc(y_label)}</text>',
    ]
    return parts, pw, ph


def grid(parts, pw, ph, x_ticks, y_ticks):
    """x_ticks, y_ticks: (position 0..1, label)."""
    for position, label in y_ticks:
        y = TOP + ph * (1 - position)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{esc(label)}</text>')
    for position, label in x_ticks:
        x = LEFT + pw * position
        parts.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + ph}" class="grid"/>')
        parts.append(f'<text x="{x:.1f}" y="{TOP + ph + 16}" class="tick" text-anchor="middle">{esc(label)}</text>')
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" class="plot"/>')


def legend(parts, pw, entries):
    """One row above the plot, so it never hides a line."""
    x = LEFT
    for label, color in entries:
        parts.append(f'<line x1="{x}" y1="36" x2="{x + 18}" y2="36" stroke="{color}" stroke-width="3"/>')
        parts.append(f'<text x="{x + 24}" y="40" class="legend">{esc(label)}</text>')
        x += 24 + 7 * len(label) + 18


def chart_frame(title, x_label, y_label, series):
    """The series that have points and a frame to draw them in, or the finished chart saying there are none."""
    series = [(label, color, points) for label, color, points in series if points]
    parts, pw, ph = frame(title, x_label, y_label)
    if not series:
        parts.append(f'<text x="{LEFT + pw / 2}" y="{TOP + ph / 2}" class="tick" text-anchor="middle">no samples</text></svg>')
        return None, "".join(parts), pw, ph
    return series, parts, pw, ph


def throughput_chart(title, series):
    """series: [(label, color, [[seconds at the end of the interval, msgs/s], ...])], drawn as steps."""
    series, parts, pw, ph = chart_frame(title, "seconds since the first send", "messages per second", series)
    if series is None:
        return parts
    x_high = max(points[-1][0] for _, _, points in series) or 1
    y_high = max(rate for _, _, points in series for _, rate in points) or 1
    x_values, _ = linear_ticks(x_high, 6)
    x_values, x_top = [v for v in x_values if v <= x_high * 1.0001], x_high
    y_values, y_top = linear_ticks(y_high * 1.05, 5)
    grid(parts, pw, ph, [(v / x_top, f"{v:g}") for v in x_values], [(v / y_top, rate_label(v)) for v in y_values])
    for label, color, points in series:
        coordinates, previous = [], 0.0
        for seconds, rate in points:
            y = TOP + ph * (1 - rate / y_top)
            coordinates.append(f"{LEFT + pw * previous / x_top:.1f},{y:.1f}")
            coordinates.append(f"{LEFT + pw * seconds / x_top:.1f},{y:.1f}")
            previous = seconds
        parts.append(f'<polyline points="{" ".join(coordinates)}" fill="none" stroke="{color}" stroke-width="1.8" '
                     'stroke-linejoin="round"/>')
    legend(parts, pw, [(label, color) for label, color, _ in series])
    parts.append("</svg>")
    return "".join(parts)


def one_two_five(low, high):
    """The 1, 2, 5, 10, 20 … values from low to high (both on that grid)."""
    values, decade = [], 10 ** math.floor(math.log10(low))
    while decade <= high * 1.0001:
        for factor in (1, 2, 5):
            value = decade * factor
            if low * 0.9999 <= value <= high * 1.0001:
                values.append(value)
        decade *= 10
    return values


def log_bounds(smallest, largest):
    """The largest 1-2-5 value at or below `smallest` and the smallest at or above `largest` (distinct)."""
    def grid(value, up):
        decade = 10 ** math.floor(math.log10(value))
        candidates = [decade * f for f in (1, 2, 5, 10)]
        return min(c for c in candidates if c >= value * 0.9999) if up else max(c for c in candidates if c <= value * 1.0001)
    low, high = grid(smallest, False), grid(largest, True)
    return (low, high) if high > low else (low, low * 2)


def nines(percentile):
    """Position on a "number of nines" axis: 0 → 0, 90 → 1, 99 → 2, 99.9 → 3 …; 100 (the max) sits at 99.999."""
    return math.log10(100.0 / (100.0 - min(percentile, 99.999)))


def latency_chart(title, curves):
    """curves: [(label, color, [[percentile, ms], ...])]: log-scale ms against the percentile in nines."""
    curves, parts, pw, ph = chart_frame(title, "percentile", "send → ack latency, ms (log scale)", curves)
    if curves is None:
        return parts
    x_top = nines(100)
    values = [max(ms, 0.001) for _, _, points in curves for _, ms in points]
    low, high = log_bounds(min(values), max(values))
    span = math.log10(high) - math.log10(low)
    steps = [v for v in one_two_five(low, high) if span <= 2.5 or math.log10(v) % 1 == 0 or v in (low, high)]
    y_ticks = [((math.log10(v) - math.log10(low)) / span, ms_label(v)) for v in steps]
    x_ticks = [(nines(p) / x_top, label) for p, label in
               ((0, "0"), (50, "50"), (90, "90"), (99, "99"), (99.9, "99.9"), (99.99, "99.99"), (100, "max"))]
    grid(parts, pw, ph, x_ticks, y_ticks)
    legends = []
    for label, color, points in curves:
        coordinates = []
        for percentile, ms in points:
            x = LEFT + pw * nines(percentile) / x_top
            y = TOP + ph * (1 - (math.log10(max(ms, 0.001)) - math.log10(low)) / span)
            coordinates.append((x, y, percentile, ms))
        parts.append('<polyline points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in coordinates)
                     + f'" fill="none" stroke="{color}" stroke-width="1.8"/>')
        for x, y, percentile, ms in coordinates:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                         f"<title>p{percentile:g}: {ms:.3f} ms</title></circle>")
        marks = {p: ms for p, ms in points}
        if 50 in marks and 99 in marks:
            label = f"{label}: p50 {marks[50]:.2f} ms, p99 {marks[99]:.2f} ms"
        legends.append((label, color))
    legend(parts, pw, legends)
    parts.append("</svg>")
    return "".join(parts)


STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "DejaVu Sans", sans-serif; color: #1b1b1b; margin: 24px; max-width: 1240px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.meta, p.note { color: #555; margin: 4px 0; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #d4d4d4; padding: 3px 7px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; white-space: normal; vertical-align: bottom; }
.wide { overflow-x: auto; }
td.left, th.left { text-align: left; }
td.worse { color: #fff; background: #b3261e; font-weight: bold; text-align: center; }
td.better { color: #1b5e20; font-weight: bold; text-align: center; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg { border: 1px solid #e2e2e2; }
svg .title { font: bold 13px system-ui, "DejaVu Sans", sans-serif; fill: #222; }
svg .axis { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: #444; }
svg .tick { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #555; }
svg .legend { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: #222; }
svg .grid { stroke: #ececec; stroke-width: 1; }
svg .plot { fill: none; stroke: #999; stroke-width: 1; }
"""


def table(headers, rows, left=1):
    out = ['<div class="wide"><table><tr>' + "".join(f'<th class="left">{esc(h)}</th>' if i < left else f"<th>{esc(h)}</th>"
                                   for i, h in enumerate(headers)) + "</tr>"]
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            css = ' class="left"' if i < left else ""
            if isinstance(value, tuple):  # (text, css class)
                value, css = value[0], f' class="{value[1]}"' if value[1] else css
            cells.append(f"<td{css}>{esc(value)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</table></div>"


def topics_label(chats):
    return "1 (global)" if chats == 0 else f"{chats} chats"


def matrix_table(cells):
    rows = []
    for r in cells:
        m = r["median"]
        rows.append([topics_label(r["chats"]), r["connections"], f"{r['size']} B", f"{m['daemonMsgsPerSecond']:,.0f}",
                     f"{m['rawMsgsPerSecond']:,.0f}", f"{m['daemonRawRatio']:.2f}", r["lost"],
                     f"{r['ackMax']['deliveredPerSecond']:,.0f}", f"{m['p50AckMs']:.2f}", f"{m['p99AckMs']:.2f}",
                     f"{r['halfRate']:,}", f"{r['daemonCpuPercent']:.0f}", f"{r['daemonCpuMicrosPerMessage']:.2f}",
                     f"{r['daemonPeakRssMiB']:.1f}"])
    return table(["topics", "connections", "message", "daemon msgs/s", "raw msgs/s", "daemon/raw", "lost",
                  "ack-mode max msgs/s", "p50 ack ms", "p99 ack ms", "at msgs/s", "daemon CPU %", "daemon CPU µs/msg",
                  "daemon peak RSS MiB"], rows)


def spread_table(cells):
    def span(values, fmt):
        return f"{fmt(min(values))} – {fmt(max(values))}"
    rows = []
    for r in cells:
        s = r["samples"]
        rows.append([topics_label(r["chats"]), r["connections"], f"{r['size']} B",
                     span(s["daemonMsgsPerSecond"], lambda v: f"{v:,.0f}"), span(s["rawMsgsPerSecond"], lambda v: f"{v:,.0f}"),
                     span(s["daemonRawRatio"], lambda v: f"{v:.2f}"), span(s["p99AckMs"], lambda v: f"{v:.2f}"),
                     span(s["daemonCpuMicrosPerMessage"], lambda v: f"{v:.2f}")])
    return table(["topics", "connections", "message", "daemon msgs/s", "raw msgs/s", "daemon/raw", "p99 ack ms",
                  "daemon CPU µs/msg"], rows)


def many_table(many):
    rep, lat = many["report"], many["report"]["latencyMs"]
    return table(["connections", "sent", "delivered", "lost", "failed connections", "delivered msgs/s", "p50 ack ms",
                  "p99 ack ms", "p99.9 ack ms", "max ack ms", "daemon CPU %", "daemon CPU µs/msg",
                  "daemon RSS MiB before → peak", "generator CPU %"],
                 [[f"{many['connections']:,}", f"{rep['sent']:,}", f"{rep['delivered']:,}", rep["lost"], rep["errors"],
                   f"{rep['deliveredPerSecond']:,.0f}", f"{lat['p50']:.2f}", f"{lat['p99']:.2f}", f"{lat['p999']:.2f}",
                   f"{lat['max']:.2f}", f"{many['daemonCpuPercent']:.0f}", f"{many['daemonCpuMicrosPerMessage']:.2f}",
                   f"{many['daemonRssBeforeMiB']:.1f} → {many['daemonPeakRssMiB']:.1f}", f"{rep['cpuPercent']:.0f}"]])


def comparison_table(rows):
    return table(["cell", "figure", "baseline", "now", "change", "tolerance", ""],
                 [[r["cell"], r["figure"], r["baseline"], r["now"], f"{100 * r['change']:+.1f} %",
                   f"±{100 * r['tolerance']:.0f} % ({r['toleranceSource']})",
                   (r["verdict"], {"WORSE": "worse", "better": "better"}.get(r["verdict"], ""))] for r in rows], left=2)


def html(result, baseline_path=None):
    title = f"kafka-chat-producer load test, {result['commit']}, {result['date']}"
    out = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
           f"<style>{STYLE}</style></head><body>", f"<h1>{esc(title)}</h1>"]
    machine = result["machine"]
    out.append(f"<p class=\"meta\">Machine: {machine['cores']} cores, {esc(machine['kernel'])}; broker: librdkafka mock "
               "cluster (own process, 4 partitions per topic); daemon, broker and load generator share the machine. "
               f"Runs per cell: {result['options']['repeat']}{' (medians)' if result['options']['repeat'] > 1 else ''}."
               f"{' Some messages were lost or a daemon did not exit cleanly.' if result.get('failed') else ''}</p>")
    cells = result["cells"]
    if cells:
        out.append("<h2>Matrix</h2>")
        out.append(matrix_table(cells))
        out.append("<p class=\"note\">daemon msgs/s: delivered into Kafka (topics' high watermarks) at full speed, no "
                   "acks; raw: the same records straight through librdkafka from one thread; latency: send → ack, open "
                   "loop, from each message's intended send time, at half the ack-mode maximum (\"at msgs/s\").</p>")
        if result["options"]["repeat"] > 1:
            out.append("<h3>Spread over the runs (min – max)</h3>")
            out.append(spread_table(cells))
    many = result.get("manyConnections")
    if many:
        out.append(f"<h2>{many['connections']:,} connections, {many['rate']:,} msgs/s with acks</h2>")
        out.append(many_table(many))
        out.append(f"<p class=\"note\">All connections to /send-message/global, opened before the timed phase; each "
                   f"sends {many['rate'] / many['connections']:g} msgs/s on the open-loop schedule, {many['size']} B, "
                   f"{many['seconds']:g} s. Daemon CPU over the timed phase only.</p>")
    if idle := result.get("idle"):
        out.append(f"<p class=\"note\">Idle connections: {idle['connections']:,} open → daemon RSS "
                   f"{idle['rssBeforeKiB'] / 1024:.1f} MiB → {idle['rssAfterKiB'] / 1024:.1f} MiB, "
                   f"{idle['kibPerConnection']:.2f} KiB per idle connection.</p>")
    if result.get("comparison") is not None:
        out.append(f"<h2>Against the baseline {esc(baseline_path or '')}</h2>")
        out.append("<p class=\"note\">Change of the medians; tolerance: the larger run-to-run spread of the two runs "
                   "(measured with --repeat ≥ 2, else the figure's default). WORSE: moved the wrong way by more.</p>")
        out.append(comparison_table(result["comparison"]) if result["comparison"]
                   else "<p>No cell of this run matches one of the baseline.</p>")

    if many and not cells:
        out.append("<h2>Charts</h2><p class=\"note\">Throughput: acks received in 100 ms intervals. Latency: "
                   "percentiles of send → ack (x axis in nines: 90, 99, 99.9 …; the last point is the maximum).</p>")
    elif cells:
        out.append("<h2>Charts</h2><p class=\"note\">Throughput in 100 ms intervals, each line from its own run "
                   "(the median one). Daemon, written: messages the load generator wrote into its WebSocket connections "
                   "in the full-speed run without acks; the daemon's socket buffers, rings and librdkafka's queue absorb "
                   "a first burst, then TCP backpressure holds it to the daemon's pace, and it drops to 0 while the last "
                   "messages are still being delivered. Daemon, acked: acks received in the ack-mode maximum run, what "
                   "the daemon confirmed as in Kafka. Raw: librdkafka delivery reports. Latency: percentiles of send → "
                   "ack (x axis in nines: 90, 99, 99.9 …; the last point is the maximum).</p>")
    for r in cells:
        out.append(f"<h3>{esc(topics_label(r['chats']))}, {r['connections']} connections, {r['size']} B</h3>")
        out.append('<div class="charts">')
        out.append(throughput_chart("Throughput over time (full speed)", [
            ("daemon: written", DAEMON_COLOR, r["daemon"].get("throughputSeries") or []),
            ("daemon: acked (ack mode)", ACKED_COLOR, r["ackMax"].get("throughputSeries") or []),
            ("raw: delivered", RAW_COLOR, r["raw"].get("throughputSeries") or []),
        ]))
        out.append(latency_chart(f"Ack latency at {r['halfRate']:,} msgs/s (half the ack-mode max)", [
            ("daemon", LATENCY_COLOR, r["latency"].get("latencyCurve") or []),
        ]))
        out.append("</div>")
    if many:
        rep = many["report"]
        out.append(f"<h3>{many['connections']:,} connections at {many['rate']:,} msgs/s with acks</h3>")
        out.append('<div class="charts">')
        out.append(throughput_chart("Acked messages per second", [
            ("daemon (acked)", DAEMON_COLOR, rep.get("throughputSeries") or []),
        ]))
        out.append(latency_chart(f"Ack latency, {many['connections']:,} connections", [
            ("daemon", LATENCY_COLOR, rep.get("latencyCurve") or []),
        ]))
        out.append("</div>")
    out.append("</body></html>\n")
    return "\n".join(out)
