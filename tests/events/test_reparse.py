"""Re-parse: unparsed messages become events once a parser is fixed."""

import queue
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from events import parsers
from events.ingest.devices import DeviceDirectory, DeviceProfile
from events.ingest.pipeline import IngestCounters, handle_message
from events.ingest.writer import BatchWriter
from events.models import Device, Event, UnparsedMessage
from events.parsers import filterlog
from events.parsers.types import ParseError
from events.reparse import reparse

RECEIVED_AT = datetime(2026, 7, 3, 12, 0, tzinfo=UTC)
FORMAT = "narrow-test"


def ipv4_only(envelope):
    """Parse like pfSense, but reject IPv6: the parser before its fix."""
    event = filterlog.parse(envelope)
    if event.ip_version == 6:
        raise ParseError("IPv6 lines are not supported yet")
    return event


@pytest.fixture
def narrow_format(monkeypatch):
    """Register FORMAT for this test only, with the narrowed parser."""
    monkeypatch.setattr(parsers, "_FORMATS", dict(parsers._FORMATS))
    monkeypatch.setattr(parsers, "_SNIFFERS", list(parsers._SNIFFERS))
    parsers.register_format(FORMAT, filterlog.sniff, ipv4_only)


@pytest.fixture
def device(db) -> Device:
    return Device.objects.create(
        name="gw",
        log_format=FORMAT,
        time_zone="America/Chicago",
        internal_networks="10.170.0.0/16",
    )


def ingest(device: Device, lines: list[bytes]) -> None:
    """Store ``lines`` through the listener's parser and writer."""
    profile = DeviceProfile.for_device(device)
    writer = BatchWriter(
        queue.Queue(),
        IngestCounters(),
        DeviceDirectory(),
        batch_size=100,
        flush_seconds=0,
    )
    writer.write(
        [
            handle_message(
                line,
                peer="192.0.2.1",
                transport="udp",
                received_at=RECEIVED_AT,
                profile=profile,
            )
            for line in lines
        ]
    )


def fix_the_parser() -> None:
    parsers.register_format(FORMAT, filterlog.sniff, filterlog.parse)


@pytest.fixture
def pfsense(data_dir) -> list[bytes]:
    return (data_dir / "logs" / "pfsense-bsd.log").read_bytes().splitlines()


def test_a_line_that_failed_becomes_an_event_after_the_fix_and_reparse(
    narrow_format, device, pfsense
):
    ingest(device, pfsense)
    kept = UnparsedMessage.objects.get()
    assert kept.reason == "IPv6 lines are not supported yet"
    before = Event.objects.count()

    fix_the_parser()
    result = reparse([kept.pk])

    assert (result.moved, result.still_unparsed) == (1, 0)
    assert not UnparsedMessage.objects.exists()
    assert Event.objects.count() == before + 1
    event = Event.objects.get(ip_version=6)
    assert event.received_at == RECEIVED_AT
    assert event.src_ip == "fe80::208:9bff:fef3:652b"
    assert (event.src_port, event.dst_port) == (546, 547)
    assert event.device == device
    assert event.perimeter == "external"
    # The BSD stamp Jul  3 19:10:31 read in the device's zone (CDT, UTC-5),
    # the year taken from the original receive time.
    assert event.occurred_at == datetime(2026, 7, 4, 0, 10, 31, tzinfo=UTC)


def test_a_second_reparse_does_not_duplicate(narrow_format, device, pfsense):
    ingest(device, pfsense)
    kept = UnparsedMessage.objects.get()
    fix_the_parser()

    first = reparse([kept.pk])
    second = reparse([kept.pk])

    assert (first.moved, second.moved, second.gone) == (1, 0, 1)
    assert Event.objects.filter(ip_version=6).count() == 1


def test_lines_that_still_fail_stay_with_todays_reason(narrow_format, device):
    ingest(device, [b"<134>Jul  3 19:10:31 dhcpd: DHCPACK on 10.0.0.5"])
    kept = UnparsedMessage.objects.get()
    UnparsedMessage.objects.filter(pk=kept.pk).update(reason="an old reason")

    result = reparse([kept.pk])

    assert (result.moved, result.still_unparsed) == (0, 1)
    kept.refresh_from_db()
    assert kept.reason == "not a filterlog message (app 'dhcpd')"
    assert bytes(kept.raw) == b"<134>Jul  3 19:10:31 dhcpd: DHCPACK on 10.0.0.5"


def test_rows_without_a_device_are_skipped(narrow_format, device, pfsense):
    ingest(device, pfsense[6:7])
    kept = UnparsedMessage.objects.get()
    UnparsedMessage.objects.filter(pk=kept.pk).update(device=None)
    fix_the_parser()

    result = reparse([kept.pk])

    assert (result.moved, result.skipped) == (0, 1)
    assert UnparsedMessage.objects.filter(pk=kept.pk).exists()


def test_batches_commit_separately(narrow_format, device, pfsense):
    ingest(device, [pfsense[6]] * 5)
    fix_the_parser()

    result = reparse(UnparsedMessage.objects.values_list("pk", flat=True), 2)

    assert result.moved == 5
    assert Event.objects.filter(ip_version=6).count() == 5


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("boss", "", "secret-pass-123")


def action_post(client, ids: list[int], **extra):
    return client.post(
        reverse("admin:events_unparsedmessage_changelist"),
        {"action": "reparse_selected", "_selected_action": ids, "index": 0, **extra},
        follow=True,
    )


def test_admin_action_reparses_and_reports_counts(
    narrow_format, device, pfsense, client, staff
):
    ingest(device, pfsense[6:7] + [b"<134>Jul  3 19:10:31 dhcpd: DHCPACK"])
    ids = list(UnparsedMessage.objects.values_list("pk", flat=True))
    fix_the_parser()
    client.force_login(staff)

    response = action_post(client, ids)

    text = response.content.decode()
    assert "Re-parsed 2 messages: 1 became events, 1 still do not parse" in text
    assert Event.objects.filter(ip_version=6).count() == 1
    assert UnparsedMessage.objects.count() == 1


def test_admin_action_needs_a_csrf_token(narrow_format, device, pfsense, staff):
    ingest(device, pfsense[6:7])
    ids = list(UnparsedMessage.objects.values_list("pk", flat=True))
    fix_the_parser()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)

    response = action_post(client, ids)

    assert response.status_code == 403
    assert UnparsedMessage.objects.count() == 1


def test_admin_action_is_offered_only_with_the_reparse_permission(
    narrow_format, device, pfsense, client, django_user_model
):
    from django.contrib.auth.models import Permission

    ingest(device, pfsense[6:7])
    fix_the_parser()
    viewer = django_user_model.objects.create_user(
        "viewer", password="x-1234567", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_unparsedmessage"))
    client.force_login(viewer)
    ids = list(UnparsedMessage.objects.values_list("pk", flat=True))

    page = client.get(reverse("admin:events_unparsedmessage_changelist"))
    action_post(client, ids)

    assert page.status_code == 200
    assert b"reparse_selected" not in page.content
    assert UnparsedMessage.objects.count() == 1
