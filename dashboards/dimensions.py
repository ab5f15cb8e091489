"""The grouping dimensions a report may use, as fixed ORM expressions.

Each dimension gives the columns to group by, a label for one key (a
tuple of those columns' values) and the changelist parameters selecting
the same events. Names for codes and ids are fetched once per run.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import (
    BinaryField,
    Case,
    F,
    IntegerField,
    Value,
    When,
)
from django.db.models.functions import Left
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dashboards.spec import ActionChoice, Dimension, DirectionChoice
from events.fields import V4_MAPPED_PREFIX, unpack_ip
from events.models import Device

ZERO = b"\x00"
OTHER = None  # the key of the folded "other" row or series


class Labels:
    """Names for the codes and ids a result holds, fetched once per run."""

    def __init__(self) -> None:
        self.countries: dict[str, str] = {}
        self.devices: dict[int, str] = {}
        self.groups: dict[int, tuple[str, list[str]]] = {}

    def load(self, keys: list[tuple], dimensions: tuple[str, ...]) -> None:
        """Fetch the names of countries and devices that occur in ``keys``."""
        for index, dimension in enumerate(dimensions):
            values = {key[index][0] for key in keys if key is not OTHER}
            if dimension == Dimension.SRC_COUNTRY:
                self.countries = country_names(values)
            elif dimension == Dimension.DEVICE:
                self.devices = dict(
                    Device.objects.filter(pk__in=values).values_list("pk", "name")
                )


def country_names(codes: set[str] | None = None) -> dict[str, str]:
    """Map country codes to their names in the active language."""
    from geo.models import Country

    countries = Country.objects.all()
    if codes is not None:
        countries = countries.filter(code__in=[code for code in codes if code])
    return {country.code: country.display_name for country in countries}


def country_groups() -> dict[int, tuple[str, list[str]]]:
    """Map each country group's id to its name and member codes."""
    from geo.models import CountryGroup

    groups = CountryGroup.objects.prefetch_related("countries").order_by("name")
    return {
        group.pk: (group.name, sorted(c.code for c in group.countries.all()))
        for group in groups
    }


def _text_label(empty: str) -> Callable:
    return lambda values, labels: values[0] if values[0] else empty


def _exact_param(field_name: str) -> Callable:
    return lambda values, labels: {f"{field_name}__exact": values[0] or ""}


def _filter_param(name: str) -> Callable:
    """Use the changelist's own filter of that name (its sidebar shows it)."""
    return lambda values, labels: {name: str(values[0] or "")}


def _port_label(values, labels) -> str:
    protocol, port = values
    if port is None:
        return protocol or _("(no protocol)")
    return f"{port}/{protocol}" if protocol else str(port)


def _port_params(values, labels) -> dict:
    protocol, port = values
    params = {"protocol": protocol or ""}
    if port is None:
        params["dst_port__isnull"] = "True"
    else:
        params["dst_port"] = str(port)
    return params


def _country_label(values, labels) -> str:
    code = values[0]
    if not code:
        return _("(unknown)")
    name = labels.countries.get(code)
    return f"{name} ({code})" if name else code


def _group_label(values, labels) -> str:
    group = labels.groups.get(values[0])
    return group[0] if group else _("(no group)")


def _group_params(values, labels) -> dict | None:
    group = labels.groups.get(values[0])
    if not group or not group[1]:
        return None
    return {"src_country__in": ",".join(group[1])}


def _network_label(values, labels) -> str:
    prefix = bytes(values[0] or b"")
    if prefix[:12] == V4_MAPPED_PREFIX and len(prefix) == 15:
        return f"{unpack_ip(prefix.ljust(16, ZERO))}/24"
    return f"{unpack_ip(prefix[:6].ljust(16, ZERO))}/48"


def _network_params(values, labels) -> dict:
    return {"src_ip": _network_label(values, labels)}


def _choice_label(choices, empty_label) -> Callable:
    names = dict(choices.choices)
    return lambda values, labels: str(names.get(values[0], values[0] or empty_label))


def _device_label(values, labels) -> str:
    return labels.devices.get(values[0], f"#{values[0]}")


def _network_prefix():
    return Case(
        When(ip_version=4, then=Left("src_ip", 15, output_field=BinaryField())),
        default=Left("src_ip", 6, output_field=BinaryField()),
        output_field=BinaryField(),
    )


def _group_case(groups: dict[int, tuple[str, list[str]]]):
    whens = [
        When(src_country__in=codes, then=Value(pk))
        for pk, (name, codes) in groups.items()
        if codes
    ]
    if not whens:
        return Value(None, output_field=IntegerField())
    return Case(*whens, default=Value(None), output_field=IntegerField())


@dataclass(frozen=True)
class DimensionDef:
    columns: Callable[["Labels"], list]
    label: Callable
    params: Callable


DIMENSIONS: dict[str, DimensionDef] = {
    Dimension.DST_PORT: DimensionDef(
        lambda labels: [F("protocol"), F("dst_port")], _port_label, _port_params
    ),
    Dimension.PROTOCOL: DimensionDef(
        lambda labels: [F("protocol")],
        _text_label(gettext_lazy("(no protocol)")),
        _filter_param("protocol"),
    ),
    Dimension.SRC_COUNTRY: DimensionDef(
        lambda labels: [F("src_country")], _country_label, _filter_param("src_country")
    ),
    Dimension.SRC_COUNTRY_GROUP: DimensionDef(
        lambda labels: [_group_case(labels.groups)], _group_label, _group_params
    ),
    Dimension.SRC_IP: DimensionDef(
        lambda labels: [F("src_ip")],
        lambda values, labels: values[0],
        _filter_param("src_ip"),
    ),
    Dimension.SRC_NETWORK: DimensionDef(
        lambda labels: [_network_prefix()], _network_label, _network_params
    ),
    Dimension.DST_IP: DimensionDef(
        lambda labels: [F("dst_ip")],
        lambda values, labels: values[0],
        _filter_param("dst_ip"),
    ),
    Dimension.ACTION: DimensionDef(
        lambda labels: [F("action")],
        _choice_label(ActionChoice, ""),
        _exact_param("action"),
    ),
    Dimension.DIRECTION: DimensionDef(
        lambda labels: [F("direction")],
        _choice_label(DirectionChoice, ""),
        _exact_param("direction"),
    ),
    Dimension.INTERFACE: DimensionDef(
        lambda labels: [F("interface")],
        _text_label(gettext_lazy("(no interface)")),
        _filter_param("interface"),
    ),
    Dimension.DEVICE: DimensionDef(
        lambda labels: [F("device")],
        _device_label,
        _filter_param("device"),
    ),
    Dimension.RULE: DimensionDef(
        lambda labels: [F("rule")],
        _text_label(gettext_lazy("(no rule)")),
        _exact_param("rule"),
    ),
}
