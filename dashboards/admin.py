"""Admin pages where reports and dashboards are built and listed.

Everyone with view permission sees shared rows and their own. Among those
with the change or delete permission, only the owner (or a superuser)
changes or deletes a report or dashboard, except those that came with
fwsiem (no owner), which any of them may.
"""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dashboards.describe import describe_question
from dashboards.forms import DashboardForm, SavedReportForm
from dashboards.models import Dashboard, DashboardPanel, SavedReport
from dashboards.spec import SpecError


def may_edit(user, obj) -> bool:
    return obj is None or user.is_superuser or obj.owner_id in (None, user.pk)


class OwnedAdmin(admin.ModelAdmin):
    """Visibility and ownership rules shared by reports and dashboards."""

    readonly_fields = ["owner", "created_at", "updated_at"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("owner")
        return queryset.visible_to(request.user)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and may_edit(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and may_edit(request.user, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("open"))
    def open_link(self, obj) -> str:
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("open"))


@admin.register(SavedReport)
class SavedReportAdmin(OwnedAdmin):
    form = SavedReportForm
    list_display = ["name", "question", "chart", "owner", "is_shared", "open_link"]
    list_filter = ["is_shared", "chart", "bucket"]
    search_fields = ["name", "description"]
    filter_horizontal = ["filter_devices"]
    fieldsets = [
        (None, {"fields": ["name", "description", "is_shared", "owner"]}),
        (
            _("Time"),
            {
                "fields": [
                    "range_kind",
                    ("range_last", "range_unit"),
                    ("range_from", "range_to"),
                    "bucket",
                ]
            },
        ),
        (
            _("What to count"),
            {"fields": ["metric", "dimension_1", "dimension_2", "top_n", "chart"]},
        ),
        (
            _("Filters"),
            {
                "fields": [
                    "filter_actions",
                    "filter_directions",
                    "filter_protocols",
                    "filter_ports",
                    "country_mode",
                    "filter_countries",
                    "filter_devices",
                    "filter_src_networks",
                    "filter_dst_networks",
                ]
            },
        ),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("question"))
    def question(self, obj: SavedReport) -> str:
        try:
            return describe_question(obj.to_spec())
        except SpecError as error:
            return str(error)[:200]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("filter_devices")


class DashboardPanelInline(admin.TabularInline):
    model = DashboardPanel
    extra = 1
    fields = ["position", "report", "width"]
    ordering = ["position", "id"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "report":
            kwargs["queryset"] = SavedReport.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Dashboard)
class DashboardAdmin(OwnedAdmin):
    form = DashboardForm
    list_display = ["name", "panel_count", "owner", "is_shared", "open_link"]
    list_filter = ["is_shared"]
    search_fields = ["name", "description"]
    inlines = [DashboardPanelInline]
    fieldsets = [
        (None, {"fields": ["name", "description", "is_shared", "owner"]}),
        (
            _("Time"),
            {
                "fields": [
                    "range_kind",
                    ("range_last", "range_unit"),
                    ("range_from", "range_to"),
                ],
                "description": _("A range set here replaces the range of every panel."),
            },
        ),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("panels"))
    def panel_count(self, obj: Dashboard) -> int:
        return len(obj.panels.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("panels")
