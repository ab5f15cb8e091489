"""Admin pages: devices to configure, events and unparsed messages to read."""

import json
import logging
from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from events import health_views
from events.admin_columns import (
    EVENT_DETAIL_FIELDS,
    country_column,
    endpoint_links,
    source_column,
)
from events.admin_filters import (
    DestinationAddressFilter,
    DestinationPortFilter,
    DeviceFilter,
    InterfaceFilter,
    IPVersionFilter,
    ProtocolFilter,
    SourceAddressFilter,
    SourceCountryFilter,
    TimeWindowFilter,
    device_names,
)
from events.admin_paging import (
    PeekPaginator,
    narrowed,
    newest_event_time,
    requested_page,
)
from events.display import visible, visible_bytes
from events.exporting import EventResource, exceeds_limit, export_row_limit
from events.health import DeviceHealth, device_health
from events.models import (
    Device,
    DeviceAddress,
    Event,
    ImportedFile,
    UnparsedMessage,
)
from events.reparse import reparse
from events.search import SearchError, parse_search

logger = logging.getLogger(__name__)

# The changelist preview decodes only the start of a message: a 64 KiB
# line would otherwise be decoded in full for 120 characters.
PREVIEW_BYTES = 512


class ReadOnlyAdminMixin:
    """Events are evidence: nobody adds, changes or deletes them here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class DeviceAddressInline(admin.TabularInline):
    model = DeviceAddress
    extra = 1


class ImportedFileInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The files ``ingestfile`` imported for the device, newest first."""

    model = ImportedFile
    fields = [
        "name",
        "imported_at",
        "imports",
        "lines",
        "events",
        "unparsed",
        "size",
        "sha256",
    ]
    readonly_fields = fields
    ordering = ["-imported_at"]
    extra = 0


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "address_list",
        "hostname",
        "log_format",
        "time_zone",
        "is_enabled",
        "last_seen_at",
    ]
    list_filter = ["log_format", "is_enabled"]
    search_fields = ["name", "hostname", "addresses__address"]
    readonly_fields = ["last_seen_at", "created_at"]
    inlines = [DeviceAddressInline, ImportedFileInline]
    fieldsets = [
        (
            None,
            {"fields": ["name", "hostname", "log_format", "time_zone", "is_enabled"]},
        ),
        (
            _("Perimeter and health"),
            {"fields": ["internal_networks", "silent_after_minutes"]},
        ),
        (None, {"fields": ["last_seen_at", "created_at"]}),
    ]

    class Media:
        css = {"all": ["events/health.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("addresses")

    def get_list_display(self, request):
        return [*super().get_list_display(request), health_column()]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "health/",
                view(partial(health_views.overview, self)),
                name="events_device_health_overview",
            ),
            path(
                "<path:object_id>/health/",
                view(partial(health_views.device_page, self)),
                name="events_device_health",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("addresses"))
    def address_list(self, obj: Device) -> str:
        return ", ".join(address.address for address in obj.addresses.all())


def health_column():
    """Return a changelist column showing each device's health state.

    The states of all devices are computed on first use, once per request
    (a few aggregate queries), not once per row.
    """
    states: dict[int, DeviceHealth] = {}

    @admin.display(description=_("health"))
    def health(obj: Device) -> str:
        if not states:
            devices = Device.objects.all()
            states.update({h.device.pk: h for h in device_health(devices)})
        found = states.get(obj.pk)
        label = found.state_label if found else "-"
        return format_html(
            '<a class="health-{}" href="{}">{}</a>',
            found.state if found else "unknown",
            reverse("admin:events_device_health", args=[obj.pk]),
            label,
        )

    return health


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, ExportMixin, admin.ModelAdmin):
    """Browse events: newest first, cheap filters, indexed search, export.

    Every page view issues a bounded number of queries, none of them a
    COUNT or DISTINCT over the event table (see admin_filters, admin_paging
    and templatetags.event_admin for how).
    """

    list_filter = [
        TimeWindowFilter,
        DeviceFilter,
        "action",
        "direction",
        ProtocolFilter,
        IPVersionFilter,
        InterfaceFilter,
        SourceCountryFilter,
        DestinationPortFilter,
        SourceAddressFilter,
        DestinationAddressFilter,
    ]
    # No join to the device table (see admin_filters.device_names).
    list_select_related = False
    ordering = ["-occurred_at", "-id"]
    date_hierarchy = "occurred_at"
    # The search box is parsed by events.search; naming a field here only
    # makes the admin show it.
    search_fields = ["src_ip"]
    search_help_text = _(
        "An address (198.51.100.7), a block (185.220.0.0/16, 2a01:4f8::/32), "
        "src: or dst: before either, a port (23/tcp, 445) or a country (CN)."
    )
    # Neither a full COUNT(*) nor per-choice counts (facets) on page views.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    list_max_show_all = 0
    actions = None
    fields = EVENT_DETAIL_FIELDS
    readonly_fields = EVENT_DETAIL_FIELDS

    resource_classes = [EventResource]
    export_formats = [base_formats.CSV, base_formats.XLSX, base_formats.JSON]
    import_export_change_list_template = "admin/events/event/change_list.html"

    def get_list_display(self, request):
        return [
            "time",
            "device_name",
            "colored_action",
            "direction",
            "interface_text",
            "protocol_text",
            source_column(request),
            country_column(request),
            "destination",
            "rule_text",
        ]

    def get_list_display_links(self, request, list_display):
        return ["time"]

    def get_paginator(self, request, queryset, per_page, **kwargs):
        newest = None
        if ORDER_VAR not in request.GET and narrowed(request):
            newest = newest_event_time()
        return PeekPaginator(
            queryset, per_page, requested_page(request), newest=newest, **kwargs
        )

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        try:
            return queryset.filter(parse_search(search_term)), False
        except SearchError as error:
            messages.warning(request, str(error))
            return queryset.none(), False

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("events.export_event")

    def export_action(self, request):
        if request.method == "POST" and self.has_export_permission(request):
            if exceeds_limit(self.get_export_queryset(request)):
                messages.error(
                    request,
                    _(
                        "This export would hold more than %(limit)s events. "
                        "Narrow the time or the filters and export again."
                    )
                    % {"limit": f"{export_row_limit():,}"},
                )
                changelist = reverse("admin:events_event_changelist")
                return HttpResponseRedirect(f"{changelist}?{request.GET.urlencode()}")
        return super().export_action(request)

    @admin.display(description=_("time"), ordering="occurred_at")
    def time(self, obj: Event) -> str:
        return timezone.localtime(obj.occurred_at).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description=_("device"), ordering="device_id")
    def device_name(self, obj: Event) -> str:
        return device_names().get(obj.device_id, str(obj.device_id))

    @admin.display(description=_("action"), ordering="action")
    def colored_action(self, obj: Event) -> str:
        colors = {"block": "#b00020", "reject": "#b35c00", "pass": "#1b7f3b"}
        if not obj.action:
            return "-"
        return format_html(
            '<span style="color:{}">{}</span>',
            colors.get(obj.action, "inherit"),
            obj.get_action_display(),
        )

    @admin.display(description=_("protocol"), ordering="protocol")
    def protocol_text(self, obj: Event) -> str:
        return visible(obj.protocol)

    @admin.display(description=_("destination"))
    def destination(self, obj: Event) -> str:
        return endpoint_links(obj.dst_ip, obj.dst_port, "dst_ip", port_link=True)

    @admin.display(description=_("rule"), ordering="rule")
    def rule_text(self, obj: Event) -> str:
        return visible(obj.rule)

    @admin.display(description=_("interface"))
    def interface_text(self, obj: Event) -> str:
        return visible(obj.interface)

    @admin.display(description=_("TCP flags"))
    def tcp_flags_text(self, obj: Event) -> str:
        return visible(obj.tcp_flags)

    @admin.display(description=_("syslog hostname"))
    def hostname_text(self, obj: Event) -> str:
        return visible(obj.hostname)

    @admin.display(description=_("other fields"))
    def extra_text(self, obj: Event) -> str:
        return visible(json.dumps(obj.extra, ensure_ascii=False, sort_keys=True))


