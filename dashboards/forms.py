"""Admin forms for reports and dashboards: choices and checkboxes, no JSON.

Every choice field offers the allowlists of ``dashboards.spec``; ``clean``
runs the same ``parse_spec`` the query builder relies on, so a saved
report is always one that can run.
"""

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from dashboards.models import (
    Dashboard,
    DashboardRangeKind,
    RangeKind,
    SavedReport,
    range_data_from,
    spec_data_from_fields,
)
from dashboards.spec import (
    ActionChoice,
    DirectionChoice,
    ProtocolChoice,
    SpecError,
    parse_spec,
)

# Which form field shows a spec key's error.
SPEC_KEY_FIELDS = {
    "range_last": "range_last",
    "range_unit": "range_unit",
    "range_from": "range_from",
    "range_to": "range_to",
    "bucket": "bucket",
    "dimensions": "dimension_2",
    "metric": "metric",
    "actions": "filter_actions",
    "directions": "filter_directions",
    "protocols": "filter_protocols",
    "ports": "filter_ports",
    "countries": "filter_countries",
    "country_mode": "country_mode",
    "devices": "filter_devices",
    "src_networks": "filter_src_networks",
    "dst_networks": "filter_dst_networks",
    "top_n": "top_n",
    "chart": "chart",
}


def country_choices() -> list[tuple[str, str]]:
    """Offer every known country, by name in the active language."""
    from geo.models import Country

    countries = sorted(Country.objects.all(), key=lambda c: c.display_name.casefold())
    return [(c.code, f"{c.display_name} ({c.code})") for c in countries]


class SavedReportForm(forms.ModelForm):
    filter_actions = forms.MultipleChoiceField(
        label=capfirst(_("actions")),
        choices=ActionChoice.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every action."),
    )
    filter_directions = forms.MultipleChoiceField(
        label=capfirst(_("directions")),
        choices=DirectionChoice.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: both directions."),
    )
    filter_protocols = forms.MultipleChoiceField(
        label=capfirst(_("protocols")),
        choices=ProtocolChoice.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every protocol."),
    )
    filter_countries = forms.MultipleChoiceField(
        label=capfirst(_("source countries")),
        choices=country_choices,
        widget=FilteredSelectMultiple(_("countries"), is_stacked=False),
        required=False,
    )

    class Meta:
        model = SavedReport
        fields = [
            "name",
            "description",
            "is_shared",
            "range_kind",
            "range_last",
            "range_unit",
            "range_from",
            "range_to",
            "bucket",
            "dimension_1",
            "dimension_2",
            "metric",
            "top_n",
            "chart",
            "filter_actions",
            "filter_directions",
            "filter_protocols",
            "filter_ports",
            "filter_countries",
            "country_mode",
            "filter_devices",
            "filter_src_networks",
            "filter_dst_networks",
        ]
        widgets = {
            "range_kind": forms.RadioSelect,
            "country_mode": forms.RadioSelect,
            "chart": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 2}),
            "filter_src_networks": forms.Textarea(attrs={"rows": 2}),
            "filter_dst_networks": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned

        values = {**cleaned, **range_data_from(cleaned)}
        if cleaned.get("range_kind") == RangeKind.LAST and not cleaned.get(
            "range_last"
        ):
            self.add_error("range_last", _("Give the number of hours or days."))
            return cleaned
        try:
            parse_spec(spec_data_from_fields(values))
        except SpecError as error:
            for key, messages in error.errors.items():
                field = SPEC_KEY_FIELDS.get(key)
                for message in messages:
                    self.add_error(field, message)
        return cleaned


class DashboardForm(forms.ModelForm):
    class Meta:
        model = Dashboard
        fields = [
            "name",
            "description",
            "is_shared",
            "range_kind",
            "range_last",
            "range_unit",
            "range_from",
            "range_to",
        ]
        widgets = {
            "range_kind": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("range_kind")
        if kind == DashboardRangeKind.LAST and not cleaned.get("range_last"):
            self.add_error("range_last", _("Give the number of hours or days."))
        if kind == DashboardRangeKind.BETWEEN:
            start, end = cleaned.get("range_from"), cleaned.get("range_to")
            if start is None or end is None:
                self.add_error("range_from", _("Give both a start and an end."))
            elif start >= end:
                self.add_error("range_to", _("The end must be after the start."))
        return cleaned
