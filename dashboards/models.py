"""Saved reports and dashboards, defined in the admin.

A SavedReport stores one question in plain columns whose values come from
the allowlists of ``dashboards.spec``; ``SavedReport.to_spec`` turns a row
into the validated ReportSpec the query builder accepts. Nothing is
pickled and no column holds a field name or an SQL fragment.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dashboards.spec import (
    Bucket,
    Chart,
    CountryMode,
    Dimension,
    Metric,
    RangeUnit,
    ReportSpec,
    parse_spec,
)


class RangeKind(models.TextChoices):
    LAST = "last", _("the last hours or days")
    BETWEEN = "between", _("between two moments")


class VisibleQuerySet(models.QuerySet):
    def visible_to(self, user) -> "VisibleQuerySet":
        """Keep rows ``user`` may open: shared ones and their own.

        Superusers see every row. Issues no query by itself.
        """
        if user.is_superuser:
            return self
        return self.filter(Q(is_shared=True) | Q(owner=user))


class RangeFields(models.Model):
    """Time range columns shared by reports and dashboards."""

    range_kind = models.CharField(
        _("time range"),
        max_length=8,
        choices=RangeKind.choices,
        default=RangeKind.LAST,
    )
    range_last = models.PositiveIntegerField(
        _("last"), null=True, blank=True, default=7
    )
    range_unit = models.CharField(
        _("unit"), max_length=8, choices=RangeUnit.choices, default=RangeUnit.DAYS
    )
    range_from = models.DateTimeField(_("from"), null=True, blank=True)
    range_to = models.DateTimeField(
        _("to"), null=True, blank=True, help_text=_("Exclusive.")
    )

    class Meta:
        abstract = True

    def range_data(self) -> dict:
        """Return the range as spec keys (only those of the chosen kind)."""
        return range_data_from({name: getattr(self, name) for name in RANGE_FIELDS})


RANGE_FIELDS = ("range_kind", "range_last", "range_unit", "range_from", "range_to")


def range_data_from(values: dict) -> dict:
    """Map range column values (or form data) to spec keys."""
    if values.get("range_kind") == RangeKind.LAST:
        return {
            "range_last": values.get("range_last"),
            "range_unit": values.get("range_unit"),
        }
    return {
        "range_last": None,
        "range_from": values.get("range_from"),
        "range_to": values.get("range_to"),
    }


class SavedReport(RangeFields):
    """One question about events, saved by a user to run again.

    Built in the admin form; run by ``dashboards.query.run_report`` on the
    report page, in dashboard panels and in exports.
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="saved_reports",
        verbose_name=_("owner"),
        help_text=_("Empty for reports that come with fwsiem."),
    )
    is_shared = models.BooleanField(
        _("shared"),
        default=False,
        help_text=_("Everyone who may view reports can open a shared report."),
    )
    bucket = models.CharField(
        _("time bucket"), max_length=8, choices=Bucket.choices, default=Bucket.NONE
    )
    dimension_1 = models.CharField(
        _("group by"), max_length=24, choices=Dimension.choices, blank=True
    )
    dimension_2 = models.CharField(
        _("then by"), max_length=24, choices=Dimension.choices, blank=True
    )
    metric = models.CharField(
        _("count"), max_length=24, choices=Metric.choices, default=Metric.EVENTS
    )
    filter_actions = models.JSONField(_("actions"), default=list, blank=True)
    filter_directions = models.JSONField(_("directions"), default=list, blank=True)
    filter_protocols = models.JSONField(_("protocols"), default=list, blank=True)
    filter_ports = models.CharField(
        _("destination ports"),
        max_length=500,
        blank=True,
        help_text=_("Ports and ranges, e.g. 23, 6881, 1000-2000."),
    )
    filter_countries = models.JSONField(_("source countries"), default=list, blank=True)
    country_mode = models.CharField(
        _("country filter"),
        max_length=8,
        choices=CountryMode.choices,
        default=CountryMode.INCLUDE,
    )
    filter_devices = models.ManyToManyField(
        "events.Device",
        blank=True,
        related_name="+",
        verbose_name=_("devices"),
    )
    filter_src_networks = models.TextField(
        _("source networks"),
        blank=True,
        help_text=_("CIDR blocks or addresses, one per line."),
    )
    filter_dst_networks = models.TextField(
        _("destination networks"),
        blank=True,
        help_text=_("CIDR blocks or addresses, one per line."),
    )
    top_n = models.PositiveIntegerField(
        _("top N"),
        default=10,
        help_text=_("Rows or series kept; the rest are folded into “other”."),
    )
    chart = models.CharField(
        _("chart"), max_length=8, choices=Chart.choices, default=Chart.BAR
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved report")
        verbose_name_plural = _("saved reports")
        ordering = ["name", "id"]
        permissions = [("export_savedreport", _("Can export report results"))]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("dashboards:report", args=[self.pk])

    def spec_data(self, device_ids: list[int] | None = None) -> dict:
        """Return this report as spec keys; ``device_ids`` spares a query."""
        if device_ids is None:
            # all() uses a prefetch_related cache when the caller made one.
            devices = self.filter_devices.all() if self.pk else []
            device_ids = [device.pk for device in devices]
        return spec_data_from_fields(
            {
                **{name: getattr(self, name) for name in REPORT_SPEC_FIELDS},
                **self.range_data(),
                "filter_devices": device_ids,
            }
        )

    def to_spec(self, device_ids: list[int] | None = None) -> ReportSpec:
        """Validate this row against the allowlists; raises SpecError."""
        return parse_spec(self.spec_data(device_ids))


REPORT_SPEC_FIELDS = (
    "bucket",
    "dimension_1",
    "dimension_2",
    "metric",
    "filter_actions",
    "filter_directions",
    "filter_protocols",
    "filter_ports",
    "filter_countries",
    "country_mode",
    "filter_src_networks",
    "filter_dst_networks",
    "top_n",
    "chart",
)


def spec_data_from_fields(values: dict) -> dict:
    """Map SavedReport column values (or form data) to spec keys."""
    data = {
        key: values[key]
        for key in ("range_last", "range_unit", "range_from", "range_to")
        if key in values
    }
    data.update(
        {
            "bucket": values["bucket"],
            "dimensions": [
                d for d in (values["dimension_1"], values["dimension_2"]) if d
            ],
            "metric": values["metric"],
            "actions": values["filter_actions"] or [],
            "directions": values["filter_directions"] or [],
            "protocols": values["filter_protocols"] or [],
            "ports": values["filter_ports"] or "",
            "countries": values["filter_countries"] or [],
            "country_mode": values["country_mode"],
            "devices": [
                device if isinstance(device, int) else device.pk
                for device in values["filter_devices"] or []
            ],
            "src_networks": values["filter_src_networks"] or "",
            "dst_networks": values["filter_dst_networks"] or "",
            "top_n": values["top_n"],
            "chart": values["chart"],
        }
    )
    return data


class DashboardRangeKind(models.TextChoices):
    PANELS = "panels", _("each panel's own range")
    LAST = "last", _("the last hours or days")
    BETWEEN = "between", _("between two moments")


class Dashboard(RangeFields):
    """An ordered set of saved reports shown together on one page.

    Its time range, unless left to the panels, replaces every panel's.
    """

    range_kind = models.CharField(
        _("time range"),
        max_length=8,
        choices=DashboardRangeKind.choices,
        default=DashboardRangeKind.PANELS,
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dashboards",
        verbose_name=_("owner"),
        help_text=_("Empty for dashboards that come with fwsiem."),
    )
    is_shared = models.BooleanField(
        _("shared"),
        default=False,
        help_text=_("Everyone who may view dashboards can open a shared one."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("dashboard")
        verbose_name_plural = _("dashboards")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("dashboards:dashboard", args=[self.pk])

    def range_data(self) -> dict | None:
        """Return the overriding range as spec keys, or None for panels'."""
        if self.range_kind == DashboardRangeKind.PANELS:
            return None
        return super().range_data()


class DashboardPanel(models.Model):
    """One saved report placed on a dashboard, at a position and width."""

    class Width(models.TextChoices):
        HALF = "half", _("half")
        FULL = "full", _("full")

    dashboard = models.ForeignKey(
        Dashboard,
        on_delete=models.CASCADE,
        related_name="panels",
        verbose_name=_("dashboard"),
    )
    report = models.ForeignKey(
        SavedReport,
        on_delete=models.CASCADE,
        related_name="panels",
        verbose_name=_("report"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    width = models.CharField(
        _("width"), max_length=4, choices=Width.choices, default=Width.HALF
    )

    class Meta:
        verbose_name = _("panel")
        verbose_name_plural = _("panels")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.dashboard} #{self.position}: {self.report}"
