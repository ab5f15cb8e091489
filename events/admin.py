"""Admin pages: devices to configure, events and unparsed messages to read."""

import logging
from functools import partial

from django.contrib import admin, messages
from django.db.models import Count
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from events import health_views
from events.health import DeviceHealth, device_health
from events.models import Device, DeviceAddress, Event, UnparsedMessage
from events.reparse import reparse

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
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "device",
        "colored_action",
        "direction",
        "interface",
        "protocol",
        "src_ip",
        "src_port",
        "dst_ip",
        "dst_port",
        "tcp_flags",
        "rule",
    ]
    list_filter = ["action", "direction", "ip_version", "protocol", "device"]
    list_select_related = ["device"]
    ordering = ["-occurred_at", "-id"]
    # A full COUNT(*) over millions of rows on every page view is what makes
    # changelists slow; the paginator shows "more" instead of a total.
    show_full_result_count = False
    list_per_page = 100

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
        return visible_text(bytes(obj.raw)[:PREVIEW_BYTES])[:120]

    @admin.display(description=_("raw bytes"))
    def raw_text(self, obj: UnparsedMessage) -> str:
        return visible_text(bytes(obj.raw))

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