class ReasonFilter(admin.SimpleListFilter):
    """Filter by failure reason, offering the most frequent ones.

    A plain field filter would list every distinct reason, and reasons
    carry attacker-chosen text; the top few by count are what an operator
    works through.
    """

    title = _("reason")
    parameter_name = "reason"
    limit = 30

    def lookups(self, request, model_admin):
        rows = (
            UnparsedMessage.objects.values("reason")
            .annotate(total=Count("id"))
            .order_by("-total", "reason")[: self.limit]
        )
        return [
            (row["reason"], f"{row['reason'][:80]} ({row['total']})") for row in rows
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(reason=self.value())
        return queryset


@admin.register(UnparsedMessage)
class UnparsedMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "sender", "device", "transport", "reason", "preview"]
    list_filter = [
        "device",
        ReasonFilter,
        ("received_at", admin.DateFieldListFilter),
        "transport",
    ]
    list_select_related = ["device"]
    ordering = ["-received_at", "-id"]
    show_full_result_count = False
    fields = ["received_at", "sender", "device", "transport", "reason", "raw_text"]
    readonly_fields = fields
    actions = ["reparse_selected"]

    @admin.display(description=_("message"))
    def preview(self, obj: UnparsedMessage) -> str:
        return visible_bytes(bytes(obj.raw)[:PREVIEW_BYTES])[:120]

    @admin.display(description=_("raw bytes"))
    def raw_text(self, obj: UnparsedMessage) -> str:
        return visible_bytes(bytes(obj.raw))

    def has_reparse_permission(self, request) -> bool:
        return request.user.has_perm("events.reparse_unparsedmessage")

    @admin.action(description=_("Re-parse selected"), permissions=["reparse"])
    def reparse_selected(self, request, queryset) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        result = reparse(ids)
        logger.info(
            "re-parse by user=%s selected=%d moved=%d",
            request.user.get_username(),
            len(ids),
            result.moved,
        )
        self.message_user(
            request,
            _(
                "Re-parsed %(selected)d messages: %(moved)d became events, "
                "%(failed)d still do not parse, %(skipped)d have no device, "
                "%(gone)d were already gone."
            )
            % {
                "selected": len(ids),
                "moved": result.moved,
                "failed": result.still_unparsed,
                "skipped": result.skipped,
                "gone": result.gone,
            },
            messages.SUCCESS if result.moved else messages.WARNING,
        )
