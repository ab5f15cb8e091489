"""Plotly figures for report results, as plain JSON-ready dictionaries.

The page hands the figure to plotly.js through ``json_script``. Plotly
renders a few HTML-like tags inside text (``<b>``, ``<a href>``), and
labels come from the network (interface names, rule labels), so every
label is HTML-escaped here; plotly shows the escaped text as typed.
"""

from html import escape

from django.utils import timezone
from django.utils.translation import gettext as _

from dashboards.query import ReportResult
from dashboards.spec import Chart

HEIGHT = 360


def _text(value: object) -> str:
    return escape(str(value), quote=False)


def _bucket_axis(result: ReportResult) -> list[str]:
    # Plotly has no time zones: local wall-clock text keeps the axis in the
    # viewer's configured zone.
    return [timezone.localtime(b).strftime("%Y-%m-%d %H:%M") for b in result.buckets]


def figure(result: ReportResult) -> dict | None:
    """Return a Plotly figure (``data`` and ``layout``), or None for tables."""
    chart = result.spec.chart
    if chart == Chart.TABLE or not result.rows:
        return None
    if chart == Chart.BAR:
        data, barmode = _bars(result)
    else:
        data, barmode = _over_time(result, chart)

    layout = {
        "height": HEIGHT,
        "margin": {"l": 60, "r": 20, "t": 20, "b": 80},
        "barmode": barmode,
        "showlegend": len(data) > 1,
        "legend": {"orientation": "h"},
        "yaxis": {"title": {"text": _text(result.metric_title)}, "rangemode": "tozero"},
        "xaxis": {"type": "date"} if chart != Chart.BAR else {"type": "category"},
    }
    return {"data": data, "layout": layout}


def _bars(result: ReportResult) -> tuple[list[dict], str]:
    """One bar per first-dimension value; a second dimension stacks traces."""
    if len(result.spec.dimensions) < 2:
        x = [_text(row.labels[0]) for row in result.rows]
        y = [row.value for row in result.rows]
        return [
            {"type": "bar", "x": x, "y": y, "name": _text(result.metric_title)}
        ], "group"

    categories = list(dict.fromkeys(_text(row.labels[0]) for row in result.rows))
    traces: dict[str, dict] = {}
    for row in result.rows:
        name = _text(row.labels[1])
        trace = traces.setdefault(
            name,
            {"type": "bar", "name": name, "x": categories, "y": [0] * len(categories)},
        )
        trace["y"][categories.index(_text(row.labels[0]))] += row.value
    return list(traces.values()), "stack"


def _over_time(result: ReportResult, chart: str) -> tuple[list[dict], str]:
    """One trace per series (the top keys and "other") over every bucket."""
    x = _bucket_axis(result)
    data = []
    for series in result.series:
        trace = {"x": x, "y": series.values, "name": _text(series.label)}
        if chart == Chart.STACKED:
            trace["type"] = "bar"
        else:
            trace.update({"type": "scatter", "mode": "lines"})
        data.append(trace)
    if not data:
        data.append({"type": "bar", "x": x, "y": [0] * len(x), "name": _("none")})
    return data, "stack"
