import pytest
from django.urls import reverse

from events.models import UnparsedMessage


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "", "secret-pass-123")
    client.force_login(user)
    return client


def test_event_changelist_shows_newest_first_within_a_query_budget(
    staff_client, make_event, django_assert_max_num_queries
):
    for number in range(30):
        make_event(f"198.51.100.{number}", dst_port=23)

    with django_assert_max_num_queries(12):
        response = staff_client.get(reverse("admin:events_event_changelist"))

    assert response.status_code == 200
    assert b"198.51.100.29" in response.content


def test_events_cannot_be_added_changed_or_deleted(staff_client, make_event):
    event = make_event("198.51.100.1")

    add = staff_client.get(reverse("admin:events_event_add"))
    delete = staff_client.post(
        reverse("admin:events_event_delete", args=[event.pk]), {"post": "yes"}
    )

    assert add.status_code == 403
    assert delete.status_code == 403
    assert type(event).objects.filter(pk=event.pk).exists()


def test_unparsed_raw_bytes_are_shown_with_control_characters_visible(
    staff_client, device
):
    message = UnparsedMessage.objects.create(
        received_at=device.created_at,
        sender="127.0.0.1",
        device=device,
        transport="udp",
        raw=b"<script>alert(1)</script>\x1b[31m\x00\xff",
        reason="not a filterlog message",
    )

    response = staff_client.get(
        reverse("admin:events_unparsedmessage_change", args=[message.pk])
    )

    body = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[31m\\x00\\xff" in body
    assert "<script>alert(1)" not in body


def test_device_changelist_lists_addresses(
    staff_client, device, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        response = staff_client.get(reverse("admin:events_device_changelist"))

    assert b"127.0.0.1" in response.content
