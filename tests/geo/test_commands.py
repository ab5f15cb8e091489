from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from events.models import Event
from geo import index
from geo.models import Registry
from tests.geo.conftest import APNIC_RECORDS, RIPE_RECORDS, delegated, write_registry

pytestmark = pytest.mark.django_db


class Terminal(StringIO):
    """Captured output that says it is a terminal, so bars are drawn."""

    def isatty(self) -> bool:
        return True


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), Terminal()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def small_source(tmp_path):
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
    write_registry(tmp_path, "ripencc", delegated("ripencc", RIPE_RECORDS))
    return tmp_path


def test_refresh_geo_loads_the_real_files_and_names_the_missing(rir_dir):
    out, _err = run("refresh_geo", "--source", str(rir_dir), "--countries")

    lines = out.splitlines()
    assert lines[0].startswith("countries: 252 codes")
    assert any(line.startswith("afrinic  loaded") for line in lines)
    assert any(line.startswith("lacnic   loaded") for line in lines)
    assert any(line.startswith("apnic    failed    missing") for line in lines)
    assert lines[-1] == (
        "index: 37280 ranges from 2 snapshots, 0 overlaps (0 between registries)"
    )
    assert Registry.objects.get(code="lacnic").active_snapshot.record_count == 86237


def test_refresh_geo_fails_when_every_registry_fails(tmp_path):
    with pytest.raises(CommandError, match="every registry failed"):
        run("refresh_geo", "--source", str(tmp_path), "--registry", "arin")


def test_refresh_geo_registry_option_limits_the_run(small_source):
    out, _err = run("refresh_geo", "--source", str(small_source), "--registry", "apnic")

    assert "apnic    loaded" in out
    assert "ripencc" not in out
    assert Registry.objects.get(code="ripencc").active_snapshot is None


def test_geoip_prints_code_names_registry_and_snapshot(small_source):
    run("refresh_geo", "--source", str(small_source))

    out, _err = run("geoip", "1.0.16.9", "2001:600::1", "192.0.2.1")

    japan, europe, unknown = out.splitlines()
    assert japan.split("\t") == [
        "1.0.16.9",
        "JP",
        "Japan",
        "日本",
        "APNIC",
        "1.0.16.0-1.0.31.255",
        "allocated",
        "snapshot 2024-01-01",
    ]
    assert europe.split("\t")[:4] == ["2001:600::1", "EU", "European Union", "欧州連合"]
    assert unknown == "192.0.2.1\t-\tno registry gives a country"


def test_geoip_refuses_what_is_not_an_address(small_source):
    with pytest.raises(CommandError, match="1 argument"):
        run("geoip", "1.0.16.9", "1.0.16")


def test_enrich_fills_events_stored_before_geo_data(small_source, make_event):
    japan = make_event("1.0.16.5", "2.16.0.1")
    unknown = make_event("192.0.2.1", "2001:600::9")
    early = make_event(
        "1.0.0.1", "2.16.6.1", occurred_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    run("refresh_geo", "--source", str(small_source))
    index.forget()

    out, err = run("enrich", "--since", "2026-01-01")

    japan.refresh_from_db()
    unknown.refresh_from_db()
    early.refresh_from_db()
    assert (japan.src_country, japan.dst_country) == ("JP", "DE")
    assert (unknown.src_country, unknown.dst_country) == ("", "EU")
    assert (early.src_country, early.dst_country) == ("", "")
    assert out.strip().startswith(
        "enrich: 2 events examined, 2 updated, 1 addresses without a country"
    )
    assert "2/2" in err


def test_enrich_leaves_filled_events_unless_all(small_source, make_event):
    event = make_event("1.0.16.5", src_country="KR", dst_country="KR")
    run("refresh_geo", "--source", str(small_source))

    first, _ = run("enrich")
    event.refresh_from_db()
    assert event.src_country == "KR"
    second, _ = run("enrich", "--all", "--batch-size", "1")
    event.refresh_from_db()

    assert "0 events examined" in first
    assert "1 events examined, 1 updated" in second
    assert (event.src_country, event.dst_country) == ("JP", "")


def test_enrich_refuses_a_bad_date():
    with pytest.raises(CommandError, match="not a date"):
        run("enrich", "--since", "yesterday")


def test_events_ingested_after_a_refresh_carry_countries(small_source, device):
    run("refresh_geo", "--source", str(small_source))
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    event = Event(
        occurred_at=moment,
        received_at=moment,
        device=device,
        ip_version=4,
        src_ip="1.0.16.5",
        dst_ip="2.16.6.1",
    )
    event.src_country = index.lookup(event.src_ip)
    event.dst_country = index.lookup(event.dst_ip)
    event.save()

    stored = Event.objects.get(pk=event.pk)
    assert (stored.src_country, stored.dst_country) == ("JP", "NL")
