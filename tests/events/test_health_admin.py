"""Admin pages of ingest health, the device form and the unparsed list."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from events.models import Device, IngestMinute, ListenerMinute, UnparsedMessage


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "", "secret-pass-123")
    client.force_login(user)
    return client


@pytest.fixture
def silent(db) -> Device:
    now = datetime.now(UTC)
    device = Device.objects.create(name="rtx", last_seen_at=now - timedelta(hours=1))
    IngestMinute.objects.create(
        device=device,
        minute=(now - timedelta(hours=1)).replace(second=0, microsecond=0),
        received_count=40,
        parsed_count=30,
        unparsed_count=10,
        stored_count=40,
        dropped_count=2,
    )
    ListenerMinute.objects.create(
        minute=now.replace(second=0, microsecond=0),
        endpoint="udp://0.0.0.0:514",
        kernel_drop_count=7,
        receive_buffer_bytes=425984,
    )
    return device


def test_device_health_page_flags_a_silent_device_and_draws_the_rates(
    staff_client, silent, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        response = staff_client.get(
            reverse("admin:events_device_health", args=[silent.pk])
        )

    body = response.content.decode()
    assert response.status_code == 200
    assert '<span class="health-state health-silent">silent</span>' in body
    assert "<svg" in body and 'class="received"' in body
    assert 'class="dropped"' in body
    assert "25.0 %" in body
    assert "udp://0.0.0.0:514" in body and "425984" in body
    assert "<script" not in body.split("</header>", 1)[-1]


def test_health_overview_lists_every_device(staff_client, silent):
    Device.objects.create(name="<b>new</b>")

    response = staff_client.get(reverse("admin:events_device_health_overview"))

    body = response.content.decode()
    assert "silent" in body and "never heard from" in body
    assert "&lt;b&gt;new&lt;/b&gt;" in body


def test_device_list_and_form_link_to_the_health_page(
    staff_client, silent, django_assert_max_num_queries
):
    url = reverse("admin:events_device_health", args=[silent.pk])

    with django_assert_max_num_queries(12):
        listing = staff_client.get(reverse("admin:events_device_changelist"))
    form = staff_client.get(reverse("admin:events_device_change", args=[silent.pk]))

    assert (
        f'<a class="health-silent" href="{url}">silent</a>' in listing.content.decode()
    )
    assert f'href="{url}"' in form.content.decode()


def test_health_page_of_a_missing_device_is_404(staff_client, db):
    response = staff_client.get(reverse("admin:events_device_health", args=[999]))

    assert response.status_code == 404


def test_health_pages_need_a_login(client, silent):
    response = client.get(reverse("admin:events_device_health", args=[silent.pk]))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_internal_networks_are_validated_in_the_device_form(staff_client, db):
    response = staff_client.post(
        reverse("admin:events_device_add"),
        {
            "name": "gw",
            "log_format": "yamaha-rtx",
            "time_zone": "Asia/Tokyo",
            "is_enabled": "on",
            "internal_networks": "192.168.100.0/24\n192.168.1.1/24",
            "silent_after_minutes": "15",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "192.168.1.1/24" in response.content.decode()
    assert not Device.objects.exists()


def test_unparsed_messages_filter_by_device_and_reason(
    staff_client, silent, django_assert_max_num_queries
):
    now = datetime.now(UTC)
    for reason in ["unknown RTX line", "unknown RTX line", "empty message"]:
        UnparsedMessage.objects.create(
            received_at=now, device=silent, raw=b"x\x1b[2J", reason=reason
        )
    UnparsedMessage.objects.create(
        received_at=now, sender="192.0.2.9", raw=b"?", reason="empty message"
    )
    url = reverse("admin:events_unparsedmessage_changelist")

    with django_assert_max_num_queries(14):
        everything = staff_client.get(url)
    by_reason = staff_client.get(url, {"reason": "empty message"})
    by_device = staff_client.get(
        url,
        {
            "device__id__exact": silent.pk,
            "received_at__gte": str(now - timedelta(days=1)),
        },
    )

    assert "unknown RTX line (2)" in everything.content.decode()
    assert by_reason.context["cl"].result_count == 2
    assert by_device.context["cl"].result_count == 3
    assert "x\\x1b[2J" in everything.content.decode()
