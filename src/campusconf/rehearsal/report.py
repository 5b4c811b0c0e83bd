"""The rehearsal's report: an HTML page (charts as inline SVG) and a markdown table."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from html import escape

from campusconf.rehearsal.measures import Measures
from campusconf.rehearsal.projection import Projection

HISTOGRAM_HOURS = (1, 6, 24, 48, 72, 120, 168, 240, 360)


def _side_by_side(runs: list[Measures]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """One column per run (CampusConf, then the manual process if it ran)."""
    heads = ["manual process (seed pages)" if m.manual else "CampusConf" for m in runs]
    rows = [
        ("members", [str(m.members) for m in runs]),
        *[
            (f"active by day {d}", [f"{m.active_by_day(d):.1%}" for m in runs])
            for d in (1, 3, 7, 15)
        ],
        ("active at the end", [f"{m.active_share:.1%}" for m in runs]),
        ("not active at the end", [str(len(m.stuck)) for m in runs]),
        ("median hours to active", [_median_hours(m) for m in runs]),
        ("inquiries opened", [str(sum(m.inquiries.values())) for m in runs]),
        ("help-desk mails", [str(sum(m.helpdesk_mails.values())) for m in runs]),
        ("staff actions needed", [str(m.staff_actions) for m in runs]),
        ("mails per member (mean)", [str(m.mails.get("mean", 0)) for m in runs]),
        ("wall time (s)", [f"{m.wall_seconds:.0f}" for m in runs]),
    ]
    return heads, rows


def markdown_table(runs: list[Measures]) -> str:
    """The side-by-side measures for a terminal or docs/rehearsal.md."""
    heads, rows = _side_by_side(runs)
    lines = ["| measure | " + " | ".join(heads) + " |", "|---|" + "---|" * len(runs)]
    lines += [f"| {name} | " + " | ".join(values) + " |" for name, values in rows]
    return "\n".join(lines) + "\n"


def _side_by_side_html(runs: list[Measures]) -> str:
    heads, rows = _side_by_side(runs)
    head = "".join(f"<th>{escape(h)}</th>" for h in ["measure", *heads])
    body = "".join(
        f"<tr><td>{escape(name)}</td>" + "".join(f"<td>{escape(v)}</td>" for v in values) + "</tr>"
        for name, values in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _median_hours(m: Measures) -> str:
    hours = sorted(m.active_after_hours.values())
    return f"{hours[len(hours) // 2]:.1f}" if hours else "-"


def _line_chart(runs: list[Measures], width: int = 640, height: int = 240) -> str:
    days = max((len(m.per_day) for m in runs), default=0) or 1
    pad, right = 40, 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="active members per simulated day">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - right}" y2="{height - pad}" '
        'stroke="#333"/>',
        f'<line x1="{pad}" y1="10" x2="{pad}" y2="{height - pad}" stroke="#333"/>',
    ]
    for share in (0.0, 0.5, 1.0):
        y = height - pad - share * (height - pad - 10)
        parts.append(
            f'<text x="2" y="{y + 4:.0f}" font-size="10">{share:.0%}</text>'
            f'<line x1="{pad}" y1="{y:.0f}" x2="{width - 10}" y2="{y:.0f}" stroke="#ddd"/>'
        )
    # The target: 99 % active by day 15.
    target = height - pad - 0.99 * (height - pad - 10)
    parts.append(
        f'<line x1="{pad}" y1="{target:.1f}" x2="{width - 10}" y2="{target:.1f}" '
        'stroke="#2e7d32" stroke-dasharray="4 3"/>'
        f'<text x="{width - 60}" y="{target + 12:.0f}" font-size="10" fill="#2e7d32">'
        "target 99 %</text>"
    )
    colours = ("#1b6ac9", "#c0392b")
    for run, colour in zip(runs, colours, strict=False):
        points = [(0, 0.0)] + [(row["day"], row["active_share"]) for row in run.per_day]
        xy = " ".join(
            f"{pad + d / days * (width - pad - right):.1f},"
            f"{height - pad - s * (height - pad - 10):.1f}"
            for d, s in points
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{xy}"/>')
    for d in range(0, days + 1, max(1, days // 15)):
        x = pad + d / days * (width - pad - right) - 3
        parts.append(f'<text x="{x:.0f}" y="{height - pad + 14}" font-size="10">{d}</text>')
    parts.append(
        f'<text x="{width // 2}" y="{height - 8}" font-size="11">simulated day</text></svg>'
    )
    return "".join(parts)


def _histogram(m: Measures, width: int = 640, height: int = 200) -> str:
    edges = (0, *HISTOGRAM_HOURS)
    counts = [
        sum(1 for h in m.active_after_hours.values() if lo < h <= hi)
        for lo, hi in itertools.pairwise(edges)
    ]
    counts.append(len(m.stuck))
    labels = [f"≤{h}h" for h in HISTOGRAM_HOURS] + ["never"]
    top = max(counts, default=0) or 1
    bar = (width - 20) / len(counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'role="img" aria-label="time to active">'
    ]
    for i, (count, label) in enumerate(zip(counts, labels, strict=True)):
        h = count / top * (height - 50)
        x = 10 + i * bar
        parts.append(
            f'<rect x="{x + 2:.0f}" y="{height - 30 - h:.0f}" width="{bar - 4:.0f}" '
            f'height="{h:.0f}" fill="{"#c0392b" if label == "never" else "#1b6ac9"}"/>'
            f'<text x="{x + 4:.0f}" y="{height - 16}" font-size="10">{label}</text>'
            f'<text x="{x + 4:.0f}" y="{height - 34 - h:.0f}" font-size="10">{count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: dict[str, object], head: tuple[str, str]) -> str:
    if not rows:
        return "<p>none</p>"
    body = "".join(
        f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>" for k, v in rows.items()
    )
    return f"<table><tr><th>{head[0]}</th><th>{head[1]}</th></tr>{body}</table>"


def _run_section(m: Measures) -> str:
    title = "Manual process (the seed pages)" if m.manual else "CampusConf"
    stuck = "".join(
        f"<tr><td>{s.common_id}</td><td>{escape(s.reason)}</td><td>{escape(s.told)}</td>"
        f"<td>{'<br>'.join(escape(h) for h in s.history)}</td></tr>"
        for s in m.stuck
    )
    stuck_table = (
        "<table><tr><th>member</th><th>reason</th><th>what they were told</th>"
        f"<th>last events</th></tr>{stuck}</table>"
        if stuck
        else "<p>Every member is active.</p>"
    )
    return f"""<section><h2>{title}</h2>
