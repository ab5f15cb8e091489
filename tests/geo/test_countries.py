import pytest
from django.conf import settings
from django.core.management import call_command
from django_q.models import Schedule

from geo import countries
from geo.countries import CountryListError, add_unknown_codes, refresh_countries
from geo.models import Country, Registry
from geo.tasks import (
    COUNTRIES_SCHEDULE,
    REGISTRIES_SCHEDULE,
    REGISTRIES_TIMEOUT,
    ensure_schedules,
    refresh_registries,
)

pytestmark = pytest.mark.django_db


def test_iso_list_loads_with_japanese_names_and_registry_codes():
    result = refresh_countries()

    japan = Country.objects.get(code="JP")
    assert (japan.alpha3, japan.numeric, japan.name, japan.name_ja) == (
        "JPN",
        "392",
        "Japan",
        "日本",
    )
    assert result.total == Country.objects.count() == 252
    assert Country.objects.filter(is_iso=True).count() == 249
    assert set(Country.objects.filter(is_iso=False).values_list("code", flat=True)) == {
        "EU",
        "AP",
        "ZZ",
    }


def test_second_refresh_creates_nothing_and_keeps_withdrawn_codes():
    refresh_countries()
    Country.objects.create(code="YU", name="Yugoslavia", is_iso=True)

    result = refresh_countries()

    assert result.created == 0
    assert Country.objects.get(code="YU").is_iso is False


def test_implausible_list_changes_nothing(monkeypatch):
    refresh_countries()
    before = list(Country.objects.values_list("code", "name"))
    monkeypatch.setattr(countries, "REQUIRED_CODES", ("JP", "QQ"))

    with pytest.raises(CountryListError, match="QQ"):
        refresh_countries()

    assert list(Country.objects.values_list("code", "name")) == before


def test_unknown_registry_code_gets_a_placeholder_row():
    refresh_countries()

    added = add_unknown_codes({"JP", "XK", "QZ"})

    assert added == 2
    assert Country.objects.get(code="QZ").name == "QZ"
    assert Country.objects.get(code="QZ").is_iso is False


def test_schedules_are_created_once_and_corrected_not_moved():
    ensure_schedules()
    ensure_schedules()
    schedule = Schedule.objects.get(name=REGISTRIES_SCHEDULE)
    next_run = schedule.next_run
    Schedule.objects.filter(pk=schedule.pk).update(schedule_type=Schedule.HOURLY)

    call_command("migrate", verbosity=0)

    schedule.refresh_from_db()
    assert Schedule.objects.filter(name=REGISTRIES_SCHEDULE).count() == 1
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.next_run == next_run
    assert Schedule.objects.get(name=COUNTRIES_SCHEDULE).schedule_type == (
        Schedule.MONTHLY
    )
    assert Registry.objects.count() == 5


def test_job_timeouts_stay_below_the_retry_and_catch_up_is_off():
    assert REGISTRIES_TIMEOUT < settings.Q_CLUSTER["retry"]
    assert REGISTRIES_TIMEOUT < settings.GEO_LOCK_SECONDS
    assert settings.GEO_LOCK_SECONDS < settings.Q_CLUSTER["retry"]
    assert settings.Q_CLUSTER["catch_up"] is False
    ensure_schedules()
    kwargs = Schedule.objects.get(name=REGISTRIES_SCHEDULE).kwargs
    assert kwargs == f"q_options={{'timeout': {REGISTRIES_TIMEOUT}}}"


def test_registry_job_reads_the_configured_urls(settings, http_source):
    from tests.geo.conftest import APNIC_RECORDS, delegated, write_registry

    base, served, _faults = http_source
    write_registry(served, "apnic", delegated("apnic", APNIC_RECORDS))
    settings.GEO_REGISTRIES = ["apnic", "arin"]
    settings.GEO_REGISTRY_URLS = {
        "apnic": base + "delegated-apnic-extended-latest",
        "arin": base + "nothing-here",
    }

    summary = refresh_registries()

    assert summary.splitlines()[0].startswith("apnic: loaded serial 20240101")
    assert summary.splitlines()[1].startswith("arin: failed missing")
