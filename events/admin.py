"""Admin pages: devices to configure, events and unparsed messages to read."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from events.models import Device, DeviceAddress, Event, UnparsedMessage


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