<p>Active at the end: <strong>{m.active_share:.1%}</strong> of {m.members};
by day 15: {m.active_by_day(15):.1%}. Staff actions needed: <strong>{m.staff_actions}</strong>.
Wall time {m.wall_seconds:.0f} s.</p>
<h3>Time to active (hours from the start of term)</h3>{_histogram(m)}
<h3>Members not active at the end ({len(m.stuck)})</h3>{stuck_table}
<h3>Inquiries opened, and why</h3>{_table(dict(m.inquiries), ("service: topic", "count"))}
<h3>Help-desk mails the manual process needed</h3>{_table(dict(m.helpdesk_mails), ("why", "count"))}
<h3>Mails per member</h3>{_table(dict(m.mails), ("measure", "value"))}
<h3>Vendor calls per member, against the rate budget</h3>{
        _table(dict(m.vendor_calls), ("calls", "per member, or total"))
    }
</section>"""


def _projection_section(projections: list[Projection]) -> str:
    if not projections:
        return ""
    rows = "".join(
        f"<tr><td>{escape(p.service)}</td><td>{p.members:,}</td>"
        f"<td>{p.creates_per_minute:g}</td><td>{'none' if p.daily_cap is None else f'{p.daily_cap:,}'}</td>"
        f"<td>day {p.last_invitation_day} ({p.last_invitation_hours:.1f} h)</td>"
        f"<td><strong>day {p.last_active_day}</strong></td></tr>"
        for p in projections
    )
    slowest = max(p.slowest_hours for p in projections)
    return f"""<section id="projection"><h2>The real cohort: when the last member will be active</h2>
<p>From the vendors' limits as the engine keeps to them (creates paced at the per-second
limit with a look-up each, Zoom's daily create cap from 00:00 UTC), and the slowest member
of this rehearsal ({slowest:.1f} hours from the start of term to active).</p>
<table><tr><th>service</th><th>members</th><th>creates a minute</th><th>daily create cap</th>
<th>last invitation</th><th>last member active</th></tr>{rows}</table></section>"""


def report_fragment(
    runs: list[Measures], *, seed: int, mix_name: str, projections: Sequence[Projection] = ()
) -> str:
    """The report without its page: the back office shows it inside its own, whose
    Content-Security-Policy allows no style attribute (the legend's colours are SVG)."""
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    legend = " · ".join(
        f'<svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" '
        f'fill="{c}"/></svg> {"manual process" if m.manual else "CampusConf"}'
        for m, c in zip(runs, ("#1b6ac9", "#c0392b"), strict=False)
    )
    return f"""<p>{runs[0].members} simulated members, seed {seed}, mix {escape(mix_name)}; run {when}.</p>
{_projection_section(list(projections))}
<h2>Side by side</h2>{_side_by_side_html(runs)}
<h2>Active members per simulated day</h2><p>{legend}</p>{_line_chart(runs)}
{"".join(_run_section(m) for m in runs)}"""


def html_report(
    runs: list[Measures], *, seed: int, mix_name: str, projections: Sequence[Projection] = ()
) -> str:
    fragment = report_fragment(runs, seed=seed, mix_name=mix_name, projections=projections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Term-start rehearsal</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse;margin:.5rem 0}}td,th{{border:1px solid #ccc;padding:.2rem .5rem;
text-align:left;vertical-align:top;font-size:.9rem}}</style></head><body>
<h1>Term-start rehearsal</h1>
{fragment}
</body></html>
"""
