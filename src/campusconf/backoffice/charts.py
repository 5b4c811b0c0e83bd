"""Server-side SVG charts: no script, no CDN, readable by screen readers via <title>."""

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 12, 36
COLOURS = ("#0b5cad", "#2e8540", "#a1260d")


def _nice_max(value: int) -> int:
    """A round top that four grid lines divide evenly: 3 → 4, 13 → 16, 140 → 200."""
    if value <= 4:
        return 4
    step = 10 ** (len(str(value)) - 1)
    for factor in (1, 2, 4, 8, 10):
        top = int(step * factor)
        if top >= value and top % 4 == 0:
            return top
    return -(-value // 4) * 4


def grouped_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
) -> SafeString:
    """Bars per label, one colour per series, with a legend and a y axis."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = _nice_max(max((v for _name, values in series for v in values), default=0))
    slot = plot_w / max(len(labels), 1)
    bar = max(slot * 0.8 / max(len(series), 1), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 20}" '
        f'role="img" aria-labelledby="chart-title"><title id="chart-title">{escape(title)}</title>'
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dde1e7"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
            f'fill="#556070">{value:g}</text>'
        )
    for index, label in enumerate(labels):
        x0 = LEFT + slot * index + slot * 0.1
        for s, (name, values) in enumerate(series):
            value = values[index]
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + s * bar:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}">'
                f"<title>{escape(label)}: {escape(name)} {value}</title></rect>"
            )
        # Every label on a short range; one in seven (a week) on a long one.
        if len(labels) <= 10 or index % 7 == 0:
            parts.append(
                f'<text x="{x0 + slot * 0.4:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" '
                f'text-anchor="middle" fill="#556070">{escape(label)}</text>'
            )
    for s, (name, _values) in enumerate(series):
        x = LEFT + s * 160
        parts.append(
            f'<rect x="{x}" y="{HEIGHT}" width="10" height="10" fill="{COLOURS[s % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{HEIGHT + 9}" font-size="11" fill="#1d2433">{escape(name)}</text>'
        )
    parts.append("</svg>")
    # Every piece of text above went through escape(); numbers are formatted by us.
    return mark_safe("".join(parts))  # noqa: S308
