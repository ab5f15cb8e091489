"""Report and dashboard pages, and report exports.

Pages are for logged-in staff with view permission on the model, and show
only shared rows or the user's own. Viewing runs the report's bounded,
time-limited, read-only queries; exporting is a POST with a CSRF token and
needs the export permission (analysts).
"""

import logging
import time

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from dashboards import charts
from dashboards.admin import may_edit
from dashboards.describe import describe_filters, describe_question, describe_range
from dashboards.exports import FORMATS, export
from dashboards.models import Dashboard, SavedReport
from dashboards.query import run_report
from dashboards.spec import RangeUnit, SpecError, parse_spec
from dashboards.timelimit import ReportTimeout

logger = logging.getLogger(__name__)

# Ranges a viewer may pick on a dashboard page, replacing the panels'.
RANGE_CHOICES = {
    "24h": (24, RangeUnit.HOURS, gettext_lazy("last 24 hours")),
    "7d": (7, RangeUnit.DAYS, gettext_lazy("last 7 days")),
    "30d": (30, RangeUnit.DAYS, gettext_lazy("last 30 days")),
}


def _report_for(request, pk: int) -> SavedReport:
    if not request.user.has_perm("dashboards.view_savedreport"):
        raise PermissionDenied
    visible = SavedReport.objects.visible_to(request.user)
    return get_object_or_404(visible.prefetch_related("filter_devices"), pk=pk)


def _device_ids(report: SavedReport) -> list[int]:
    return [device.pk for device in report.filter_devices.all()]


def panel_context(
    report: SavedReport,
    key: str,
    override: dict | None = None,
    seconds: float | None = None,
) -> dict:
    """Run one report and return what its template part needs.

    ``override`` replaces the report's range keys; ``seconds`` narrows the
    time budget. Errors (an invalid
    stored definition, a timeout) become a message in the returned context
    instead of an exception, so that one failing panel leaves the others.
    """
    context = {
        "report": report,
        "key": key,
        "figure_id": f"figure-{key}",
        "error": None,
        "result": None,
    }
    try:
        spec = parse_spec({**report.spec_data(_device_ids(report)), **(override or {})})
        result = run_report(spec, seconds=seconds)
    except SpecError as error:
        context["error"] = _("This report's definition is not valid: %(error)s") % {
            "error": error
        }
        return context
    except ReportTimeout as error:
        context["error"] = str(error)
        return context

    context.update(
        result=result,
        figure=charts.figure(result),
        question=describe_question(spec),
        range_text=describe_range(spec, result.window),
        filters=describe_filters(spec),
    )
    return context


def opened_from_elsewhere(request) -> bool:
    """Tell a GET that another site started (a link, a redirect, a script).

    Browsers say where a request comes from in ``Sec-Fetch-Site``. A page
    that runs queries over the event table is then shown as a button
    instead (a POST with the CSRF token), so no other site can make a
    logged-in browser run reports. Typed addresses, bookmarks and links
    within fwsiem say ``none`` or ``same-origin`` and run at once; clients
    that send no such header (scripts, older browsers) are not told apart.
    """
    site = request.headers.get("Sec-Fetch-Site", "none")
    return request.method == "GET" and site not in ("same-origin", "none")


def confirm_run(request, name: str):
    context = {
        **admin.site.each_context(request),
        "title": name,
        "query": request.GET.urlencode(),
    }
    return render(request, "dashboards/confirm_run.html", context)


@staff_member_required
@require_http_methods(["GET", "POST"])
def report_page(request, pk: int):
    report = _report_for(request, pk)
    if opened_from_elsewhere(request):
        return confirm_run(request, report.name)
    user = request.user
    context = {
        **admin.site.each_context(request),
        **panel_context(report, "report"),
        "title": report.name,
        "export_formats": list(FORMATS),
        "can_export": user.has_perm("dashboards.export_savedreport"),
        "can_change": user.has_perm("dashboards.change_savedreport")
        and may_edit(user, report),
    }
    return render(request, "dashboards/report.html", context)


@staff_member_required
@require_POST
def report_export(request, pk: int, kind: str):
    if kind not in FORMATS:
        raise Http404
    if not request.user.has_perm("dashboards.export_savedreport"):
        raise PermissionDenied
    report = _report_for(request, pk)
    try:
        result = run_report(report.to_spec(_device_ids(report)))
    except (SpecError, ReportTimeout) as error:
        return HttpResponse(str(error), status=422, content_type="text/plain")

    data, content_type, filename = export(result, kind, report.name)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    logger.info(
        "report exported report=%s kind=%s rows=%d user=%s",
        report.pk,
        kind,
        len(result.rows),
        request.user.pk,
    )
    return response


@staff_member_required
@require_http_methods(["GET", "POST"])
def dashboard_page(request, pk: int):
    if not request.user.has_perm("dashboards.view_dashboard"):
        raise PermissionDenied
    dashboard = get_object_or_404(Dashboard.objects.visible_to(request.user), pk=pk)
    if opened_from_elsewhere(request):
        return confirm_run(request, dashboard.name)
    began = time.monotonic()

    chosen = request.GET.get("range", "")
    override = _override(dashboard, chosen)
    visible = set()
    if request.user.has_perm("dashboards.view_savedreport"):
        reports = SavedReport.objects.visible_to(request.user)
        visible = set(reports.values_list("pk", flat=True))
    panels = []
    deadline = began + settings.DASHBOARD_TIME_LIMIT
    for panel in dashboard.panels.select_related("report").prefetch_related(
        "report__filter_devices"
    ):
        left = deadline - time.monotonic()
        if panel.report_id not in visible:
            context = {"private": True, "error": _("This report is private.")}
        elif left <= 0:
            context = {"report": panel.report, "error": _spent_message()}
        else:
            key = f"panel-{panel.pk}"
            context = panel_context(panel.report, key, override, seconds=left)
        panels.append({**context, "panel": panel})

    context = {
        **admin.site.each_context(request),
        "title": dashboard.name,
        "dashboard": dashboard,
        "panels": panels,
        "range_choices": [
            (key, label) for key, (_n, _u, label) in RANGE_CHOICES.items()
        ],
        "chosen_range": chosen if chosen in RANGE_CHOICES else "",
        "seconds": time.monotonic() - began,
        "can_change": request.user.has_perm("dashboards.change_dashboard")
        and may_edit(request.user, dashboard),
    }
    return render(request, "dashboards/dashboard.html", context)


def _spent_message() -> str:
    return _(
        "Not computed: the panels above used the dashboard's whole time "
        "budget of %(seconds)d s."
    ) % {"seconds": settings.DASHBOARD_TIME_LIMIT}


def _override(dashboard: Dashboard, chosen: str) -> dict | None:
    """Return range keys replacing the panels' (request, then dashboard)."""
    if chosen in RANGE_CHOICES:
        number, unit, _label = RANGE_CHOICES[chosen]
        return {"range_last": number, "range_unit": unit}
    return dashboard.range_data()
