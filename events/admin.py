"""Admin pages: devices to configure, events and unparsed messages to read."""

import json

from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from import_export.formats import base_formats

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
from events.display import visible
from events.exporting import EventResource, exceeds_limit, export_row_limit
from events.models import Device, DeviceAddress, Event, UnparsedMessage
from events.search import SearchError, parse_search


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
    inlines = [DeviceAddressInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("addresses")

    @admin.display(description=_("addresses"))
    def address_list(self, obj: Device) -> str:
        return ", ".join(address.address for address in obj.addresses.all())


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


@admin.register(UnparsedMessage)
class UnparsedMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "sender", "device", "transport", "reason", "preview"]
    list_filter = ["transport", "device"]
    list_select_related = ["device"]
    ordering = ["-received_at", "-id"]
    show_full_result_count = False
    fields = ["received_at", "sender", "device", "transport", "reason", "raw_text"]
    readonly_fields = fields

    @admin.display(description=_("message"))
    def preview(self, obj: UnparsedMessage) -> str:
        return visible_text(bytes(obj.raw))[:120]

    @admin.display(description=_("raw bytes"))
    def raw_text(self, obj: UnparsedMessage) -> str:
        return visible_text(bytes(obj.raw))


def visible_text(raw: bytes) -> str:
    """Render bytes as text with control characters and bad UTF-8 visible.

    The admin escapes HTML on output, so the result is safe to display;
    what this adds is that NUL, escape sequences and invalid bytes show as
    ``\\x00``-style escapes instead of vanishing or acting on the terminal.
    """
    text = raw.decode("utf-8", errors="backslashreplace")
    return "".join(
        char if char.isprintable() or char == " " else repr(char)[1:-1] for char in text
    )
