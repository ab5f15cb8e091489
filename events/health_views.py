"""Admin views of ingest health: all devices, and one device in detail.

Mounted by DeviceAdmin.get_urls under the admin site's login and view
permission. Read-only: they issue a handful of aggregate queries and
render server-side SVG, with no script.
"""

from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from events.health import (
    device_health,
    last_report,
    listener_health,
    rate_bins,
    rate_chart,
    refused_senders,
)
from events.models import Device


def overview(model_admin, request):
    """List every device's health, the refused senders and the sockets."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    now = datetime.now(UTC)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Ingest health"),
        "rows": device_health(Device.objects.all(), now),
        "refused": refused_senders(now),
        "sockets": listener_health(now),
        "last_report": last_report(now),
        "now": now,
    }
    return TemplateResponse(
        request, "admin/events/device/health_overview.html", context
    )


def device_page(model_admin, request, object_id: str):
    """Show one device's rates over 24 hours, last seen and its state."""
    device = model_admin.get_object(request, object_id)
    if device is None:
        raise Http404(_("No such device."))
    if not model_admin.has_view_permission(request, device):
        raise PermissionDenied

    now = datetime.now(UTC)
    health = device_health([device], now)[0]
    chart = rate_chart(rate_bins(device, now), timezone.get_current_timezone())
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": device,
        "title": _("Ingest health of %(device)s") % {"device": device},
        "health": health,
        "chart": chart,
        "sockets": listener_health(now),
        "last_report": last_report(now),
        "now": now,
    }
    return TemplateResponse(request, "admin/events/device/health.html", context)
