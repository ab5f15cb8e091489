"""A report's question, time range and filters in words for its page."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboards.buckets import Window
from dashboards.dimensions import country_names
from dashboards.spec import (
    ActionChoice,
    Bucket,
    CountryMode,
    Dimension,
    DirectionChoice,
    Metric,
    RangeUnit,
    ReportSpec,
)
from events.models import Device


def local_text(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def describe_range(spec: ReportSpec, window: Window) -> str:
    """Say which time the report covers, e.g. "Last 7 days (… – …, UTC)"."""
    span = _("%(start)s – %(end)s (%(zone)s)") % {
        "start": local_text(window.start),
        "end": local_text(window.end),
        "zone": timezone.get_current_timezone_name(),
    }
    if spec.range_last is None:
        return span
    if spec.range_unit == RangeUnit.HOURS:
        last = _("Last %(count)d hours") % {"count": spec.range_last}
    else:
        last = _("Last %(count)d days") % {"count": spec.range_last}
    return f"{last}: {span}"


def describe_question(spec: ReportSpec) -> str:
    """Say what is counted, by what, per which bucket and how many rows."""
    metric = str(Metric(spec.metric).label)
    parts = [metric[:1].upper() + metric[1:]]
    if spec.dimensions:
        names = _(" and ").join(str(Dimension(d).label) for d in spec.dimensions)
        parts.append(_("by %(dimensions)s") % {"dimensions": names})
    if spec.bucket != Bucket.NONE:
        parts.append(_("per %(bucket)s") % {"bucket": Bucket(spec.bucket).label})
    if spec.dimensions:
        top = min(spec.top_n, settings.REPORT_MAX_TOP_N)
        parts.append(_("top %(count)d, the rest as “other”") % {"count": top})
    return ", ".join(parts)


def describe_filters(spec: ReportSpec) -> list[str]:
    """Return one sentence per filter; an empty list means all events."""
    lines = []
    choice_filters = (
        (_("Action"), spec.actions, dict(ActionChoice.choices)),
        (_("Direction"), spec.directions, dict(DirectionChoice.choices)),
        (_("Protocol"), spec.protocols, {}),
    )
    for title, values, names in choice_filters:
        if values:
            shown = ", ".join(str(names.get(value, value)) for value in values)
            lines.append(f"{title}: {shown}")
    if spec.ports:
        ports = ", ".join(str(port) for port in spec.ports)
        lines.append(_("Destination port: %(ports)s") % {"ports": ports})
    if spec.countries:
        names = country_names(set(spec.countries))
        shown = ", ".join(
            f"{names[code]} ({code})" if code in names else code
            for code in spec.countries
        )
        if spec.country_mode == CountryMode.EXCLUDE:
            lines.append(
                _("Source country: any but %(countries)s") % {"countries": shown}
            )
        else:
            lines.append(_("Source country: %(countries)s") % {"countries": shown})
    if spec.devices:
        names = Device.objects.filter(pk__in=spec.devices).values_list(
            "name", flat=True
        )
        lines.append(_("Device: %(devices)s") % {"devices": ", ".join(names)})
    if spec.src_networks:
        networks = ", ".join(spec.src_networks)
        lines.append(_("Source network: %(networks)s") % {"networks": networks})
    if spec.dst_networks:
        networks = ", ".join(spec.dst_networks)
        lines.append(_("Destination network: %(networks)s") % {"networks": networks})
    return lines
