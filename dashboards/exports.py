"""Report results as CSV, XLSX and JSON files, formula-escaped.

Labels come from the network (interface names, rule labels), so every
text cell passes through ``events.exporting.escape_formula`` before it is
written, in all three formats, as the event export does; counts stay
numbers.
"""

import tablib
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from dashboards.query import ReportResult
from events.exporting import escape_formula

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    "json": ("application/json", "json"),
}


def result_dataset(result: ReportResult) -> tablib.Dataset:
    """Return the result's table: optional time, dimensions, then the count."""
    over_time = result.spec.is_over_time
    headers = [*result.dimension_titles, result.metric_title]
    if over_time:
        headers.insert(0, _("time"))
    dataset = tablib.Dataset(headers=[escape_formula(str(h)) for h in headers])
    for row in result.rows:
        cells = [escape_formula(label) for label in row.labels]
        if over_time:
            cells.insert(0, timezone.localtime(row.bucket).isoformat())
        dataset.append([*cells, row.value])
    return dataset


def export(result: ReportResult, kind: str, name: str) -> tuple[bytes, str, str]:
    """Return the file's bytes, content type and file name.

    Raises KeyError for a ``kind`` that is not one of FORMATS.
    """
    content_type, extension = FORMATS[kind]
    data = result_dataset(result).export(kind)
    if isinstance(data, str):
        data = data.encode("utf-8")
    stamp = timezone.localtime(result.window.end).strftime("%Y%m%d-%H%M")
    filename = f"{slugify(name) or 'report'}-{stamp}.{extension}"
    return data, content_type, filename
