"""Admin pages: countries and groups, registry state, snapshots, runs."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin

from events.fields import pack_ip
from geo.lookups import describe
from geo.models import Country, CountryGroup, RefreshRun, Registry, Snapshot


class ReadOnlyAdminMixin:
    """Rows written by the refresh jobs: read here, never edited."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AddressLookupForm(forms.Form):
    address = forms.CharField(label=_("IP address"), max_length=64)

    def clean_address(self) -> str:
        value = self.cleaned_data["address"].strip()
        try:
            pack_ip(value)
        except ValueError:
            raise forms.ValidationError(
                _("Enter a valid IPv4 or IPv6 address."), code="invalid"
            ) from None
        return value


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_ja", "alpha3", "numeric", "is_iso"]
    list_filter = ["is_iso"]
    search_fields = ["code", "alpha3", "name", "name_ja"]
    list_per_page = 300
    change_list_template = "admin/geo/change_list_with_lookup.html"

    def get_urls(self):
        lookup = self.admin_site.admin_view(self.lookup_view)
        return [path("lookup/", lookup, name="geo_lookup"), *super().get_urls()]

    def lookup_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = AddressLookupForm(request.GET or None)
        info = describe(form.cleaned_data["address"]) if form.is_valid() else None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Country of an address"),
            "opts": self.model._meta,
            "form": form,
            "info": info,
        }
        return TemplateResponse(request, "admin/geo/lookup.html", context)


class CountryGroupResource(resources.ModelResource):
    """Groups as rows: name, description, member codes joined by commas."""

    countries = fields.Field(
        attribute="countries",
        column_name="countries",
        widget=widgets.ManyToManyWidget(Country, field="code", separator=","),
    )

    class Meta:
        model = CountryGroup
        import_id_fields = ["name"]
        fields = ["name", "description", "countries"]
        export_order = ["name", "description", "countries"]


@admin.register(CountryGroup)
class CountryGroupAdmin(ImportExportModelAdmin):
    resource_classes = [CountryGroupResource]
    list_display = ["name", "member_codes", "description"]
    search_fields = ["name", "description", "countries__code"]
    filter_horizontal = ["countries"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("countries")

    @admin.display(description=_("countries"))
    def member_codes(self, obj: CountryGroup) -> str:
        return ", ".join(country.code for country in obj.countries.all())


@admin.register(Registry)
class RegistryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "active_serial",
        "age",
        "active_ranges",
        "last_success_at",
        "last_attempt_at",
        "short_error",
        "is_running",
    ]
    list_select_related = ["active_snapshot"]
    change_list_template = "admin/geo/change_list_with_lookup.html"
    actions = ["refresh_now"]

    @admin.display(description=_("active snapshot"))
    def active_serial(self, obj: Registry) -> str:
        snapshot = obj.active_snapshot
        return f"{snapshot.serial} ({snapshot.file_date})" if snapshot else "-"

    @admin.display(description=_("age (days)"))
    def age(self, obj: Registry) -> str:
        if obj.active_snapshot is None:
            return "-"
        return str((timezone.now().date() - obj.active_snapshot.file_date).days)

    @admin.display(description=_("ranges"))
    def active_ranges(self, obj: Registry) -> str:
        return str(obj.active_snapshot.range_count) if obj.active_snapshot else "-"

    @admin.display(description=_("last error"))
    def short_error(self, obj: Registry) -> str:
        if not obj.last_error:
            return "-"
        text = obj.last_error[:120]
        return format_html('<span title="{}">{}</span>', obj.last_error[:2000], text)

    @admin.display(description=_("running"), boolean=True)
    def is_running(self, obj: Registry) -> bool:
        return bool(obj.locked_until and obj.locked_until > timezone.now())

    @admin.action(description=_("Refresh now"), permissions=["refresh"])
    def refresh_now(self, request, queryset) -> None:
        from django_q.tasks import async_task

        from geo.tasks import REGISTRIES_TIMEOUT

        codes = list(queryset.values_list("code", flat=True))
        for code in codes:
            async_task("geo.tasks.refresh_registry", code, timeout=REGISTRIES_TIMEOUT)
        self.message_user(
            request,
            _("Refresh queued for %(codes)s; the scheduler runs it shortly.")
            % {"codes": ", ".join(codes)},
            messages.SUCCESS,
        )

    def has_refresh_permission(self, request) -> bool:
        return request.user.has_perm("geo.change_registry")


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "registry",
        "serial",
        "file_date",
        "status",
        "record_count",
        "ipv4_count",
        "ipv6_count",
        "asn_count",
        "range_count",
        "checksum",
        "created_at",
        "activated_at",
        "load_seconds",
    ]
    list_filter = ["registry", "status"]


@admin.register(RefreshRun)
class RefreshRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["started_at", "source", "outcome", "serial", "short_detail"]
    list_filter = ["source", "outcome"]
    date_hierarchy = "started_at"

    @admin.display(description=_("detail"))
    def short_detail(self, obj: RefreshRun) -> str:
        return obj.detail[:160]
