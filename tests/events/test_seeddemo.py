from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from events.demo import seed_events
from events.models import Device, Event

END = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_seeddemo_writes_the_number_asked_with_a_summary_line():
    out = StringIO()

    call_command("seeddemo", events=3000, days=3, devices=2, stdout=out, verbosity=0)

    assert Event.objects.count() == 3000
    assert Device.objects.count() == 2
    assert out.getvalue().startswith("Seeded 3000 events over 3 days on 2 devices")
    method = "load data" if connection.vendor == "mysql" else "executemany"
    assert f"{method})" in out.getvalue()


@pytest.mark.django_db
def test_seeddemo_if_empty_adds_nothing_the_second_time():
    call_command("seeddemo", events=500, days=1, stdout=StringIO(), verbosity=0)
    out = StringIO()

    call_command("seeddemo", events=500, days=1, if_empty=True, stdout=out, verbosity=0)

    assert Event.objects.count() == 500
    assert "nothing seeded" in out.getvalue()


@pytest.mark.django_db
def test_seeddemo_refuses_nonsense_arguments():
    with pytest.raises(CommandError):
        call_command("seeddemo", events=0, stdout=StringIO())


@pytest.mark.django_db
def test_demo_events_have_the_shape_of_real_scans():
    summary = seed_events(20_000, 9, 3, end=END)

    events = Event.objects.all()
    ports = dict(
        events.filter(action="block")
        .values_list("dst_port")
        .annotate(n=Count("id"))
        .values_list("dst_port", "n")
    )
    assert summary.events == 20_000 == events.count()
    assert max(ports, key=ports.get) == 23
    assert ports[22] > ports[80] > 0
    assert events.filter(action="pass", direction="out").count() == summary.outbound
    assert events.filter(dst_port=1900, protocol="udp").count() >= summary.burst > 0
    assert events.order_by("-occurred_at").first().occurred_at < END
    assert events.order_by("occurred_at").first().occurred_at >= END - timedelta(days=9)
    assert events.filter(ip_version=4).exists()


@pytest.mark.django_db
def test_demo_sources_use_loaded_registry_ranges(data_dir):
    from geo.index import lookup

    call_command("refresh_geo", source=str(data_dir / "rir"), verbosity=0)

    summary = seed_events(5_000, 2, 1, end=END)

    scans = Event.objects.filter(action="block").exclude(src_country="")
    sample = list(scans.values_list("src_ip", "src_country")[:200])
    assert summary.countries > 20
    assert len(sample) == 200
    assert all(lookup(address) == country for address, country in sample)
    outbound = list(
        Event.objects.filter(action="pass").values_list("dst_ip", "dst_country")
    )
    assert any(country for _address, country in outbound)
    assert all(lookup(address) == country for address, country in outbound)
