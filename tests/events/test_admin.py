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


def test_device_page_lists_imported_files_read_only(staff_client, device):
    device.imported_files.create(
        sha256="ab" * 32,
        name="filter.log",
        size=2048,
        lines=19,
        events=17,
        unparsed=2,
        imported_at=device.created_at,
    )
    url = reverse("admin:events_device_change", args=[device.pk])

    response = staff_client.get(url)

    body = response.content.decode()
    assert "filter.log" in body
    assert "ab" * 32 in body
    assert 'name="imported_files-0-name"' not in body

    # The form still saves with the list on it, and the record stays.
    form = {
        "name": "renamed",
        "log_format": device.log_format,
        "time_zone": device.time_zone,
        "silent_after_minutes": device.silent_after_minutes,
        "internal_networks": "",
    }
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        form.update(
            {management.add_prefix(k): v for k, v in management.initial.items()}
        )
        for row in formset.initial_forms:
            form.update({row.add_prefix(k): row[k].value() or "" for k in row.fields})
    saved = staff_client.post(url, form)

    assert saved.status_code == 302
    device.refresh_from_db()
    assert device.name == "renamed"
    assert device.imported_files.count() == 1
