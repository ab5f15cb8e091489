import csv
import io
import json

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from openpyxl import load_workbook

from events.roles import sync_roles

EXPORT = reverse("admin:events_event_export")
CHANGELIST = reverse("admin:events_event_changelist")
FORMATS = {"csv": "0", "xlsx": "1", "json": "2"}


@pytest.fixture
def analyst_client(client, django_user_model):
    sync_roles()
    user = django_user_model.objects.create_user(
        "ana", password="pass-word-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name="analyst"))
    client.force_login(user)
    return client


@pytest.fixture
def hostile_events(make_event):
    for number in range(150):
        make_event(f"198.51.100.{number}", dst_port=23, action="block")
    make_event(
        "203.0.113.9",
        dst_port=445,
        action="block",
        interface='=HYPERLINK("http://x")',
        rule="+cmd|' /C calc'!A0",
        hostname="@SUM(1)",
        tcp_flags="-S",
    )
    make_event("192.0.2.1", dst_port=80, action="pass")


def export(client, file_format: str, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return client.post(
        f"{EXPORT}?{query}",
        {"format": FORMATS[file_format], "eventresource_occurred_at": "on"}
        | {f"eventresource_{name}": "on" for name in EXPORTED},
    )


EXPORTED = [
    "occurred_at",
    "device",
    "action",
    "interface",
    "src_ip",
    "src_port",
    "dst_port",
    "tcp_flags",
    "rule",
    "hostname",
]


def content(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.django_db
def test_csv_export_holds_the_whole_filtered_result_with_formulas_escaped(
    analyst_client, hostile_events
):
    response = export(analyst_client, "csv", action__exact="block")

    rows = list(csv.DictReader(io.StringIO(content(response).decode())))
    assert response.status_code == 200
    assert len(rows) == 151
    hostile = next(row for row in rows if row["src_ip"] == "203.0.113.9")
    assert hostile["interface"] == '\'=HYPERLINK("http://x")'
    assert hostile["rule"] == "'+cmd|' /C calc'!A0"
    assert hostile["hostname"] == "'@SUM(1)"
    assert hostile["tcp_flags"] == "'-S"
    assert hostile["dst_port"] == "445"
    assert hostile["device"] == "gw"


@pytest.mark.django_db
def test_xlsx_export_keeps_numbers_numeric_and_escapes_text(
    analyst_client, hostile_events
):
    response = export(analyst_client, "xlsx", q="src:203.0.113.0/24")

    sheet = load_workbook(io.BytesIO(content(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    header, values = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert len(rows) == 2 and "rule" in header
    assert values["rule"] == "'+cmd|' /C calc'!A0"
    assert values["dst_port"] == 445


@pytest.mark.django_db
def test_json_export_filtered_by_search(analyst_client, hostile_events):
    response = export(analyst_client, "json", q="80/tcp")

    records = json.loads(content(response))
    assert [record["src_ip"] for record in records] == ["192.0.2.1"]
    assert records[0]["action"] == "pass"


@pytest.mark.django_db
def test_export_above_the_cap_is_refused_with_a_message(
    analyst_client, hostile_events, settings
):
    settings.FWSIEM_EXPORT_MAX_ROWS = 100

    refused = analyst_client.post(
        f"{EXPORT}?action__exact=block", {"format": "0"}, follow=True
    )
    allowed = export(analyst_client, "csv", action__exact="pass")

    assert "more than 100 events" in refused.content.decode()
    assert refused.redirect_chain[-1][0].endswith("?action__exact=block")
    assert allowed.status_code == 200
    assert len(content(allowed).decode().strip().splitlines()) == 2


@pytest.mark.django_db
def test_viewers_see_no_export_button_and_cannot_export(
    client, django_user_model, hostile_events
):
    sync_roles()
    user = django_user_model.objects.create_user(
        "vic", password="pass-word-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name="viewer"))
    client.force_login(user)

    page = client.get(CHANGELIST)
    attempt = client.post(EXPORT, {"format": "0"})

    assert page.status_code == 200
    assert b"export_link" not in page.content
    assert attempt.status_code == 403


@pytest.mark.django_db
def test_export_query_count_does_not_grow_with_rows(
    analyst_client, hostile_events, django_assert_max_num_queries
):
    # Session, user, permissions, the cap check, filter choices, device
    # names and the rows: a fixed number, not one per exported row.
    with django_assert_max_num_queries(15):
        response = export(analyst_client, "csv")

    assert len(content(response).decode().strip().splitlines()) == 153
