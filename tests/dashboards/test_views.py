import csv
import io
import json
from datetime import timedelta

import openpyxl
import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboards.models import Dashboard, SavedReport

pytestmark = pytest.mark.django_db

TELNET_FORM = {
    "name": "23/tcp per day by source country",
    "description": "",
    "is_shared": "on",
    "range_kind": "last",
    "range_last": "30",
    "range_unit": "days",
    "bucket": "day",
    "dimension_1": "src_country",
    "dimension_2": "",
    "metric": "events",
    "top_n": "10",
    "chart": "stacked",
    "filter_protocols": ["tcp"],
    "filter_ports": "23",
    "country_mode": "include",
    "filter_src_networks": "",
    "filter_dst_networks": "",
    "_save": "Save",
}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def recent(**fields) -> dict:
    return {"occurred_at": timezone.now() - timedelta(hours=2), **fields}


def make_report(owner=None, **fields) -> SavedReport:
    values = {
        "name": "ports",
        "is_shared": True,
        "dimension_1": "dst_port",
        "chart": "bar",
        "owner": owner,
        **fields,
    }
    return SavedReport.objects.create(**values)


def test_analyst_builds_a_report_in_the_form_and_opens_it(
    analyst, add_events, countries
):
    add_events(3, **recent(src_country="CN"))
    add_events(2, **recent(src_country="RU"))
    add_events(4, **recent(src_country="CN", dst_port=22))
    client = logged_in(analyst)

    saved = client.post(reverse("admin:dashboards_savedreport_add"), TELNET_FORM)
    report = SavedReport.objects.get(owner=analyst)
    page = client.get(report.get_absolute_url())

    assert saved.status_code == 302
    assert report.owner == analyst
    assert report.filter_protocols == ["tcp"]
    assert page.status_code == 200
    figure = json.loads(page.context["figure"] and json.dumps(page.context["figure"]))
    assert [trace["name"] for trace in figure["data"]] == [
        "China (CN)",
        "Russian Federation (RU)",
    ]
    body = page.content.decode()
    assert 'id="figure-report"' in body
    assert "Destination port: 23" in body
    assert "Protocol: tcp" in body
    assert "Last 30 days" in body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dimension_1", 'dst_port") OR 1=1 --'),
        ("dimension_2", "owner__password"),
        ("bucket", "day') FROM auth_user --"),
        ("metric", "Count('id')"),
        ("chart", "line"),  # valid choice, but needs a bucket: refused by clean
        ("filter_ports", "23; DROP TABLE events_event"),
        ("filter_src_networks", "10.0.0.0/8' OR 1=1"),
        ("filter_protocols", "tcp' --"),
    ],
)
def test_admin_form_refuses_values_outside_the_allowlists(analyst, field, value):
    data = {**TELNET_FORM, "bucket": "none", "chart": "bar", field: value}

    response = logged_in(analyst).post(
        reverse("admin:dashboards_savedreport_add"), data
    )

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not SavedReport.objects.filter(owner=analyst).exists()


def test_viewer_opens_shared_reports_only_and_cannot_export_or_create(
    viewer, analyst, add_events
):
    add_events(1, **recent())
    shared = make_report(owner=analyst)
    private = make_report(owner=analyst, name="mine", is_shared=False)
    client = logged_in(viewer)

    assert client.get(shared.get_absolute_url()).status_code == 200
    assert client.get(private.get_absolute_url()).status_code == 404
    export = reverse("dashboards:report_export", args=[shared.pk, "csv"])
    assert client.post(export).status_code == 403
    assert client.get(reverse("admin:dashboards_savedreport_add")).status_code == 403
    change = reverse("admin:dashboards_savedreport_change", args=[shared.pk])
    assert client.post(change, {**TELNET_FORM, "name": "x"}).status_code == 403


def test_analyst_cannot_change_another_analysts_report(analyst, make_user):
    other = make_user("otto", "analyst")
    report = make_report(owner=other)
    change = reverse("admin:dashboards_savedreport_change", args=[report.pk])

    logged_in(analyst).post(change, {**TELNET_FORM, "name": "taken over"})

    report.refresh_from_db()
    assert report.name == "ports"


def test_exports_are_post_only_and_need_the_csrf_token(analyst):
    report = make_report(owner=analyst)
    url = reverse("dashboards:report_export", args=[report.pk, "csv"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)

    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403


def test_exports_escape_formulas_and_keep_counts_numeric(analyst, add_events):
    add_events(3, **recent(interface="=cmd|' /C calc'!A0"))
    add_events(2, **recent(interface="igb1"))
    report = make_report(owner=analyst, dimension_1="interface")
    client = logged_in(analyst)

    def export(kind: str):
        url = reverse("dashboards:report_export", args=[report.pk, kind])
        return client.post(url)

    csv_response = export("csv")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode())))
    sheet = openpyxl.load_workbook(io.BytesIO(export("xlsx").content)).active
    records = json.loads(export("json").content)

    assert "attachment" in csv_response["Content-Disposition"]
    assert rows == [
        ["interface", "events"],
        ["'=cmd|' /C calc'!A0", "3"],
        ["igb1", "2"],
    ]
    assert [cell.value for cell in sheet[2]] == ["'=cmd|' /C calc'!A0", 3]
    assert records[0] == {"interface": "'=cmd|' /C calc'!A0", "events": 3}


def test_cells_link_to_exactly_their_events_in_the_changelist(
    analyst, add_events, countries
):
    add_events(3, **recent(src_country="CN", dst_port=23))
    add_events(2, **recent(src_country="RU", dst_port=23))
    add_events(1, **recent(src_country="RU", dst_port=None, protocol="icmp"))
    add_events(4, **recent(src_country="CN", action="pass"))
    report = make_report(
        owner=analyst,
        dimension_1="src_country",
        dimension_2="dst_port",
        filter_actions=["block"],
        bucket="day",
        chart="stacked",
    )
    client = logged_in(analyst)

    page = client.get(report.get_absolute_url())
    rows = page.context["result"].rows

    assert sorted(row.value for row in rows) == [1, 2, 3]
    for row in rows:
        listing = client.get(row.link)
        assert listing.status_code == 200, row.link
        assert len(listing.context["cl"].result_list) == row.value, row.link


def test_dashboard_page_renders_every_default_panel(analyst, add_events, countries):
    add_events(5, **recent())
    add_events(2, **recent(protocol="udp", dst_port=6881, src_country="RU"))
    dashboard = Dashboard.objects.get(owner=None)

    page = logged_in(analyst).get(dashboard.get_absolute_url())
    one_day = logged_in(analyst).get(dashboard.get_absolute_url(), {"range": "24h"})

    panels = page.context["panels"]
    assert page.status_code == 200
    assert len(panels) == 6
    assert all(panel["error"] is None for panel in panels)
    assert all(panel["figure"] for panel in panels)
    assert page.content.decode().count('class="fwsiem-chart"') == 6
    assert all(
        panel["range_text"].startswith("Last 24 hours")
        for panel in one_day.context["panels"]
    )


def test_dashboard_hides_private_panels_of_other_users(viewer, analyst):
    private = make_report(owner=analyst, is_shared=False, name="secret ports")
    dashboard = Dashboard.objects.create(name="mixed", is_shared=True, owner=analyst)
    dashboard.panels.create(report=private, position=1)

    page = logged_in(viewer).get(dashboard.get_absolute_url())

    assert page.status_code == 200
    assert page.context["panels"][0]["error"] == "This report is private."
    assert page.context["panels"][0].get("result") is None
    assert "secret ports" not in page.content.decode()


def test_data_from_the_network_is_escaped_in_the_page_and_chart(analyst, add_events):
    hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    add_events(2, **recent(interface=hostile))
    report = make_report(owner=analyst, dimension_1="interface")

    page = logged_in(analyst).get(report.get_absolute_url())

    body = page.content.decode()
    assert "<script>alert(2)" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert(2)" in body  # the table cell
    # Plotly reads a few tags inside labels; they reach it escaped, inside
    # json_script (which escapes &, < and >).
    assert page.context["figure"]["data"][0]["x"] == [
        '"&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;'
    ]
    assert "\\u0026lt;script\\u0026gt;" in body


@override_settings(REPORT_TIME_LIMIT=0)
def test_a_timed_out_report_says_so_on_its_page(analyst, add_events):
    add_events(1, **recent())
    report = make_report(owner=analyst)

    page = logged_in(analyst).get(report.get_absolute_url())

    assert page.status_code == 200
    assert "took longer than 0 s and was stopped" in page.content.decode()


def test_a_tampered_definition_is_refused_before_querying_events(analyst):
    report = make_report(owner=analyst)
    SavedReport.objects.filter(pk=report.pk).update(dimension_1="owner__password")
    client = logged_in(analyst)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(report.get_absolute_url())

    assert "definition is not valid" in page.content.decode()
    assert page.context["result"] is None
    assert not [q for q in queries if "events_event" in q["sql"]]


def test_report_page_follows_the_browser_language(analyst, add_events, countries):
    add_events(2, **recent(src_country="CN"))
    report = make_report(owner=analyst, dimension_1="src_country")

    page = logged_in(analyst).get(report.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ja")

    body = page.content.decode()
    assert "中国 (CN)" in body
    assert "直近 7 日間" in body
    assert "送信元の国" in body


@override_settings(DASHBOARD_TIME_LIMIT=0)
def test_dashboard_panels_share_one_time_budget(analyst, add_events):
    add_events(1, **recent())
    dashboard = Dashboard.objects.get(owner=None)

    page = logged_in(analyst).get(dashboard.get_absolute_url())

    assert page.status_code == 200
    assert all(
        panel["error"].startswith("Not computed") for panel in page.context["panels"]
    )


def event_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "events_event" in q["sql"]]


@pytest.mark.parametrize("kind", ["report", "dashboard"])
def test_a_page_opened_from_another_site_runs_nothing_until_confirmed(
    analyst, add_events, kind
):
    add_events(3, **recent())
    page = make_report(owner=analyst, is_shared=True)
    if kind == "dashboard":
        page = Dashboard.objects.get(owner=None)
    url = page.get_absolute_url()
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)

    with CaptureQueriesContext(connection) as foreign:
        asked = client.get(url, headers={"Sec-Fetch-Site": "cross-site"})
    forged = client.post(url)
    token = asked.context["csrf_token"]
    with CaptureQueriesContext(connection) as confirmed:
        ran = client.post(url, {"csrfmiddlewaretoken": str(token)})
    with CaptureQueriesContext(connection) as own:
        inside = client.get(url, headers={"Sec-Fetch-Site": "same-origin"})

    assert asked.status_code == 200
    assert "another site" in asked.content.decode()
    assert event_queries(foreign) == []
    assert forged.status_code == 403
    assert ran.status_code == inside.status_code == 200
    assert event_queries(confirmed) and event_queries(own)
